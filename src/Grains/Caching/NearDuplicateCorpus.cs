namespace MicroApps.Orleans.Caching;

/// <summary>
/// The near-duplicate test corpus (tests/UnitTests/Caching/near-duplicate-corpus.tsv): pairs of requests that should
/// share an answer (<see cref="NearDuplicatePair.ShouldHit"/>) and look-alike pairs that must not. Used by the unit test
/// that holds the false-hit target and by <c>./bench.sh neardup</c>.
/// </summary>
public static class NearDuplicateCorpus
{
    /// <summary>Reads the pairs; lines starting with # and blank lines are skipped.</summary>
    public static IReadOnlyList<NearDuplicatePair> Load(string path)
    {
        var pairs = new List<NearDuplicatePair>();
        var number = 0;
        foreach (var line in File.ReadLines(path))
        {
            number++;
            if (string.IsNullOrWhiteSpace(line) || line.StartsWith('#'))
            {
                continue;
            }

            var fields = line.Split('\t');
            if (fields.Length != 3 || fields[0] is not ("hit" or "miss"))
            {
                throw new FormatException($"{path}:{number}: expected 'hit|miss<TAB>request A<TAB>request B'.");
            }

            pairs.Add(new NearDuplicatePair(fields[0] == "hit", fields[1], fields[2], number));
        }

        return pairs;
    }

    /// <summary>Scores every pair at <paramref name="threshold"/>.</summary>
    public static NearDuplicateScore Score(IReadOnlyList<NearDuplicatePair> pairs, double threshold)
    {
        var falseHits = new List<(NearDuplicatePair, double)>();
        var missed = new List<(NearDuplicatePair, double)>();
        var hits = 0;
        foreach (var pair in pairs)
        {
            var similarity = NearDuplicateSketcher.Similarity(NearDuplicateSketcher.Sketch(pair.A), NearDuplicateSketcher.Sketch(pair.B));
            var hit = similarity >= threshold;
            if (pair.ShouldHit && hit)
            {
                hits++;
            }
            else if (pair.ShouldHit)
            {
                missed.Add((pair, similarity));
            }
            else if (hit)
            {
                falseHits.Add((pair, similarity));
            }
        }

        return new NearDuplicateScore(threshold, pairs.Count(p => p.ShouldHit), hits, pairs.Count(p => !p.ShouldHit), falseHits, missed);
    }
}

/// <summary>One corpus pair.</summary>
public sealed record NearDuplicatePair(bool ShouldHit, string A, string B, int Line);

/// <summary>How the near-duplicate matcher did on the corpus at one threshold.</summary>
public sealed record NearDuplicateScore(
    double Threshold,
    int ParaphrasePairs,
    int Hits,
    int DistinctPairs,
    IReadOnlyList<(NearDuplicatePair Pair, double Similarity)> FalseHits,
    IReadOnlyList<(NearDuplicatePair Pair, double Similarity)> Missed)
{
    /// <summary>Share of the paraphrase pairs served from the cache.</summary>
    public double HitRate => ParaphrasePairs == 0 ? 0 : (double)Hits / ParaphrasePairs;
}
