using System.Threading.Channels;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MicroApps.Orleans.UnitTests.Telemetry;

public sealed class TraceWriterTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private static TraceEvent Event(string requestId, string appId = "app-w") =>
        new(appId, requestId, "fake-small", "standard", 10, 5, 1.5, "v1", 0.01m, "standard:fake-small", TraceOutcomes.Success, null, "finance",
            "hash", false, 0.01m, new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero), []);

    private TraceWriter Writer(ITraceStore store, Action<TraceWriterOptions>? configure = null)
    {
        var options = new TraceWriterOptions();
        configure?.Invoke(options);
        Assert.True(new TraceWriterOptionsValidator().Validate(null, options).Succeeded);
        return new TraceWriter(store, Options.Create(options), _time, NullLogger<TraceWriter>.Instance);
    }

    [Fact]
    public async Task Events_queued_while_a_write_is_in_flight_go_to_the_store_together_in_the_next_write()
    {
        var store = new ScriptedStore();
        await using var writer = Writer(store);

        var first = writer.RecordAsync(Event("r0")).AsTask();
        var firstCall = await store.NextCallAsync();
        Assert.Equal(["r0"], firstCall.RequestIds);

        var rest = Enumerable.Range(1, 9).Select(i => writer.RecordAsync(Event($"r{i}")).AsTask()).ToList();
        Assert.All(rest, t => Assert.False(t.IsCompleted));
        firstCall.Succeed();
        await first.WaitAsync(Deadline);

        var secondCall = await store.NextCallAsync();
        Assert.Equal(Enumerable.Range(1, 9).Select(i => $"r{i}"), secondCall.RequestIds);
        secondCall.Succeed();
        await Task.WhenAll(rest).WaitAsync(Deadline);
        Assert.Equal(10, store.Stored.Count);
        Assert.Equal(2, writer.Batches);
        Assert.Equal(0, writer.Timeouts);
    }

    [Fact]
    public async Task A_batch_never_holds_more_than_MaxBatch_events()
    {
        var store = new ScriptedStore();
        await using var writer = Writer(store, o => { o.MaxBatch = 4; o.MaxRetained = 4; });

        var first = writer.RecordAsync(Event("r0")).AsTask();
        var call = await store.NextCallAsync();
        var rest = Enumerable.Range(1, 10).Select(i => writer.RecordAsync(Event($"r{i}")).AsTask()).ToList();
        call.Succeed();

        var sizes = new List<int> { call.RequestIds.Count };
        while (sizes.Sum() < 11)
        {
            var next = await store.NextCallAsync();
            sizes.Add(next.RequestIds.Count);
            next.Succeed();
        }

        await Task.WhenAll(rest.Append(first)).WaitAsync(Deadline);
        Assert.Equal([1, 4, 4, 2], sizes);
    }

    [Fact]
    public async Task A_store_slower_than_the_write_timeout_does_not_hold_the_call_and_the_event_is_stored_later()
    {
        var store = new ScriptedStore();
        await using var writer = Writer(store, o => o.WriteTimeout = TimeSpan.FromSeconds(2));

        var record = writer.RecordAsync(Event("slow")).AsTask();
        var call = await store.NextCallAsync();
        Assert.False(record.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(2));
        await record.WaitAsync(Deadline);
        Assert.True(record.IsCompletedSuccessfully);
        Assert.Equal(1, writer.Timeouts);
        Assert.Empty(store.Stored);

        call.Succeed();
        Assert.True(await writer.FlushAsync().WaitAsync(Deadline));
        Assert.Equal(["slow"], store.Stored.Select(e => e.RequestId));
    }

    [Fact]
    public async Task A_failed_write_answers_the_caller_and_is_retried_after_the_backoff()
    {
        var store = new ScriptedStore();
        await using var writer = Writer(store, o => o.RetryBackoffMin = TimeSpan.FromMilliseconds(500));

        var record = writer.RecordAsync(Event("retry-me")).AsTask();
        (await store.NextCallAsync()).Fail(new IOException("storage is down"));
        await record.WaitAsync(Deadline);
        Assert.True(record.IsCompletedSuccessfully);
        Assert.Equal(1, writer.FailedWrites);
        Assert.Empty(store.Stored);

        // While the writer backs off, a new call is answered at once; its event waits with the failed one.
        var during = writer.RecordAsync(Event("during-backoff")).AsTask();
        await during.WaitAsync(Deadline);
        Assert.False(store.HasPendingCall);
        Assert.Equal(2, writer.Retained);

        _time.Advance(TimeSpan.FromMilliseconds(500));
        var retry = await store.NextCallAsync();
        Assert.Equal(["retry-me", "during-backoff"], retry.RequestIds);
        retry.Succeed();
        Assert.True(await writer.FlushAsync().WaitAsync(Deadline));
        Assert.Equal(["retry-me", "during-backoff"], store.Stored.Select(e => e.RequestId));
        Assert.Equal(0, writer.Retained);
    }

    [Fact]
    public async Task A_write_that_stored_the_events_but_failed_to_answer_is_retried_without_storing_them_twice()
    {
        var memory = new InMemoryTraceStore();
        var store = new ScriptedStore(memory);
        await using var writer = Writer(store, o => o.RetryBackoffMin = TimeSpan.FromMilliseconds(100));

        var record = writer.RecordAsync(Event("twice")).AsTask();
        (await store.NextCallAsync()).StoreThenFail(new TimeoutException("the answer was lost"));
        await record.WaitAsync(Deadline);
        Assert.Equal(1, memory.Count);

        _time.Advance(TimeSpan.FromMilliseconds(100));
        (await store.NextCallAsync()).Succeed();
        Assert.True(await writer.FlushAsync().WaitAsync(Deadline));

        // The same call retried by its caller hands the same event again.
        var again = writer.RecordAsync(Event("twice")).AsTask();
        (await store.NextCallAsync()).Succeed();
        await again.WaitAsync(Deadline);
        Assert.Equal(1, memory.Count);
        Assert.Equal(3, writer.Batches);
    }

    [Fact]
    public async Task Flush_writes_what_is_retained_from_a_failed_write()
    {
        var store = new ScriptedStore();
        await using var writer = Writer(store, o => o.RetryBackoffMin = o.RetryBackoffMax = TimeSpan.FromMinutes(5));

        var record = writer.RecordAsync(Event("left-behind")).AsTask();
        (await store.NextCallAsync()).Fail(new IOException("down"));
        await record.WaitAsync(Deadline);
        Assert.Equal(1, writer.Retained);

        // Shutdown does not wait for the five-minute backoff.
        var flush = writer.FlushAsync();
        (await store.NextCallAsync()).Succeed();
        Assert.True(await flush.WaitAsync(Deadline));
        Assert.Equal(["left-behind"], store.Stored.Select(e => e.RequestId));
    }

    [Fact]
    public async Task With_traces_disabled_nothing_reaches_the_store()
    {
        var store = new ScriptedStore();
        await using var writer = Writer(store, o => o.Enabled = false);

        await writer.RecordAsync(Event("off"));

        Assert.False(store.HasPendingCall);
        Assert.Equal(0, writer.Batches);
    }

    [Fact]
    public async Task Retained_events_beyond_MaxRetained_drop_the_oldest()
    {
        var store = new ScriptedStore();
        await using var writer = Writer(store, o => { o.MaxBatch = 2; o.MaxRetained = 2; o.RetryBackoffMin = o.RetryBackoffMax = TimeSpan.FromMinutes(1); });

        var first = writer.RecordAsync(Event("a")).AsTask();
        (await store.NextCallAsync()).Fail(new IOException("down"));
        await first.WaitAsync(Deadline);
        await writer.RecordAsync(Event("b")).AsTask().WaitAsync(Deadline);
        await writer.RecordAsync(Event("c")).AsTask().WaitAsync(Deadline);

        Assert.Equal(1, writer.Dropped);
        Assert.Equal(2, writer.Retained);
        _time.Advance(TimeSpan.FromMinutes(1));
        var retry = await store.NextCallAsync();
        Assert.Equal(["b", "c"], retry.RequestIds);
        retry.Succeed();
    }

    [Fact]
    public async Task The_trace_step_answers_a_call_whose_durable_write_hangs_once_the_write_timeout_passes()
    {
        var store = new ScriptedStore();
        await using var writer = Writer(store, o => o.WriteTimeout = TimeSpan.FromSeconds(2));
        var ring = new InMemoryTraceSink(NullLogger<InMemoryTraceSink>.Instance);
        using var metrics = new GatewayMetrics();
        var step = new TraceStep([ring, writer], metrics, _time, NullLogger<TraceStep>.Instance);
        var context = new GovernedCallContext(
            new GovernedChatRequest("mak.app-w.k.s", "hung-1", "standard", [new ChatTurn("user", "hello")], ChatParameters.None),
            "hung-1", _time, null, CancellationToken.None)
        {
            AppId = "app-w",
        };

        var call = step.InvokeAsync(context, c =>
        {
            c.Fail(GovernedOutcome.BudgetExceeded, "budget_exceeded", "no money left");
            return ValueTask.CompletedTask;
        }).AsTask();
        var write = await store.NextCallAsync();
        Assert.False(call.IsCompleted);

        _time.Advance(TimeSpan.FromSeconds(2));
        await call.WaitAsync(Deadline);
        var traced = Assert.Single(ring.Recent());
        Assert.Equal((TraceOutcomes.Throttled, "budget_exceeded"), (traced.Outcome, traced.ErrorCode));
        Assert.Equal(1, writer.Timeouts);

        write.Succeed();
        Assert.True(await writer.FlushAsync().WaitAsync(Deadline));
        Assert.Equal(traced, Assert.Single(store.Stored));
    }

    [Fact]
    public void Options_that_cannot_work_are_refused_naming_the_setting()
    {
        var result = new TraceWriterOptionsValidator().Validate(null, new TraceWriterOptions
        {
            MaxBatch = 0,
            WriteTimeout = TimeSpan.Zero,
            TablePrefix = "no-dashes",
            LookupWindow = TimeSpan.FromMinutes(5),
        });

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.Contains("Telemetry:Traces:LookupWindow", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Telemetry:Traces:MaxBatch", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Telemetry:Traces:WriteTimeout", StringComparison.Ordinal));
        Assert.Contains(result.Failures!, f => f.Contains("Telemetry:Traces:TablePrefix", StringComparison.Ordinal));
        Assert.True(new TraceWriterOptionsValidator().Validate(null, new TraceWriterOptions()).Succeeded);
    }

    /// <summary>A store whose every AppendAsync waits until the test decides how it ends.</summary>
    private sealed class ScriptedStore(InMemoryTraceStore? inner = null) : ITraceStore
    {
        private readonly Channel<Call> _calls = Channel.CreateUnbounded<Call>();
        private readonly InMemoryTraceStore _inner = inner ?? new InMemoryTraceStore();

        public List<TraceEvent> Stored { get; } = [];

        public bool HasPendingCall => _calls.Reader.Count > 0;

        public async Task<Call> NextCallAsync() => await _calls.Reader.ReadAsync().AsTask().WaitAsync(Deadline);

        public async Task AppendAsync(IReadOnlyList<TraceEvent> events, IReadOnlyList<PromptSample> samples, CancellationToken cancellationToken = default)
        {
            var call = new Call(events.ToList());
            await _calls.Writer.WriteAsync(call, cancellationToken);
            var (store, error) = await call.Outcome.Task.WaitAsync(cancellationToken);
            if (store)
            {
                lock (Stored)
                {
                    Stored.AddRange(events);
                }

                await _inner.AppendAsync(events, samples, cancellationToken);
            }

            if (error is not null)
            {
                throw error;
            }
        }

        public Task<TracePage> QueryAsync(TraceQuery query, CancellationToken cancellationToken = default) => _inner.QueryAsync(query, cancellationToken);

        public Task<TraceRecord?> FindAsync(string appId, string requestId, CancellationToken cancellationToken = default) => _inner.FindAsync(appId, requestId, cancellationToken);

        public Task<FeedbackOutcome> AttachFeedbackAsync(string appId, string requestId, BizFeedback feedback, CancellationToken cancellationToken = default) =>
            _inner.AttachFeedbackAsync(appId, requestId, feedback, cancellationToken);

        public Task<PromptSamplePage> SearchSamplesAsync(PromptSearchQuery query, CancellationToken cancellationToken = default) => _inner.SearchSamplesAsync(query, cancellationToken);

        public Task<IReadOnlyList<string>> AppsActiveInHourAsync(DateTimeOffset hourStart, CancellationToken cancellationToken = default) =>
            _inner.AppsActiveInHourAsync(hourStart, cancellationToken);

        public IAsyncEnumerable<TraceEvent> ScanHourAsync(string appId, DateTimeOffset hourStart, CancellationToken cancellationToken = default) =>
            _inner.ScanHourAsync(appId, hourStart, cancellationToken);

        public sealed class Call(List<TraceEvent> events)
        {
            public TaskCompletionSource<(bool Store, Exception? Error)> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

            public IReadOnlyList<string> RequestIds { get; } = events.Select(e => e.RequestId).ToList();

            public void Succeed() => Outcome.SetResult((true, null));

            public void Fail(Exception error) => Outcome.SetResult((false, error));

            public void StoreThenFail(Exception error) => Outcome.SetResult((true, error));
        }
    }
}
