using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.UnitTests.Savings;

public sealed class ShadowScorerTests
{
    [Fact]
    public void Identical_summaries_score_1_and_disjoint_ones_0()
    {
        Assert.Equal(1d, OverlapScorer.Score(QueryTypes.Summarise, "The invoice backlog grew.", "the INVOICE backlog grew"));
        Assert.Equal(0d, OverlapScorer.Score(QueryTypes.Summarise, "The invoice backlog grew.", "Lunch was served at noon"));
    }

    [Fact]
    public void Token_f1_weighs_precision_and_recall()
    {
        // Reference {a b c d}, candidate {a b e}: precision 2/3, recall 2/4, F1 = 4/7.
        Assert.Equal(4d / 7d, OverlapScorer.TokenF1("a b c d", "a b e"), 10);
        Assert.Equal(1d, OverlapScorer.TokenF1("", "  "));
        Assert.Equal(0d, OverlapScorer.TokenF1("something", ""));
    }

    [Fact]
    public void Classification_is_an_exact_label_match_ignoring_case_and_punctuation()
    {
        Assert.Equal(1d, OverlapScorer.Score(QueryTypes.Classify, "Billing", " billing.\n"));
        Assert.Equal(1d, OverlapScorer.Score(QueryTypes.Classify, "\"Technical support\"", "technical   support"));
        Assert.Equal(0d, OverlapScorer.Score(QueryTypes.Classify, "billing", "billing dispute"));
    }

    [Fact]
    public void Extraction_scores_agreement_of_every_json_leaf()
    {
        const string reference = """{"name": "Ada Lovelace", "amount": 12.50, "items": ["pen", "ink"]}""";

        Assert.Equal(1d, OverlapScorer.Score(QueryTypes.Extract, reference, "```json\n{\"amount\": 12.5, \"Name\": \"ada  lovelace\", \"items\": [\"pen\", \"ink\"]}\n```"));

        // 4 leaves in both; the amount differs: 3 of 4 agree.
        Assert.Equal(0.75, OverlapScorer.Score(QueryTypes.Extract, reference, """Here you go: {"name": "Ada Lovelace", "amount": 13, "items": ["pen", "ink"]}"""));

        // A missing key and an extra key: union of 5 paths, 3 agree.
        Assert.Equal(0.6, OverlapScorer.Score(QueryTypes.Extract, reference, """{"name": "Ada Lovelace", "items": ["pen", "ink"], "currency": "EUR"}"""));
    }

    [Fact]
    public void Extraction_without_json_in_the_candidate_scores_0_and_without_json_in_the_reference_falls_back_to_words()
    {
        Assert.Equal(0d, OverlapScorer.Score(QueryTypes.Extract, """{"name": "Ada"}""", "name is Ada"));
        Assert.Equal(1d, OverlapScorer.Score(QueryTypes.Extract, "name: Ada", "Name: ada"));
    }

    [Fact]
    public async Task The_overlap_scorer_scores_the_candidate_against_the_reference()
    {
        var comparison = new ShadowComparison(QueryTypes.Classify, [new ChatTurn("user", "classify this")], "big", "refund", "small", "Refund!", "shadow/a/r");

        Assert.Equal(1d, await new OverlapScorer().ScoreAsync(comparison, CancellationToken.None));
        Assert.Equal(0d, await new OverlapScorer().ScoreAsync(comparison with { CandidateAnswer = "complaint" }, CancellationToken.None));
    }

    [Theory]
    [InlineData("7", 7d)]
    [InlineData("Score: 8", 8d)]
    [InlineData("I'd say 6.5/10 overall", 6.5)]
    [InlineData("8 / 10", 8d)]
    [InlineData("0", 0d)]
    [InlineData("10", 10d)]
    [InlineData("the candidate answer ends with 3", 3d)]
    public void The_judge_score_is_read_from_the_answer(string answer, double expected)
    {
        Assert.Equal(expected, JudgeScorer.ParseScore(answer));
    }

    [Theory]
    [InlineData("")]
    [InlineData("excellent")]
    [InlineData("42")]
    [InlineData("-")]
    public void A_judge_answer_without_a_score_from_0_to_10_is_no_score(string answer)
    {
        Assert.Null(JudgeScorer.ParseScore(answer));
    }

    [Fact]
    public void The_judge_prompt_quotes_request_and_answers_with_the_candidate_last()
    {
        var comparison = new ShadowComparison(QueryTypes.Summarise, [new ChatTurn("system", "be brief"), new ChatTurn("user", "summarise the memo")],
            "big", "the reference text", "small", "the candidate text 4", "shadow/a/r");

        var prompt = JudgeScorer.Prompt(comparison);
        var user = prompt[^1].Content;

        Assert.Equal("user", prompt[^1].Role);
        Assert.Contains("summarise the memo", user);
        Assert.Contains("REFERENCE ANSWER:\nthe reference text", user);
        Assert.EndsWith("CANDIDATE ANSWER:\nthe candidate text 4", user);
        Assert.DoesNotContain("be brief", user);
    }

    [Fact]
    public void The_judge_request_id_is_stable_per_evaluation_and_short()
    {
        var a = JudgeScorer.RequestId("shadow/app/req-1");

        Assert.Equal(a, JudgeScorer.RequestId("shadow/app/req-1"));
        Assert.NotEqual(a, JudgeScorer.RequestId("shadow/app/req-2"));
        Assert.True(a.Length <= ChatRequestRules.MaxRequestIdLength);
    }

    [Fact]
    public void Scorers_are_chosen_per_query_type_with_overlap_by_default()
    {
        var options = new ShadowOptions();
        options.Scorers["summarise"] = "judge";
        var judge = new JudgeScorer(null!, Options.Create(new JudgeOptions()), Microsoft.Extensions.Logging.Abstractions.NullLogger<JudgeScorer>.Instance);
        var scorers = new ShadowScorers([new OverlapScorer(), judge], Options.Create(options));

        Assert.Same(judge, scorers.For("Summarise"));
        Assert.IsType<OverlapScorer>(scorers.For(QueryTypes.Extract));
    }
}
