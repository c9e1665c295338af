using MicroApps.Orleans.Alerts;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.UnitTests.Alerts;

public sealed class AlertOptionsValidatorTests
{
    private static ValidateOptionsResult Validate(AlertOptions options)
    {
        var catalog = new ModelCatalogOptions();
        catalog.Tiers["local"] = new ModelTierOptions();
        catalog.Tiers["standard"] = new ModelTierOptions();
        return new AlertOptionsValidator(Options.Create(catalog)).Validate(null, options);
    }

    [Fact]
    public void The_defaults_are_valid_and_alert_at_60_80_and_100_percent()
    {
        var options = new AlertOptions();

        Assert.True(Validate(options).Succeeded);
        Assert.Equal([0.6m, 0.8m, 1.0m], options.EffectiveDefaultThresholds.ToArray());
        Assert.Equal("local", options.EffectiveDegradeTier);
        Assert.False(options.Smtp.Enabled);
    }

    [Theory]
    [InlineData(new[] { 0.5, 1.2 }, "(0, 1]")]
    [InlineData(new[] { 0.0 }, "(0, 1]")]
    [InlineData(new[] { 0.5, 0.5 }, "distinct")]
    public void Bad_default_thresholds_stop_the_host(double[] thresholds, string expected)
    {
        var result = Validate(new AlertOptions { DefaultThresholds = [.. thresholds.Select(t => (decimal)t)] });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Alerts:DefaultThresholds", StringComparison.Ordinal) && f.Contains(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void A_degrade_tier_that_is_not_configured_stops_the_host()
    {
        var result = Validate(new AlertOptions { DegradeTier = "bargain" });

        Assert.Contains(result.Failures!, f => f.Contains("Alerts:DegradeTier 'bargain'", StringComparison.Ordinal));
        Assert.True(Validate(new AlertOptions { DegradeTier = "Standard" }).Succeeded);
    }

    [Fact]
    public void Smtp_needs_a_valid_sender_and_both_credentials_once_a_host_is_set()
    {
        var options = new AlertOptions();
        options.Smtp.Host = "smtp.example.com";
        options.Smtp.From = "not an address";
        options.Smtp.UserName = "alerts";
        options.Smtp.Port = 0;

        var failures = Validate(options).Failures!.ToList();

        Assert.Contains(failures, f => f.StartsWith("Alerts:Smtp:From", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.Contains("UserName and Alerts:Smtp:Password", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Alerts:Smtp:Port", StringComparison.Ordinal));
    }

    [Fact]
    public void Retry_settings_are_checked_per_channel()
    {
        var options = new AlertOptions();
        options.Webhook.MaxAttempts = 0;
        options.Webhook.BaseDelay = TimeSpan.Zero;
        options.Smtp.MaxDelay = TimeSpan.FromMilliseconds(1);

        var failures = Validate(options).Failures!.ToList();

        Assert.Contains(failures, f => f.StartsWith("Alerts:Webhook:MaxAttempts", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Alerts:Webhook:BaseDelay", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Alerts:Smtp:MaxDelay", StringComparison.Ordinal));
    }
}
