using System.Threading.Channels;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// The durable trace sink of a silo (one per silo): group commit of trace events into the <see cref="ITraceStore"/>.
/// A caller hands its event and awaits the write; a single loop takes everything queued (up to
/// <see cref="TraceWriterOptions.MaxBatch"/>), stores it in one <see cref="ITraceStore.AppendAsync"/> (which writes
/// the partitions in parallel) and completes every caller of the batch. There is no timer: while one write is in
/// flight the next batch gathers, so batches grow with load and a lone call waits for one round trip only.
/// <para>
/// Telemetry never fails or hangs a call: a caller waits at most <see cref="TraceWriterOptions.WriteTimeout"/>,
/// and a failed write releases its callers at once. Their events stay in memory and are retried with backoff;
/// while the store is failing, new events join them without each caller waiting for another failure. Writes are
/// idempotent by request id (the store keeps the first), so a retry never stores an event twice.
/// </para>
/// </summary>
public sealed class TraceWriter : ITraceSink, IAsyncDisposable
{
    private readonly ITraceStore _store;
    private readonly TraceWriterOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<TraceWriter> _logger;
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _lock = new();

    // Events whose write failed, oldest first; only the loop touches this list.
    private readonly List<Pending> _retained = [];
    private Task? _loop;
    private TimeSpan _backoff;
    private DateTimeOffset _retryAt;
    private long _stored;
    private long _failedWrites;
    private long _timeouts;
    private long _dropped;
    private long _batches;
    private int _retainedCount;
    private int _disposed;

    public TraceWriter(ITraceStore store, IOptions<TraceWriterOptions> options, [FromKeyedServices(PlatformClock.Key)] TimeProvider time, ILogger<TraceWriter> logger)
    {
        _store = store;
        _options = options.Value;
        _time = time;
        _logger = logger;
        _backoff = _options.RetryBackoffMin;
    }

    /// <summary>Events stored so far.</summary>
    public long Stored => Interlocked.Read(ref _stored);

    /// <summary>Store writes that failed (each is retried).</summary>
    public long FailedWrites => Interlocked.Read(ref _failedWrites);

    /// <summary>Callers answered before their event was stored because the write took longer than the timeout.</summary>
    public long Timeouts => Interlocked.Read(ref _timeouts);

    /// <summary>Events dropped because more than <see cref="TraceWriterOptions.MaxRetained"/> waited for a failing store.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Store writes made (successful or not).</summary>
    public long Batches => Interlocked.Read(ref _batches);

    /// <summary>Events waiting for a retry after a failed write.</summary>
    public int Retained => Volatile.Read(ref _retainedCount);

    /// <summary>
    /// Queues the event (and its prompt sample) and waits until it is stored, at most
    /// <see cref="TraceWriterOptions.WriteTimeout"/>. Never throws: an event not yet stored stays queued.
    /// Does nothing when <see cref="TraceWriterOptions.Enabled"/> is false.
    /// </summary>
    public async ValueTask RecordAsync(TraceEvent traceEvent, PromptSample? sample = null)
    {
        if (!_options.Enabled)
        {
            return;
        }

        var pending = new Pending(traceEvent, sample, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        if (!Enqueue(pending))
        {
            return;
        }

        try
        {
            await pending.Done!.Task.WaitAsync(_options.WriteTimeout, _time).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            Interlocked.Increment(ref _timeouts);
            _logger.LogDebug("The trace of request {RequestId} was not stored within {Timeout}; it stays queued", traceEvent.RequestId, _options.WriteTimeout);
        }
    }

    /// <summary>
    /// Writes everything queued or retained, retrying with backoff until it is stored or <paramref name="cancellationToken"/>
    /// fires (silo shutdown). Returns true when nothing is left in memory.
    /// </summary>
    public async Task<bool> FlushAsync(CancellationToken cancellationToken = default)
    {
        if (!_options.Enabled)
        {
            return true;
        }

        while (!cancellationToken.IsCancellationRequested)
        {
            var marker = new Pending(null, null, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
            if (!Enqueue(marker))
            {
                return false;
            }

            try
            {
                if (await marker.Done!.Task.WaitAsync(cancellationToken).ConfigureAwait(false))
                {
                    return true;
                }

                await Task.Delay(_options.RetryBackoffMin, _time, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        if (Retained > 0)
        {
            _logger.LogError("{Count} trace events were not stored before shutdown", Retained);
        }

        return false;
    }

    public async ValueTask DisposeAsync()
    {
        // DI disposes it once as TraceWriter and once as the ITraceSink that forwards to it.
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _queue.Writer.TryComplete();
        await _stopping.CancelAsync().ConfigureAwait(false);
        Task? loop;
        lock (_lock)
        {
            loop = _loop;
        }

        if (loop is not null)
        {
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stopping.Dispose();
    }

    private bool Enqueue(Pending pending)
    {
        if (!_queue.Writer.TryWrite(pending))
        {
            _logger.LogError("The trace writer is stopped; the trace of request {RequestId} is lost", pending.Event?.RequestId);
            return false;
        }

        if (_loop is null)
        {
            lock (_lock)
            {
                _loop ??= Task.Run(RunAsync);
            }
        }

        return true;
    }

    private async Task RunAsync()
    {
        while (true)
        {
            try
            {
                await LoopAsync().ConfigureAwait(false);
                return;
            }
            catch (Exception ex) when (!_stopping.IsCancellationRequested)
            {
                // A defect here must not silently end durable tracing for the life of the silo.
                _logger.LogError(ex, "The trace writer loop failed; it starts again");
            }
        }
    }

    private async Task LoopAsync()
    {
        var batch = new List<Pending>(_options.MaxBatch);
        var markers = new List<Pending>();
        var token = _stopping.Token;
        while (true)
        {
            batch.Clear();
            markers.Clear();
            var now = _time.GetUtcNow();
            var backingOff = _retained.Count > 0 && now < _retryAt;
            while (batch.Count < _options.MaxBatch && _queue.Reader.TryRead(out var pending))
            {
                if (pending.Event is null)
                {
                    markers.Add(pending);
                    backingOff = false;
                }
                else if (backingOff)
                {
                    // The store is failing: release the caller now rather than after another failure.
                    Retain(pending with { Done = null });
                    pending.Done?.TrySetResult(false);
                }
                else
                {
                    batch.Add(pending);
                }
            }

            if (!backingOff && _retained.Count > 0)
            {
                var room = Math.Max(0, _options.MaxBatch - batch.Count);
                var retry = _retained.Take(room).ToList();
                _retained.RemoveRange(0, retry.Count);
                Volatile.Write(ref _retainedCount, _retained.Count);
                batch.InsertRange(0, retry);
            }

            if (batch.Count > 0)
            {
                await WriteAsync(batch, token).ConfigureAwait(false);
            }

            foreach (var marker in markers)
            {
                marker.Done!.TrySetResult(_retained.Count == 0);
            }

            if (batch.Count > 0 || markers.Count > 0 || _queue.Reader.Count > 0)
            {
                continue;
            }

            if (!await WaitForWorkAsync(token).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    /// <summary>Waits for a new event, or for the next retry when events are retained; false when stopped.</summary>
    private async Task<bool> WaitForWorkAsync(CancellationToken token)
    {
        try
        {
            if (_retained.Count == 0)
            {
                return await _queue.Reader.WaitToReadAsync(token).ConfigureAwait(false);
            }

            var wait = _retryAt - _time.GetUtcNow();
            if (wait <= TimeSpan.Zero)
            {
                return true;
            }

            using var retryDue = new CancellationTokenSource(wait, _time);
            using var either = CancellationTokenSource.CreateLinkedTokenSource(retryDue.Token, token);
            try
            {
                return await _queue.Reader.WaitToReadAsync(either.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (retryDue.IsCancellationRequested && !token.IsCancellationRequested)
            {
                return true;
            }
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task WriteAsync(List<Pending> batch, CancellationToken token)
    {
        var events = new TraceEvent[batch.Count];
        var samples = new List<PromptSample>();
        for (var i = 0; i < batch.Count; i++)
        {
            events[i] = batch[i].Event!;
            if (batch[i].Sample is { } sample)
            {
                samples.Add(sample);
            }
        }

        Interlocked.Increment(ref _batches);
        try
        {
            await _store.AppendAsync(events, samples, token).ConfigureAwait(false);
            Interlocked.Add(ref _stored, batch.Count);
            _backoff = _options.RetryBackoffMin;
            foreach (var pending in batch)
            {
                pending.Done?.TrySetResult(true);
            }
        }
        catch (Exception ex) when (!token.IsCancellationRequested || ex is not OperationCanceledException)
        {
            Interlocked.Increment(ref _failedWrites);
            _retryAt = _time.GetUtcNow() + _backoff;
            _logger.LogWarning(ex, "Storing {Count} trace events failed; they stay in memory and are retried in {Backoff}", batch.Count, _backoff);
            _backoff = TimeSpan.FromTicks(Math.Min(_backoff.Ticks * 2, _options.RetryBackoffMax.Ticks));
            foreach (var pending in batch)
            {
                Retain(pending with { Done = null });
            }

            foreach (var pending in batch)
            {
                pending.Done?.TrySetResult(false);
            }
        }
        catch (OperationCanceledException)
        {
            foreach (var pending in batch)
            {
                pending.Done?.TrySetResult(false);
            }
        }
    }

    private void Retain(Pending pending)
    {
        _retained.Add(pending);
        if (_retained.Count > _options.MaxRetained)
        {
            var drop = _retained.Count - _options.MaxRetained;
            _retained.RemoveRange(0, drop);
            Interlocked.Add(ref _dropped, drop);
            _logger.LogError("The trace store has failed for long: {Count} oldest unstored trace events were dropped (Telemetry:Traces:MaxRetained {Max})", drop, _options.MaxRetained);
        }

        Volatile.Write(ref _retainedCount, _retained.Count);
    }

    /// <summary>A queued event; a null event is a flush marker.</summary>
    private sealed record Pending(TraceEvent? Event, PromptSample? Sample, TaskCompletionSource<bool>? Done);
}
