using MicroApps.Orleans.Savings;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.UnitTests.Savings;

public sealed class SavingsRoutingOptionsTests
{
    private static IServiceProvider Services(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddMicroAppsGrains(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        return services.BuildServiceProvider();
    }

    [Fact]
    public void The_defaults_are_twenty_observations_a_one_second_cache_premium_sampled_to_standard()
    {
        var provider = Services([]);
        var routing = provider.GetRequiredService<IOptions<SavingsRoutingOptions>>().Value;
        var sampling = provider.GetRequiredService<IOptions<SavingsRoutingSamplingOptions>>().Value;

        Assert.Equal(20, routing.MinEvidence);
        Assert.Equal(TimeSpan.FromSeconds(1), routing.QualityCacheDuration);
        Assert.Equal(["premium"], sampling.EffectivePremiumTiers);
        Assert.Equal("standard", sampling.EffectiveFallbackTier);
    }

    [Fact]
    public void Configured_sampling_tiers_replace_the_defaults()
    {
        var sampling = Services(new()
        {
            ["Savings:Sampling:PremiumTiers:0"] = "gold",
            ["Savings:Sampling:PremiumTiers:1"] = "platinum",
            ["Savings:Sampling:FallbackTier"] = "silver",
        }).GetRequiredService<IOptions<SavingsRoutingSamplingOptions>>().Value;

        Assert.Equal(["gold", "platinum"], sampling.EffectivePremiumTiers);
        Assert.Equal("silver", sampling.EffectiveFallbackTier);
    }

    [Theory]
    [InlineData("Savings:Routing:MinEvidence", "0", "Savings:Routing:MinEvidence must be at least 1")]
    [InlineData("Savings:Routing:QualityCacheDuration", "-00:00:01", "Savings:Routing:QualityCacheDuration must not be negative")]
    public void A_bad_setting_is_refused_with_a_line_naming_the_key(string key, string value, string message)
    {
        var provider = Services(new() { [key] = value });

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<SavingsRoutingOptions>>().Value);
        Assert.Contains(message, error.Message);
    }
}
