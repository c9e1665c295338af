using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Runtime;
using MicroApps.Orleans.Tokens;

namespace MicroApps.Orleans.UnitTests.Runtime;

public sealed class SummaryPlannerTests
{
    private static readonly TokenEstimator Tokens = TokenEstimator.Default;

    private static string Paragraph(int n, int sentences = 6) =>
        string.Join(" ", Enumerable.Range(1, sentences).Select(i => $"Paragraph {n} sentence {i} says the quarterly figures for region {n} moved by {i * 3} percent."));

    private static string Document(int paragraphs, int sentences = 6) =>
        string.Join("\n\n", Enumerable.Range(1, paragraphs).Select(p => Paragraph(p, sentences)));

    [Fact]
    public void An_input_that_fits_a_chunk_is_one_call()
    {
        var plan = SummaryPlanner.Plan("A short note about the meeting.", "Summarise.", 1500, 300, Tokens);

        Assert.Single(plan.Parts);
        Assert.Empty(plan.CombineRounds);
        Assert.Equal(1, plan.Steps);
        Assert.True(plan.EstimatedTokens >= 300 + Tokens.CountText("A short note about the meeting."));
    }

    [Fact]
    public void A_long_input_is_split_into_parts_within_the_chunk_then_combined_once()
    {
        var text = Document(6);
        var plan = SummaryPlanner.Plan(text, "Summarise.", 200, 30, Tokens);

        Assert.True(plan.Parts.Count > 1);
        Assert.All(plan.Parts, part => Assert.True(Tokens.CountText(part) <= 200, $"a part has {Tokens.CountText(part)} tokens"));
        Assert.Equal(plan.Parts.Count + 1, plan.Steps);
        Assert.Equal([plan.Parts.Count], Assert.Single(plan.CombineRounds));
        Assert.Equal(Tokens.CountText(text), plan.InputTokens);

        // Nothing is lost or reordered: every sentence appears once, in order.
        var joined = string.Join(" ", plan.Parts);
        var positions = Enumerable.Range(1, 6).Select(p => joined.IndexOf($"Paragraph {p} sentence 1 ", StringComparison.Ordinal)).ToList();
        Assert.DoesNotContain(-1, positions);
        Assert.Equal(positions.Order(), positions);
    }

    [Fact]
    public void Paragraphs_are_kept_whole_when_they_fit()
    {
        var text = Document(4, sentences: 2);
        var paragraphTokens = Tokens.CountText(Paragraph(1, 2));
        var plan = SummaryPlanner.Plan(text, "Summarise.", paragraphTokens + 5, 20, Tokens);

        Assert.Equal(4, plan.Parts.Count);
        Assert.All(plan.Parts, part => Assert.DoesNotContain("\n", part));
        Assert.StartsWith("Paragraph 2 sentence 1", plan.Parts[1]);
    }

    [Fact]
    public void A_paragraph_longer_than_a_chunk_is_cut_at_sentences()
    {
        var text = Paragraph(1, sentences: 12);
        var plan = SummaryPlanner.Plan(text, "Summarise.", 60, 20, Tokens);

        Assert.True(plan.Parts.Count > 1);
        Assert.All(plan.Parts, part => Assert.EndsWith("percent.", part));
    }

    [Fact]
    public void Many_part_summaries_are_combined_in_rounds_of_what_fits_a_chunk()
    {
        var text = Document(30, sentences: 3);
        var plan = SummaryPlanner.Plan(text, "Summarise.", 100, 40, Tokens);

        // 100 / (40 + 2) = 2 summaries per combine call: rounds halve the count until one is left.
        Assert.True(plan.CombineRounds.Count > 1);
        Assert.All(plan.CombineRounds, round => Assert.All(round, group => Assert.InRange(group, 1, 2)));
        Assert.Single(plan.CombineRounds[^1]);
        Assert.Equal(plan.Parts.Count, plan.CombineRounds[0].Sum());
        Assert.Equal(plan.Parts.Count + plan.CombineRounds.Sum(r => r.Count), plan.Steps);
    }

    [Fact]
    public void A_shared_prompt_overhead_is_counted_in_every_call()
    {
        var text = Document(6);
        var without = SummaryPlanner.Plan(text, "Summarise.", 200, 30, Tokens);
        var with = SummaryPlanner.Plan(text, "Summarise.", 200, 30, Tokens, promptOverhead: 50);

        Assert.Equal(without.EstimatedTokens + 50L * without.Steps, with.EstimatedTokens);
    }
}

public sealed class HistoryTrimmerTests
{
    [Fact]
    public void Nothing_is_dropped_when_everything_fits()
    {
        Assert.Equal(0, HistoryTrimmer.MessagesToDrop([10, 10, 10], fixedTokens: 50, budget: 80));
    }

    [Fact]
    public void The_oldest_messages_are_dropped_first_until_the_turn_fits()
    {
        // 50 fixed + 40 + 30 + 20 + 10 = 150; the budget of 90 keeps the newest 20 + 10 (80) only.
        Assert.Equal(2, HistoryTrimmer.MessagesToDrop([40, 30, 20, 10], fixedTokens: 50, budget: 90));
    }

    [Fact]
    public void Every_message_is_dropped_when_only_the_new_one_fits()
    {
        Assert.Equal(3, HistoryTrimmer.MessagesToDrop([10, 10, 10], fixedTokens: 80, budget: 85));
    }

    [Fact]
    public void A_turn_that_cannot_fit_even_alone_is_refused()
    {
        Assert.Null(HistoryTrimmer.MessagesToDrop([10], fixedTokens: 101, budget: 100));
    }

    [Fact]
    public void The_budget_is_the_smallest_positive_limit()
    {
        Assert.Equal(3000, HistoryTrimmer.Budget(3000, 128_000, 8000));
        Assert.Equal(2048, HistoryTrimmer.Budget(3000, 2048, 8000));
        Assert.Equal(3000, HistoryTrimmer.Budget(3000, 0, 8000));
    }
}

public sealed class RuntimeOptionsTests
{
    [Fact]
    public void Manifest_limits_are_capped_by_the_platform()
    {
        var options = new RuntimeOptions { MaxTokensPerRun = 1000, MaxStepsPerRun = 5, MaxSecondsPerRun = 30 };

        Assert.Equal(new RunLimits(1000, 3, 30), options.Cap(new RunLimits(50_000, 3, 600)));
    }

    [Fact]
    public void Out_of_range_caps_stop_the_host_naming_the_setting()
    {
        var result = new RuntimeOptionsValidator().Validate(null, new RuntimeOptions { MaxStepsPerRun = 0, Conversation = new() { MaxMessages = 1 } });

        Assert.True(result.Failed);
        Assert.Contains("Runtime:MaxStepsPerRun", result.FailureMessage);
        Assert.Contains("Runtime:Conversation:MaxMessages", result.FailureMessage);
        Assert.False(new RuntimeOptionsValidator().Validate(null, new RuntimeOptions()).Failed);
    }

    [Fact]
    public void Prompt_placeholders_are_filled_from_the_parameters()
    {
        var text = CatalogComponents.Fill("Speak as {{ brand }} to {{audience}}; {{missing}}.", new Dictionary<string, string> { ["brand"] = "Contoso", ["audience"] = "staff" });

        Assert.Equal("Speak as Contoso to staff; .", text);
    }
}
