namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// Bounds the label values of a metric: the first <see cref="Cap"/> distinct values (apps, budgets) get their own
/// series, every later one is reported under <see cref="Other"/>, so 5,000 apps cannot make 5,000 series.
/// </summary>
public sealed class SeriesCap
{
    /// <summary>The label value of everything over the cap.</summary>
    public const string Other = "_other";

    private readonly HashSet<string> _admitted = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public SeriesCap(int cap)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(cap);
        Cap = cap;
    }

    /// <summary>Most distinct values that get their own series.</summary>
    public int Cap { get; }

    /// <summary>How many values have their own series.</summary>
    public int Admitted
    {
        get
        {
            lock (_lock)
            {
                return _admitted.Count;
            }
        }
    }

    /// <summary>The label to report for <paramref name="value"/>: itself while under the cap, else <see cref="Other"/>.</summary>
    public string Label(string value)
    {
        lock (_lock)
        {
            if (_admitted.Contains(value))
            {
                return value;
            }

            if (_admitted.Count < Cap)
            {
                _admitted.Add(value);
                return value;
            }

            return Other;
        }
    }
}
