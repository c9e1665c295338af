using MicroApps.Orleans.Savings;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.UnitTests.Savings;

public sealed class SamplingAndShadowOptionsTests
{
    private static ValidateOptionsResult Validate(SamplingOptions options) => new SamplingOptionsValidator().Validate(null, options);

    private static ValidateOptionsResult Validate(ShadowOptions options, JudgeOptions? judge = null) =>
        new ShadowOptionsValidator(Options.Create(judge ?? new JudgeOptions())).Validate(null, options);

    [Fact]
    public void The_sampling_defaults_are_valid_and_sample_the_premium_tier()
    {
        var options = new SamplingOptions();

        Assert.True(Validate(options).Succeeded);
        Assert.Equal(TimeSpan.FromSeconds(15), options.AdjustEvery);
        Assert.Equal(["premium"], options.EffectivePremiumTiers);
        Assert.True(options.IsPremiumTier("Premium"));
        Assert.False(options.IsPremiumTier("standard"));
        Assert.Equal("standard", options.FallbackTier);
    }

    [Theory]
    [InlineData("AdjustEvery")]
    [InlineData("Tolerance")]
    [InlineData("DecreaseFactor")]
    [InlineData("IncreaseStep")]
    [InlineData("FallbackTier")]
    public void A_wrong_sampling_setting_is_named(string setting)
    {
        var options = setting switch
        {
            "AdjustEvery" => new SamplingOptions { AdjustEvery = TimeSpan.Zero },
            "Tolerance" => new SamplingOptions { Tolerance = 1.5 },
            "DecreaseFactor" => new SamplingOptions { DecreaseFactor = 1 },
            "IncreaseStep" => new SamplingOptions { IncreaseStep = 0 },
            _ => new SamplingOptions { FallbackTier = "premium" },
        };

        var result = Validate(options);

        Assert.True(result.Failed);
        Assert.Contains($"Savings:Sampling:{setting}", result.FailureMessage);
    }

    [Fact]
    public void The_shadow_defaults_are_valid_and_off()
    {
        var options = new ShadowOptions();

        Assert.True(Validate(options).Succeeded);
        Assert.Equal(0, options.Share);
        Assert.Equal("platform:shadow", options.BudgetId);
        Assert.Equal(2, options.MaxConcurrent);
    }

    [Fact]
    public void A_shadow_share_outside_0_to_1_and_no_concurrency_are_refused()
    {
        var result = Validate(new ShadowOptions { Share = 1.5, MaxConcurrent = 0 });

        Assert.Contains("Savings:Shadow:Share", result.FailureMessage);
        Assert.Contains("Savings:Shadow:MaxConcurrent", result.FailureMessage);
    }

    [Fact]
    public void An_unknown_scorer_or_query_type_is_named()
    {
        var options = new ShadowOptions();
        options.Scorers["summarise"] = "vibes";
        options.Scorers["poetry"] = "overlap";

        var result = Validate(options);

        Assert.Contains("Savings:Shadow:Scorers:summarise must be 'overlap' or 'judge'", result.FailureMessage);
        Assert.Contains("Savings:Shadow:Scorers:poetry names no query type", result.FailureMessage);
    }

    [Fact]
    public void The_judge_scorer_needs_a_judge_key_and_model_when_shadows_run()
    {
        var options = new ShadowOptions { Share = 0.1 };
        options.Scorers["summarise"] = "judge";

        var missing = Validate(options);
        var configured = Validate(options, new JudgeOptions { ApiKey = "mak.judge-app.k1.secret", Model = "premium" });

        Assert.Contains("Savings:Judge:ApiKey", missing.FailureMessage);
        Assert.Contains("Savings:Judge:Model", missing.FailureMessage);
        Assert.True(configured.Succeeded, configured.FailureMessage);
    }
}
