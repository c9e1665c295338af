using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Caching;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.UnitTests.Caching;

public sealed class NearDuplicateSketcherTests
{
    private static double Similarity(string a, string b) =>
        NearDuplicateSketcher.Similarity(NearDuplicateSketcher.Sketch(a), NearDuplicateSketcher.Sketch(b));

    [Fact]
    public void Case_punctuation_whitespace_and_filler_words_do_not_matter()
    {
        Assert.Equal(1.0, Similarity("How do I reset my password?", "  how can i RESET my password please!!  "));
        Assert.Equal(NearDuplicateSketcher.Normalise("What's the capital of France?"), NearDuplicateSketcher.Normalise("what is the capital of france"));
    }

    [Theory]
    [InlineData("Convert 100 USD to EUR", "Convert 200 USD to EUR")]
    [InlineData("What is 3.5 times 2?", "What is 35 times 2?")]
    [InlineData("Calculate 5 + 3", "Calculate 5 - 3")]
    [InlineData("Is the garage open on Sundays?", "Is the garage not open on Sundays?")]
    [InlineData("I would recommend this hotel", "I wouldn't recommend this hotel")]
    [InlineData("Flights from London to Paris", "Flights from Paris to London")]
    [InlineData("What is the capital of France?", "What is the capital of Spain?")]
    [InlineData("Who is the CEO of Contoso?", "Who was the CEO of Contoso?")]
    public void Requests_that_differ_in_a_number_a_negation_an_entity_or_their_order_never_match(string a, string b)
    {
        Assert.Equal(0, Similarity(a, b));
    }

    [Fact]
    public void Minor_words_lower_the_similarity_without_making_it_zero()
    {
        var similarity = Similarity("Summarise the report of the board", "Summarise the report by the board");

        Assert.InRange(similarity, 0.2, 0.95);
    }

    [Fact]
    public void A_text_of_filler_only_is_never_comparable()
    {
        Assert.False(NearDuplicateSketcher.Sketch("hi!").IsComparable);
        Assert.Equal(0, Similarity("hello", "thanks!"));
    }

    [Fact]
    public void Turn_boundaries_are_part_of_the_content()
    {
        var joined = NearDuplicateSketcher.Sketch(["reset password"]);
        var split = NearDuplicateSketcher.Sketch(["reset", "password"]);

        Assert.NotEqual(joined.ContentKey, split.ContentKey);
    }

    [Fact]
    public void Sketches_are_stable_across_processes()
    {
        // Fixed hash seeds: silos compare sketches made elsewhere, so the same text must give the same sketch everywhere.
        var sketch = NearDuplicateSketcher.Sketch("How do I reset my password?");

        Assert.Equal(NearDuplicateSketcher.SignatureLength, sketch.Signature.Length);
        Assert.Equal(sketch.Signature, NearDuplicateSketcher.Sketch("how do i reset my password").Signature);
        Assert.Equal(-1, Array.IndexOf(sketch.Signature, uint.MaxValue));
    }

    private static AppProfile App(IReadOnlyList<string> dataClasses, NearDuplicateSettings? near = null) =>
        new("app", "team", Audience.Internal, dataClasses, ["standard"], "standard", "app:app", "v1",
            Savings: near is null ? null : new SavingsSettings(NearDuplicate: near));

    [Fact]
    public void Near_duplicates_are_on_by_default_only_for_apps_that_declare_no_pii()
    {
        var options = new NearDuplicateOptions { DefaultThreshold = 0.8 };

        Assert.Equal(0.8, NearDuplicatePolicy.ThresholdFor(App(["public", "internal"]), [], options));
        Assert.Null(NearDuplicatePolicy.ThresholdFor(App(["email"]), [], options));
        Assert.Null(NearDuplicatePolicy.ThresholdFor(App(["Card_Number"]), null, options));
    }

    [Fact]
    public void The_app_setting_wins_but_never_for_a_request_with_pii_or_when_the_platform_switch_is_off()
    {
        var options = new NearDuplicateOptions { DefaultThreshold = 0.8 };

        Assert.Equal(0.95, NearDuplicatePolicy.ThresholdFor(App(["email"], new NearDuplicateSettings(true, 0.95)), [], options));
        Assert.Equal(0.8, NearDuplicatePolicy.ThresholdFor(App(["ssn"], new NearDuplicateSettings(true)), [], options));
        Assert.Null(NearDuplicatePolicy.ThresholdFor(App([], new NearDuplicateSettings(false)), [], options));
        Assert.Null(NearDuplicatePolicy.ThresholdFor(App([], new NearDuplicateSettings(true)), ["phone"], options));
        Assert.Null(NearDuplicatePolicy.ThresholdFor(App([]), [], new NearDuplicateOptions { Enabled = false }));
    }

    [Fact]
    public void The_context_key_ignores_the_conversation_text_but_not_the_system_prompt_parameters_or_app()
    {
        ChatTurn[] Messages(string system, string user) => [new("system", system), new("user", user)];
        var parameters = new ChatParameters(null, null, 64, null, null);
        var key = NearDuplicatePolicy.ContextKey("app", "tier:standard", Messages("Be brief.", "reset password"), parameters, "v1");

        Assert.Equal(key, NearDuplicatePolicy.ContextKey("app", "tier:standard", Messages("Be brief.", "how do I reset my password"), parameters, "v1"));
        Assert.NotEqual(key, NearDuplicatePolicy.ContextKey("other", "tier:standard", Messages("Be brief.", "reset password"), parameters, "v1"));
        Assert.NotEqual(key, NearDuplicatePolicy.ContextKey("app", "tier:standard", Messages("Be verbose.", "reset password"), parameters, "v1"));
        Assert.NotEqual(key, NearDuplicatePolicy.ContextKey("app", "tier:premium", Messages("Be brief.", "reset password"), parameters, "v1"));
        Assert.NotEqual(key, NearDuplicatePolicy.ContextKey("app", "tier:standard", Messages("Be brief.", "reset password"), parameters with { MaxTokens = 65 }, "v1"));
        Assert.NotEqual(key, NearDuplicatePolicy.ContextKey("app", "tier:standard", Messages("Be brief.", "reset password"), parameters, "v2"));
    }

    [Theory]
    [InlineData(0, 1000)]
    [InlineData(1.5, 1000)]
    [InlineData(0.8, 0)]
    public void Invalid_options_are_refused_with_the_key_named(double threshold, int maxEntries)
    {
        var result = new NearDuplicateOptionsValidator().Validate(null, new NearDuplicateOptions { DefaultThreshold = threshold, MaxEntriesPerApp = maxEntries });

        Assert.True(result.Failed);
        Assert.Contains("Savings:NearDuplicate:", result.FailureMessage);
    }

    [Fact]
    public void A_single_flight_wait_beyond_the_grain_call_timeout_is_refused()
    {
        Assert.True(new SingleFlightOptionsValidator().Validate(null, new SingleFlightOptions { MaxWait = TimeSpan.FromMinutes(1) }).Failed);
        Assert.True(new SingleFlightOptionsValidator().Validate(null, new SingleFlightOptions { MaxWait = TimeSpan.Zero }).Failed);
        Assert.True(new SingleFlightOptionsValidator().Validate(null, new SingleFlightOptions()).Succeeded);
    }
}
