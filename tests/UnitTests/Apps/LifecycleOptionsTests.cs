using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.UnitTests.Apps;

public sealed class LifecycleOptionsTests
{
    [Fact]
    public void The_defaults_are_valid()
    {
        var options = new LifecycleOptions();

        Assert.True(new LifecycleOptionsValidator().Validate(null, options).Succeeded);
        Assert.Equal(new AppQuotas(10, 20_000), options.TestQuotas.ToQuotas());
        Assert.Equal(new AppQuotas(30, 100_000), options.AutoApprovedQuotas.ToQuotas());
        Assert.Equal(0.1, options.DefaultCanaryShare);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void A_canary_share_out_of_range_is_named(double share)
    {
        var result = new LifecycleOptionsValidator().Validate(null, new LifecycleOptions { DefaultCanaryShare = share });

        Assert.True(result.Failed);
        Assert.Contains("Lifecycle:DefaultCanaryShare", result.FailureMessage);
    }

    [Fact]
    public void Negative_quotas_are_named()
    {
        var options = new LifecycleOptions { TestQuotas = new QuotaSettings { RequestsPerMinute = -1, TokensPerDay = 5 } };

        var result = new LifecycleOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Lifecycle:TestQuotas:RequestsPerMinute", result.FailureMessage);
    }
}
