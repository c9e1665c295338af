using MicroApps.Orleans.Pii;
using Xunit.Abstractions;

namespace MicroApps.Orleans.UnitTests.Pii;

public sealed class PiiCorpusTests(ITestOutputHelper output)
{
    private static readonly string CorpusPath = Path.Combine(AppContext.BaseDirectory, "Pii", "pii-corpus.tsv");

    // Written without reading the scanner, its tests, the corpus above or docs/pii.md, and never used to tune the
    // scanner; its thresholds are looser because its examples were not seen while the scanner was written.
    private static readonly string HeldOutPath = Path.Combine(AppContext.BaseDirectory, "Pii", "pii-heldout.tsv");

    [Fact]
    public void Scanner_meets_precision_and_recall_targets_on_the_annotated_corpus()
    {
        var score = ScoreAndPrint(CorpusPath, "corpus");

        // The corpus must stay big enough for the figures to mean something.
        Assert.True(score.Overall.Expected >= 150, $"only {score.Overall.Expected} annotated values");
        Assert.True(score.NegativeLines >= 150, $"only {score.NegativeLines} negative lines");
        Assert.All(PiiClasses.All, c => Assert.True(score.Classes.Single(s => s.Class == c).Expected >= 10, $"fewer than 10 {c} examples"));

        Assert.Empty(score.NegativeLineFalsePositives);
        Assert.True(score.Overall.Precision >= 0.98, $"precision {score.Overall.Precision:0.000} < 0.98");
        Assert.True(score.Overall.Recall >= 0.95, $"recall {score.Overall.Recall:0.000} < 0.95");
    }

    [Fact]
    public void Scanner_meets_held_out_precision_and_recall_targets()
    {
        var score = ScoreAndPrint(HeldOutPath, "held-out");

        Assert.True(score.Overall.Precision >= 0.95, $"held-out precision {score.Overall.Precision:0.000} < 0.95");
        Assert.True(score.Overall.Recall >= 0.90, $"held-out recall {score.Overall.Recall:0.000} < 0.90");
    }

    [Fact]
    public void Score_counts_a_finding_with_the_wrong_span_as_both_false_positive_and_miss()
    {
        var corpus = PiiCorpus.Parse(["phone=+44 20 7946 0958\tcall +44 20 7946 0958 now", "email=x@example.com\tmail x@example.com", "-\tnothing here"]);
        var scanner = new PiiScanner();

        var score = PiiCorpus.Score(corpus, scanner);
        Assert.Equal(2, score.Overall.TruePositives);
        Assert.Equal(0, score.Overall.FalsePositives);

        var shifted = PiiCorpus.Parse(["phone=+44 20 7946\tcall +44 20 7946 0958 now"]);
        var wrongSpan = PiiCorpus.Score(shifted, scanner);
        Assert.Equal((0, 1, 1), (wrongSpan.Overall.TruePositives, wrongSpan.Overall.FalsePositives, wrongSpan.Overall.FalseNegatives));
    }

    [Theory]
    [InlineData("email\tno equals sign", "is not class=value")]
    [InlineData("passport=X1\tpassport X1", "unknown class 'passport'")]
    [InlineData("email=a@b.com\tsomething else", "does not occur in the text")]
    [InlineData("no tab here", "expected 'annotations<TAB>text'")]
    public void Parse_refuses_malformed_lines_naming_the_problem(string line, string expected)
    {
        var error = Assert.Throws<FormatException>(() => PiiCorpus.Parse([line]));
        Assert.Contains(expected, error.Message);
        Assert.StartsWith("line 1:", error.Message);
    }

    private PiiCorpusScore ScoreAndPrint(string path, string label)
    {
        var score = PiiCorpus.Score(PiiCorpus.Load(path), PiiScanner.Default);
        output.WriteLine($"{label}: {score.Lines} lines: {score.PositiveLines} with PII ({score.Overall.Expected} values), {score.NegativeLines} without");
        output.WriteLine(score.ToTable());
        score.Errors.ToList().ForEach(output.WriteLine);
        return score;
    }
}
