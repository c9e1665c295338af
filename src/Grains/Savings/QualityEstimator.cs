namespace MicroApps.Orleans.Savings;

/// <summary>Running sums of the scores one source gave one model.</summary>
[GenerateSerializer, Alias("microapps.QualitySums")]
public sealed class QualitySums
{
    [Id(0)]
    public double Sum { get; set; }

    [Id(1)]
    public long Count { get; set; }
}

/// <summary>
/// Turns the running sums of a query type's evidence into estimates, and reads them back for routing. An estimate is
/// the mean of every observation of the model, whatever its source: a shadow score, a thumbs up and a passed
/// regression test each count once. Scores are clamped to 0..1 when recorded, so the mean is too.
/// </summary>
public static class QualityEstimator
{
    /// <summary>The estimate of one model from its sums per source.</summary>
    public static ModelQuality Estimate(string model, IReadOnlyDictionary<string, QualitySums> bySource)
    {
        var sum = 0d;
        var count = 0L;
        var samples = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var (source, sums) in bySource)
        {
            sum += sums.Sum;
            count += sums.Count;
            samples[source] = sums.Count;
        }

        var score = count == 0 ? 0d : Clamp(sum / count);
        return new ModelQuality(model, Math.Round(score, 4), count, samples);
    }

    /// <summary>A score as it is recorded: clamped to 0..1. NaN is not a score and is refused.</summary>
    public static double Clamp(double score)
    {
        if (double.IsNaN(score))
        {
            throw new ArgumentOutOfRangeException(nameof(score), "A quality score must be a number from 0 to 1, got NaN.");
        }

        return Math.Clamp(score, 0d, 1d);
    }

    /// <summary>The estimate for <paramref name="model"/> in <paramref name="table"/>, or null when it has no evidence.</summary>
    public static ModelQuality? Find(QualityTable? table, string model) =>
        table?.Models.FirstOrDefault(m => string.Equals(m.Model, model, StringComparison.OrdinalIgnoreCase));
}
