using MicroApps.Orleans.Pii;
using Xunit.Abstractions;

namespace MicroApps.Orleans.UnitTests.Pii;

/// <summary>
/// Scores the scanner on pii-heldout.tsv, a corpus written without reading the scanner, its tests, its training
/// corpus or docs/pii.md. It is never to be used to tune the scanner; the thresholds are looser than the training
/// corpus's because the examples were not seen while the scanner was written.
/// </summary>
public sealed class PiiHeldOutCorpusTests(ITestOutputHelper output)
{
    private static readonly string HeldOutPath = Path.Combine(AppContext.BaseDirectory, "Pii", "pii-heldout.tsv");

    [Fact]
    public void Scanner_meets_held_out_precision_and_recall_targets()
    {
        var corpus = PiiCorpus.Load(HeldOutPath);
        var score = PiiCorpus.Score(corpus, PiiScanner.Default);

        output.WriteLine($"held-out: {score.Lines} lines: {score.PositiveLines} with PII ({score.Overall.Expected} values), {score.NegativeLines} without");
        output.WriteLine(score.ToTable());
        score.Errors.ToList().ForEach(output.WriteLine);

        Assert.True(score.Overall.Precision >= 0.95, $"held-out precision {score.Overall.Precision:0.000} < 0.95");
        Assert.True(score.Overall.Recall >= 0.90, $"held-out recall {score.Overall.Recall:0.000} < 0.90");
    }
}
