using System.Diagnostics;
using System.Globalization;
using System.Text;
using MicroApps.Orleans.Pii;

namespace MicroApps.Orleans.Benchmarks;

/// <summary>
/// <c>pii</c> mode: precision/recall per class over the annotated corpus, and scanning throughput.
/// Usage: <c>MicroApps.Orleans.Benchmarks pii [--corpus tests/UnitTests/Pii/pii-corpus.tsv] [--seconds 2]</c>.
/// </summary>
internal static class PiiBenchmark
{
    public static int Run(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var path = Value("--corpus") ?? Path.Combine("tests", "UnitTests", "Pii", "pii-corpus.tsv");
        var seconds = double.TryParse(Value("--seconds"), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s > 0 ? s : 2;
        if (!File.Exists(path))
        {
            Console.Error.WriteLine($"corpus not found: {path} (pass --corpus PATH)");
            return 2;
        }

        var corpus = PiiCorpus.Load(path);
        var scanner = PiiScanner.Default;
        var score = PrintScore(path, corpus, scanner);

        // A corpus written without reading the scanner and never tuned on: the honest figure.
        if (Value("--held-out") is { } heldOutPath)
        {
            if (!File.Exists(heldOutPath))
            {
                Console.Error.WriteLine($"held-out corpus not found: {heldOutPath}");
                return 2;
            }

            Console.WriteLine();
            PrintScore(heldOutPath, PiiCorpus.Load(heldOutPath), scanner);
        }

        // Whole corpus, line by line, as the gateway scans messages.
        var texts = corpus.Select(l => l.Text).ToArray();
        var corpusBytes = texts.Sum(t => (long)Encoding.UTF8.GetByteCount(t));
        var (corpusPasses, corpusElapsed) = Measure(() =>
        {
            var found = 0;
            foreach (var text in texts)
            {
                found += scanner.Scan(text).Count;
            }

            return found;
        }, seconds);
        var mbPerSecond = corpusBytes * corpusPasses / corpusElapsed.TotalSeconds / (1024 * 1024);

        // 1 KB messages: corpus lines joined until each message reaches 1024 bytes (mixed PII and ordinary text).
        var messages = new List<string>();
        var builder = new StringBuilder();
        foreach (var text in texts)
        {
            builder.Append(text).Append(' ');
            if (Encoding.UTF8.GetByteCount(builder.ToString()) >= 1024)
            {
                messages.Add(builder.ToString());
                builder.Clear();
            }
        }

        var (messagePasses, messageElapsed) = Measure(() =>
        {
            var found = 0;
            foreach (var message in messages)
            {
                found += scanner.Scan(message).Count;
            }

            return found;
        }, seconds);
        var microsecondsPerMessage = messageElapsed.TotalMicroseconds / (messagePasses * messages.Count);
        var averageMessageBytes = messages.Average(m => Encoding.UTF8.GetByteCount(m));

        Console.WriteLine();
        Console.WriteLine("| throughput (one thread, per CPU second) | value |");
        Console.WriteLine("|-------------------------|------:|");
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| corpus line by line | {mbPerSecond:0.0} MB/s ({corpusBytes:N0} bytes × {corpusPasses} passes) |"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| 1 KB message ({messages.Count} messages, {averageMessageBytes:0} bytes avg) | {microsecondsPerMessage:0.0} µs per message |"));
        return score.NegativeLineFalsePositives.Count == 0 ? 0 : 1;
    }

    /// <summary>
    /// Runs passes for the given wall-clock time and returns the process CPU time they used: on a shared machine the
    /// CPU time is the figure that does not depend on what else is running (the loop is single-threaded).
    /// </summary>
    private static (long Passes, TimeSpan Elapsed) Measure(Func<int> pass, double seconds)
    {
        // Warm-up: JIT and regex caches, a quarter of the measured time.
        var warmUp = Stopwatch.StartNew();
        while (warmUp.Elapsed.TotalSeconds < seconds / 4)
        {
            pass();
        }

        long passes = 0;
        var sink = 0;
        using var process = Process.GetCurrentProcess();
        var cpuBefore = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed.TotalSeconds < seconds)
        {
            sink += pass();
            passes++;
        }

        clock.Stop();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        GC.KeepAlive(sink);
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {passes} passes: wall {clock.Elapsed.TotalMilliseconds:0} ms, CPU {cpu.TotalMilliseconds:0} ms"));
        return (passes, cpu);
    }

    private static PiiCorpusScore PrintScore(string path, IReadOnlyList<PiiCorpusLine> corpus, PiiScanner scanner)
    {
        var score = PiiCorpus.Score(corpus, scanner);
        Console.WriteLine($"PII scanner · corpus {path} · {score.Lines} lines: {score.PositiveLines} with PII ({score.Overall.Expected} annotated values), {score.NegativeLines} without · {Environment.ProcessorCount} cores · {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        Console.WriteLine();
        Console.Write(score.ToTable());
        Console.WriteLine($"false positives on negative lines: {score.NegativeLineFalsePositives.Count}");
        foreach (var error in score.Errors)
        {
            Console.WriteLine($"  {error}");
        }

        return score;
    }
}
