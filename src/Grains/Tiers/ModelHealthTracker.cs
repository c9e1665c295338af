namespace MicroApps.Orleans.Tiers;

/// <summary>
/// Circuit breaker and latency estimate per model of one tier. After
/// <c>failureThreshold</c> consecutive failures a model is open (skipped) until the cool-down passes;
/// the next call after that is a trial: success closes it, another failure opens it again at once.
/// Not thread-safe: a tier grain owns one.
/// </summary>
public sealed class ModelHealthTracker(TimeProvider time, int failureThreshold, TimeSpan coolDown)
{
    /// <summary>Weight of the newest latency sample in the moving average.</summary>
    public const double LatencySmoothing = 0.2;

    private readonly Dictionary<string, Health> _health = new(StringComparer.OrdinalIgnoreCase);

    public void Report(string model, bool success, double latencyMs)
    {
        var health = Get(model);
        if (success)
        {
            health.Successes++;
            health.ConsecutiveFailures = 0;
            health.OpenUntil = null;
            if (latencyMs >= 0)
            {
                health.LatencyMs = health.LatencyMs is { } previous
                    ? (LatencySmoothing * latencyMs) + ((1 - LatencySmoothing) * previous)
                    : latencyMs;
            }

            return;
        }

        health.Failures++;
        health.ConsecutiveFailures++;
        if (health.ConsecutiveFailures >= failureThreshold)
        {
            health.OpenUntil = time.GetUtcNow() + coolDown;
        }
    }

    public bool IsAvailable(string model) =>
        !_health.TryGetValue(model, out var health) || health.OpenUntil is not { } openUntil || time.GetUtcNow() >= openUntil;

    public ModelHealth Snapshot(string model)
    {
        var health = _health.TryGetValue(model, out var h) ? h : new Health();
        var available = IsAvailable(model);
        return new ModelHealth(
            model,
            available,
            health.ConsecutiveFailures,
            available ? null : health.OpenUntil,
            health.LatencyMs ?? 0,
            health.Successes,
            health.Failures);
    }

    /// <summary>Available models first, each group in the given (configured) order.</summary>
    public IReadOnlyList<ModelSpec> Order(IReadOnlyList<ModelSpec> models) =>
        models.Where(m => IsAvailable(m.Name)).Concat(models.Where(m => !IsAvailable(m.Name))).ToArray();

    private Health Get(string model)
    {
        if (!_health.TryGetValue(model, out var health))
        {
            health = new Health();
            _health[model] = health;
        }

        return health;
    }

    private sealed class Health
    {
        public int ConsecutiveFailures { get; set; }

        public DateTimeOffset? OpenUntil { get; set; }

        public double? LatencyMs { get; set; }

        public long Successes { get; set; }

        public long Failures { get; set; }
    }
}
