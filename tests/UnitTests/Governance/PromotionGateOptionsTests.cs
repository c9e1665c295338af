using MicroApps.Orleans.Governance;

namespace MicroApps.Orleans.UnitTests.Governance;

public sealed class PromotionGateOptionsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        Assert.True(new PromotionGateOptionsValidator().Validate(null, new PromotionGateOptions()).Succeeded);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(65)]
    public void A_regression_test_parallelism_out_of_range_is_named(int parallelism)
    {
        var result = new PromotionGateOptionsValidator().Validate(null, new PromotionGateOptions { RegressionTestParallelism = parallelism });

        Assert.True(result.Failed);
        Assert.Contains("Governance:RegressionTestParallelism", result.FailureMessage);
    }
}
