using System.Diagnostics;
using System.Globalization;
using MicroApps.Orleans.Caching;

namespace MicroApps.Orleans.Benchmarks;

/// <summary>
/// <c>neardup</c> mode: false hits and hit rate of the near-duplicate matcher over the corpus at several thresholds,
/// and sketching throughput. Usage: <c>MicroApps.Orleans.Benchmarks neardup [--corpus PATH] [--held-out PATH] [--verbose]</c>.
/// </summary>
internal static class NearDuplicateBenchmark
{
    private static readonly double[] Thresholds = [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0];

    public static int Run(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var path = Value("--corpus") ?? Path.Combine("tests", "UnitTests", "Caching", "near-duplicate-corpus.tsv");
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"corpus not found: {path} (pass --corpus PATH)");
            return 2;
        }

        var pairs = NearDuplicateCorpus.Load(path);
        PrintTable(path, pairs, args.Contains("--verbose"));

        // Pairs written after the normaliser was frozen and never tuned on: the honest figure.
        if (Value("--held-out") is { } heldOutPath)
        {
            if (!File.Exists(heldOutPath))
            {
                Console.Error.WriteLine($"held-out corpus not found: {heldOutPath}");
                return 2;
            }

            Console.WriteLine();
            PrintTable(heldOutPath, NearDuplicateCorpus.Load(heldOutPath), args.Contains("--verbose"));
        }

        // Sketching cost: what the gateway adds to a cacheable call.
        var texts = pairs.SelectMany(p => new[] { p.A, p.B }).ToArray();
        var watch = Stopwatch.StartNew();
        var sketches = 0;
        while (watch.Elapsed < TimeSpan.FromSeconds(1))
        {
            foreach (var text in texts)
            {
                NearDuplicateSketcher.Sketch(text);
                sketches++;
            }
        }

        Console.WriteLine();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"sketching: {sketches / watch.Elapsed.TotalSeconds:N0} requests/s ({watch.Elapsed.TotalMicroseconds / sketches:0.0} µs each, one core)"));
        return 0;
    }

    private static void PrintTable(string path, IReadOnlyList<NearDuplicatePair> pairs, bool verbose)
    {
        var defaults = new NearDuplicateOptions();
        Console.WriteLine($"near-duplicate corpus {path}: {pairs.Count(p => p.ShouldHit)} paraphrase pairs, {pairs.Count(p => !p.ShouldHit)} distinct pairs");
        Console.WriteLine("threshold  false hits  hits  hit rate");
        foreach (var threshold in Thresholds)
        {
            var score = NearDuplicateCorpus.Score(pairs, threshold);
            var marker = Math.Abs(threshold - defaults.DefaultThreshold) < 1e-9 ? "  <- default (Savings:NearDuplicate:DefaultThreshold)" : "";
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{threshold,9:0.00}  {score.FalseHits.Count,10}  {score.Hits,4}  {score.HitRate,8:P1}{marker}"));
            if (verbose)
            {
                foreach (var (pair, similarity) in score.FalseHits)
                {
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    false hit {similarity:0.00} line {pair.Line}: {pair.A} | {pair.B}"));
                }
            }
        }

        if (verbose)
        {
            foreach (var (pair, similarity) in NearDuplicateCorpus.Score(pairs, defaults.DefaultThreshold).Missed)
            {
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"    missed {similarity:0.00} line {pair.Line}: {pair.A} | {pair.B}"));
            }
        }
    }
}
