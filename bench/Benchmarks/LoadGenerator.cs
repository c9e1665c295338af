using System.Diagnostics;

namespace MicroApps.Orleans.Benchmarks;

/// <summary>Closed-loop load: each connection sends its next request when the previous one answered.</summary>
internal static class LoadGenerator
{
    public static async Task<LoadResult> RunAsync(string name, int connections, TimeSpan duration, Func<long, CancellationToken, Task<bool>> send)
    {
        var latencies = new List<double>[connections];
        var errors = 0L;
        var sequence = 0L;
        using var stop = new CancellationTokenSource(duration);
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, connections).Select(async worker =>
        {
            var mine = latencies[worker] = new List<double>(capacity: 1 << 16);
            while (!stop.IsCancellationRequested)
            {
                var n = Interlocked.Increment(ref sequence);
                var started = Stopwatch.GetTimestamp();
                bool ok;
                try
                {
                    ok = await send(n, CancellationToken.None);
                }
                catch (Exception)
                {
                    ok = false;
                }

                if (ok)
                {
                    mine.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                }
                else
                {
                    Interlocked.Increment(ref errors);
                }
            }
        }).ToArray();
        await Task.WhenAll(workers);
        var elapsed = clock.Elapsed;
        var all = latencies.SelectMany(l => l).Order().ToArray();
        return new LoadResult(name, connections, all.Length, errors, all.Length / elapsed.TotalSeconds, Percentile(all, 0.50), Percentile(all, 0.99));
    }

    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(p * sorted.Length) - 1)];
}

internal sealed record LoadResult(string Name, int Connections, long Ok, long Errors, double RequestsPerSecond, double P50Ms, double P99Ms)
{
    public override string ToString() =>
        $"| {Name,-34} | {Connections,5} | {RequestsPerSecond,10:0} | {P50Ms,8:0.000} | {P99Ms,8:0.000} | {Ok,8} | {Errors,6} |";

    public static string Header =>
        "| scenario                           | conns |      req/s |  p50 ms |  p99 ms |       ok | errors |\n" +
        "|------------------------------------|-------|------------|---------|---------|----------|--------|";
}
