using System.Globalization;
using System.Runtime.CompilerServices;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// The trace store of fast tests and of <c>Orleans:Provider=Localhost</c>: everything in this process's memory,
/// with the same semantics as the durable store (first event of a request wins, hour partitions, paging).
/// </summary>
public sealed class InMemoryTraceStore : ITraceStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string AppId, string RequestId), TraceRecord> _traces = [];
    private readonly Dictionary<(string AppId, string RequestId), PromptSample> _samples = [];

    /// <summary>How many events are stored.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _traces.Count;
            }
        }
    }

    public Task AppendAsync(IReadOnlyList<TraceEvent> events, IReadOnlyList<PromptSample> samples, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            foreach (var traceEvent in events)
            {
                _traces.TryAdd((traceEvent.AppId, traceEvent.RequestId), new TraceRecord(traceEvent, null));
            }

            foreach (var sample in samples)
            {
                _samples.TryAdd((sample.AppId, sample.RequestId), sample);
            }
        }

        return Task.CompletedTask;
    }

    public Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default)
    {
        List<TraceRecord> matching;
        lock (_lock)
        {
            matching = _traces.Values.Where(r => query.Matches(r.Event)).ToList();
        }

        var ordered = matching
            .OrderByDescending(r => TraceHours.StartOf(r.Event.Timestamp))
            .ThenBy(r => r.Event.AppId, StringComparer.Ordinal)
            .ThenBy(r => r.Event.RequestId, StringComparer.Ordinal)
            .ToList();
        var (items, next) = Page(ordered, query.PageSize, query.ContinuationToken);
        return Task.FromResult(new TracePage(items, next));
    }

    public Task<TraceRecord?> FindAsync(string appId, string requestId, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            return Task.FromResult(_traces.GetValueOrDefault((appId, requestId)));
        }
    }

    public Task<FeedbackOutcome> AttachFeedbackAsync(string appId, string requestId, BizFeedback feedback, CancellationToken cancellationToken = default)
    {
        lock (_lock)
        {
            if (!_traces.TryGetValue((appId, requestId), out var record))
            {
                return Task.FromResult(FeedbackOutcome.UnknownRequest);
            }

            _traces[(appId, requestId)] = new TraceRecord(record.Event with { BizMetric = feedback.ToBizMetric() }, feedback);
            return Task.FromResult(FeedbackOutcome.Recorded);
        }
    }

    public Task<PromptSamplePage> SearchSamplesAsync(PromptSearchQuery query, CancellationToken cancellationToken = default)
    {
        List<PromptSample> matching;
        lock (_lock)
        {
            matching = _samples.Values.Where(s =>
                s.Timestamp >= query.From && s.Timestamp < query.To
                && (query.AppId is null || s.AppId == query.AppId)
                && (query.Team is null || s.Team == query.Team)
                && (s.RedactedPrompt.Contains(query.Text, StringComparison.OrdinalIgnoreCase)
                    || s.RedactedResponse.Contains(query.Text, StringComparison.OrdinalIgnoreCase))).ToList();
        }

        var ordered = matching.OrderByDescending(s => s.Timestamp).ThenBy(s => s.RequestId, StringComparer.Ordinal).ToList();
        var (items, next) = Page(ordered, query.PageSize, query.ContinuationToken);
        return Task.FromResult(new PromptSamplePage(items, next));
    }

    public Task<IReadOnlyList<string>> AppsActiveInHourAsync(DateTimeOffset hourStart, CancellationToken cancellationToken = default)
    {
        var hour = TraceHours.StartOf(hourStart);
        lock (_lock)
        {
            IReadOnlyList<string> apps = _traces.Values
                .Where(r => TraceHours.StartOf(r.Event.Timestamp) == hour)
                .Select(r => r.Event.AppId)
                .Distinct(StringComparer.Ordinal)
                .Order(StringComparer.Ordinal)
                .ToList();
            return Task.FromResult(apps);
        }
    }

    public async IAsyncEnumerable<TraceEvent> ScanHourAsync(string appId, DateTimeOffset hourStart, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var hour = TraceHours.StartOf(hourStart);
        List<TraceEvent> events;
        lock (_lock)
        {
            events = _traces.Values
                .Where(r => r.Event.AppId == appId && TraceHours.StartOf(r.Event.Timestamp) == hour)
                .Select(r => r.Event)
                .OrderBy(e => e.RequestId, StringComparer.Ordinal)
                .ToList();
        }

        foreach (var traceEvent in events)
        {
            cancellationToken.ThrowIfCancellationRequested();
            yield return traceEvent;
        }

        await Task.CompletedTask;
    }


    private static (IReadOnlyList<T> Items, string? Next) Page<T>(List<T> ordered, int pageSize, string? continuation)
    {
        var size = Math.Clamp(pageSize, 1, TraceQuery.MaxPageSize);
        var offset = 0;
        if (continuation is not null && (!int.TryParse(continuation, NumberStyles.None, CultureInfo.InvariantCulture, out offset) || offset > ordered.Count))
        {
            throw new ArgumentException($"continuation token '{continuation}' is not one this store issued", nameof(continuation));
        }

        var items = ordered.Skip(offset).Take(size).ToList();
        var next = offset + items.Count < ordered.Count ? (offset + items.Count).ToString(CultureInfo.InvariantCulture) : null;
        return (items, next);
    }
}
