using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.UnitTests.Savings;

public sealed class QualityEstimatorTests
{
    [Fact]
    public void The_estimate_is_the_mean_of_every_observation_across_sources()
    {
        var estimate = QualityEstimator.Estimate("m", new Dictionary<string, QualitySums>
        {
            [QualitySources.Shadow] = new() { Sum = 9, Count = 10 },
            [QualitySources.Feedback] = new() { Sum = 0, Count = 2 },
        });

        Assert.Equal(0.75, estimate.Score);
        Assert.Equal(12, estimate.Samples);
        Assert.Equal(10, estimate.SamplesBySource[QualitySources.Shadow]);
        Assert.Equal(2, estimate.SamplesBySource[QualitySources.Feedback]);
    }

    [Theory]
    [InlineData(-0.5, 0)]
    [InlineData(1.7, 1)]
    [InlineData(0.42, 0.42)]
    [InlineData(double.PositiveInfinity, 1)]
    public void Scores_are_clamped_to_zero_to_one(double score, double expected)
    {
        Assert.Equal(expected, QualityEstimator.Clamp(score));
    }

    [Fact]
    public void NaN_is_not_a_score()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => QualityEstimator.Clamp(double.NaN));
    }

    [Fact]
    public void The_routing_draw_is_deterministic_per_request_and_spread_over_zero_to_one()
    {
        var draws = Enumerable.Range(0, 2_000).Select(i => CostAwareRouteStep.Draw("app", $"r{i}")).ToArray();

        Assert.Equal(CostAwareRouteStep.Draw("app", "r7"), draws[7]);
        Assert.NotEqual(CostAwareRouteStep.Draw("other", "r7"), draws[7]);
        Assert.All(draws, d => Assert.InRange(d, 0, 0.9999999999));
        var belowHalf = draws.Count(d => d < 0.5) / (double)draws.Length;
        Assert.InRange(belowHalf, 0.45, 0.55);
    }
}
