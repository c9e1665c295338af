using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// Where trace events and prompt samples are kept. Events are partitioned by app and UTC hour, so one app's
/// hour or day reads fast. Every write is idempotent by (app id, request id): the first stored event of a request
/// wins, and writing it again (a retried batch, a retried call) changes nothing, so no event is counted twice.
/// Implementations: <see cref="InMemoryTraceStore"/> (fast tests, <c>Orleans:Provider=Localhost</c>) and the Azure
/// Table store (Azurite locally).
/// </summary>
public interface ITraceStore
{
    /// <summary>Stores events and samples durably; returns once all are stored. Safe to repeat.</summary>
    Task AppendAsync(IReadOnlyList<TraceEvent> events, IReadOnlyList<PromptSample> samples, CancellationToken cancellationToken = default);

    /// <summary>Events matching <paramref name="query"/>, newest hour first, paged.</summary>
    Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default);

    /// <summary>The stored trace of one request of one app, or null.</summary>
    Task<TraceRecord?> FindAsync(string appId, string requestId, CancellationToken cancellationToken = default);

    /// <summary>Joins feedback to a stored trace (and sets its <see cref="TraceEvent.BizMetric"/>).</summary>
    Task<FeedbackOutcome> AttachFeedbackAsync(string appId, string requestId, BizFeedback feedback, CancellationToken cancellationToken = default);

    /// <summary>Prompt samples whose redacted prompt or response contains the text (case-insensitive), newest first, paged.</summary>
    Task<PromptSamplePage> SearchSamplesAsync(PromptSearchQuery query, CancellationToken cancellationToken = default);

    /// <summary>Ids of the apps with at least one event in the UTC hour starting at <paramref name="hourStart"/>.</summary>
    Task<IReadOnlyList<string>> AppsActiveInHourAsync(DateTimeOffset hourStart, CancellationToken cancellationToken = default);

    /// <summary>Every event of one app in the UTC hour starting at <paramref name="hourStart"/> (for roll-ups).</summary>
    IAsyncEnumerable<TraceEvent> ScanHourAsync(string appId, DateTimeOffset hourStart, CancellationToken cancellationToken = default);
}

/// <summary>Hour partitions of the trace store.</summary>
public static class TraceHours
{
    /// <summary>The start of the UTC hour holding <paramref name="time"/>.</summary>
    public static DateTimeOffset StartOf(DateTimeOffset time)
    {
        var utc = time.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, 0, 0, TimeSpan.Zero);
    }

    /// <summary>Hour starts from the hour of <paramref name="to"/> (exclusive end) back to the hour of <paramref name="from"/>, newest first.</summary>
    public static IEnumerable<DateTimeOffset> NewestFirst(DateTimeOffset from, DateTimeOffset to)
    {
        if (to <= from)
        {
            yield break;
        }

        var first = StartOf(from);
        for (var hour = StartOf(to - TimeSpan.FromTicks(1)); hour >= first; hour = hour.AddHours(-1))
        {
            yield return hour;
        }
    }
}
