using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.UnitTests.Savings;

public sealed class ShadowSelectionTests
{
    [Fact]
    public void The_pick_is_stable_per_app_and_request()
    {
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(ShadowEvaluator.IsPicked("app-a", $"r{i}", 0.3), ShadowEvaluator.IsPicked("app-a", $"r{i}", 0.3));
        }
    }

    [Fact]
    public void The_share_of_picked_calls_follows_the_configured_share()
    {
        var picked = Enumerable.Range(0, 10_000).Count(i => ShadowEvaluator.IsPicked("app-a", $"req-{i}", 0.1));

        Assert.InRange(picked, 850, 1150);
        Assert.False(ShadowEvaluator.IsPicked("app-a", "req-1", 0));
        Assert.True(ShadowEvaluator.IsPicked("app-a", "req-1", 1));
    }

    [Fact]
    public void The_evaluation_id_names_app_and_request()
    {
        Assert.Equal("shadow/app-a/req-1", ShadowEvaluator.EvaluationId("app-a", "req-1"));
    }
}
