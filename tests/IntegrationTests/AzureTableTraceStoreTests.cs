using Azure.Data.Tables;
using MessagePack;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>The Azure Table trace store against Azurite: segments, exactly once on read, lookup window, paging, filters, feedback, samples.</summary>
public sealed class AzureTableTraceStoreTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private static readonly DateTimeOffset Hour0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    private static readonly MessagePackSerializerOptions SegmentFormat =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData).WithCompression(MessagePackCompression.Lz4BlockArray);

    /// <summary>A store whose clock stands a few hours after <see cref="Hour0"/> (FindAsync looks back from "now").</summary>
    private (AzureTableTraceStore Store, TableClient Events) NewStore(DateTimeOffset? now = null, TimeSpan? lookupWindow = null)
    {
        var prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        var settings = new TraceWriterOptions { TablePrefix = prefix };
        if (lookupWindow is { } window)
        {
            settings.LookupWindow = window;
        }

        var service = new TableServiceClient(storage.ConnectionString);
        var clock = new FakeTimeProvider(now ?? Hour0.AddHours(5));
        return (new AzureTableTraceStore(service, Options.Create(settings), NullLogger<AzureTableTraceStore>.Instance, clock), service.GetTableClient(prefix + "events"));
    }

    private static TraceEvent Event(string appId, string requestId, DateTimeOffset at, string team = "finance", string outcome = TraceOutcomes.Success,
        string model = "fake-small", int tokensIn = 10) =>
        new(appId, requestId, model, "standard", tokensIn, 5, 2.5, "summary@3", 0.02m, "standard:" + model, outcome, null, team, "hash-" + requestId,
            false, 0.0123m, at, ["admitted", "route:standard"], "allow:default", ["p1 allow applied: matched"], ["email"], 4, outcome == TraceOutcomes.Success ? null : "rate_limited",
            "summarise", 0.2m, "routing", "routed summarise to " + model);

    /// <summary>Physical copies per request id: every stored segment decoded straight from the table (entities, copies).</summary>
    private static async Task<(int Segments, Dictionary<string, int> Copies)> StoredCopiesAsync(TableClient events)
    {
        var copies = new Dictionary<string, int>();
        var segments = 0;
        await foreach (var row in events.QueryAsync<TableEntity>())
        {
            segments++;
            foreach (var e in StoredSegment.Decode(row, SegmentFormat))
            {
                copies[e.RequestId!] = copies.GetValueOrDefault(e.RequestId!) + 1;
            }
        }

        return (segments, copies);
    }

    /// <summary>What the store answers per request id over a range: every page of a query without filters.</summary>
    private static async Task<Dictionary<string, int>> AnsweredAsync(ITraceStore store, DateTimeOffset from, DateTimeOffset to, string? appId = null)
    {
        var answered = new Dictionary<string, int>();
        foreach (var record in await AllPagesAsync(store, new TraceQuery(from, to, AppId: appId, PageSize: 1000)))
        {
            answered[record.Event.RequestId] = answered.GetValueOrDefault(record.Event.RequestId) + 1;
        }

        return answered;
    }

    [Fact]
    public async Task The_first_event_of_a_request_wins_and_appending_again_answers_nothing_twice()
    {
        var (store, events) = NewStore();
        var first = Enumerable.Range(0, 150).Select(i => Event("app-fw", $"r{i}", Hour0.AddSeconds(i))).ToList();
        await store.AppendAsync(first, []);

        // A retried batch overlaps the stored one, and one request arrives again with other content.
        var again = first.Skip(100).Concat(Enumerable.Range(150, 20).Select(i => Event("app-fw", $"r{i}", Hour0.AddSeconds(i)))).ToList();
        again[0] = again[0] with { TokensIn = 999 };
        await store.AppendAsync(again, []);
        await store.AppendAsync(again, []);

        // One segment per write: the identical retry of the second write stored nothing (same segment id, a conflict).
        var (segments, copies) = await StoredCopiesAsync(events);
        Assert.Equal(2, segments);
        Assert.Equal(170, copies.Count);
        Assert.Equal(2, copies["r100"]);
        var answered = await AnsweredAsync(store, Hour0, Hour0.AddHours(1));
        Assert.Equal(170, answered.Count);
        Assert.All(answered, r => Assert.Equal(1, r.Value));
        Assert.Equal(170, (await ToListAsync(store.ScanHourAsync("app-fw", Hour0))).Count);
        var kept = await store.FindAsync("app-fw", "r100");
        Assert.NotNull(kept);
        Assert.Equal(first[100], kept.Event with { Decisions = first[100].Decisions, PolicyMatches = first[100].PolicyMatches, PiiClasses = first[100].PiiClasses });
        Assert.Equal(10, kept.Event.TokensIn);
        Assert.Equal(first[100].Decisions, kept.Event.Decisions);
        Assert.Equal(first[100].PiiClasses, kept.Event.PiiClasses);
    }

    [Fact]
    public async Task A_retried_append_and_a_request_traced_in_two_appends_are_counted_once()
    {
        var (store, events) = NewStore();
        var batch = new List<TraceEvent> { Event("app-d", "d1", Hour0.AddMinutes(1)), Event("app-d", "d2", Hour0.AddMinutes(2)) };
        await store.AppendAsync(batch, []);
        await store.AppendAsync(batch, []);

        // A retried call: the same request id again, later and with other content, in a write of its own with another event.
        await store.AppendAsync([Event("app-d", "d3", Hour0.AddMinutes(3)), Event("app-d", "d1", Hour0.AddMinutes(4), tokensIn: 77)], []);
        // And the same instant twice: the write stored first wins.
        await store.AppendAsync([Event("app-d", "d4", Hour0.AddMinutes(5), tokensIn: 1)], []);
        await store.AppendAsync([Event("app-d", "d4", Hour0.AddMinutes(5), tokensIn: 2), Event("app-d", "d5", Hour0.AddMinutes(6))], []);

        var (segments, copies) = await StoredCopiesAsync(events);
        Assert.Equal(4, segments);
        Assert.Equal(2, copies["d1"]);
        Assert.Equal(1, copies["d2"]);
        Assert.Equal(2, copies["d4"]);

        Assert.Equal(new Dictionary<string, int> { ["d1"] = 1, ["d2"] = 1, ["d3"] = 1, ["d4"] = 1, ["d5"] = 1 }, await AnsweredAsync(store, Hour0, Hour0.AddHours(1), "app-d"));
        Assert.Equal(5, (await AnsweredAsync(store, Hour0, Hour0.AddHours(1))).Count);
        var scanned = await ToListAsync(store.ScanHourAsync("app-d", Hour0));
        Assert.Equal(["d1", "d2", "d3", "d4", "d5"], scanned.Select(e => e.RequestId));
        Assert.Equal(10, scanned[0].TokensIn);
        Assert.Equal(1, scanned[3].TokensIn);
        Assert.Equal(10, (await store.FindAsync("app-d", "d1"))!.Event.TokensIn);
        Assert.Equal(1, (await store.FindAsync("app-d", "d4"))!.Event.TokensIn);
        var one = await store.QueryAsync(new TraceQuery(Hour0, Hour0.AddHours(1), RequestId: "d1"));
        Assert.Equal(Hour0.AddMinutes(1), Assert.Single(one.Items).Event.Timestamp);
    }

    [Fact]
    public async Task A_request_older_than_the_lookup_window_is_not_found_and_takes_no_feedback()
    {
        var (store, events) = NewStore(now: Hour0.AddDays(2), lookupWindow: TimeSpan.FromDays(1));
        await store.AppendAsync([Event("app-w", "old", Hour0.AddMinutes(10)), Event("app-w", "recent", Hour0.AddDays(1).AddHours(2))], []);
        var feedback = new BizFeedback("up", null, null, null, Hour0.AddDays(2));

        Assert.Null(await store.FindAsync("app-w", "old"));
        Assert.Equal(FeedbackOutcome.UnknownRequest, await store.AttachFeedbackAsync("app-w", "old", feedback));
        Assert.Equal("recent", (await store.FindAsync("app-w", "recent"))?.Event.RequestId);
        Assert.Equal(FeedbackOutcome.Recorded, await store.AttachFeedbackAsync("app-w", "recent", feedback));

        // Still stored and queryable by range: the window bounds the lookup by id only.
        Assert.Equal("old", Assert.Single((await store.QueryAsync(new TraceQuery(Hour0, Hour0.AddHours(1), AppId: "app-w"))).Items).Event.RequestId);
        var (_, wider) = NewStoreOver(events, now: Hour0.AddDays(2), lookupWindow: TimeSpan.FromDays(3));
        Assert.Equal("old", (await wider.FindAsync("app-w", "old"))?.Event.RequestId);
    }

    [Fact]
    public async Task A_request_id_traced_again_in_a_later_hour_is_found_once_per_hour()
    {
        var (store, events) = NewStore();
        await store.AppendAsync([Event("app-x", "same", Hour0.AddMinutes(59))], []);
        await store.AppendAsync([Event("app-x", "same", Hour0.AddMinutes(61), tokensIn: 77)], []);

        // The documented corner: a retry that crossed an hour boundary shows once in each hour; FindAsync finds the newer.
        Assert.Equal(2, (await StoredCopiesAsync(events)).Copies["same"]);
        Assert.Equal(1, (await AnsweredAsync(store, Hour0, Hour0.AddHours(1)))["same"]);
        Assert.Equal(1, (await AnsweredAsync(store, Hour0.AddHours(1), Hour0.AddHours(2)))["same"]);
        Assert.Equal(77, (await store.FindAsync("app-x", "same"))!.Event.TokensIn);
    }

    [Fact]
    public async Task Keys_with_characters_tables_forbid_round_trip()
    {
        var (store, _) = NewStore();
        const string requestId = "a/b\\c#d?e|f%g\u0001h";
        await store.AppendAsync([Event("app-keys", requestId, Hour0)], []);

        var found = await store.FindAsync("app-keys", requestId);
        Assert.Equal(requestId, found?.Event.RequestId);
        Assert.Null(await store.FindAsync("app-keys", "a/b"));
        var page = await store.QueryAsync(new TraceQuery(Hour0, Hour0.AddHours(1), RequestId: requestId));
        Assert.Equal(requestId, Assert.Single(page.Items).Event.RequestId);
    }

    [Fact]
    public async Task Queries_filter_walk_hours_newest_first_and_page_to_the_same_result_as_the_in_memory_store()
    {
        var (store, _) = NewStore();
        var memory = new InMemoryTraceStore();
        var all = new List<TraceEvent>();
        for (var i = 0; i < 90; i++)
        {
            all.Add(Event(i % 3 == 0 ? "app-q1" : i % 3 == 1 ? "app-q2" : "app-q3", $"q{i:D3}", Hour0.AddMinutes(i * 2),
                team: i % 2 == 0 ? "finance" : "support", outcome: i % 5 == 0 ? TraceOutcomes.Throttled : TraceOutcomes.Success,
                model: i % 4 == 0 ? "fake-large" : "fake-small"));
        }

        await store.AppendAsync(all, []);
        await memory.AppendAsync(all, []);

        TraceQuery[] queries =
        [
            new(Hour0, Hour0.AddHours(3), PageSize: 7),
            new(Hour0, Hour0.AddHours(3), AppId: "app-q2", PageSize: 4),
            new(Hour0.AddMinutes(30), Hour0.AddMinutes(150), Team: "support", PageSize: 5),
            new(Hour0, Hour0.AddHours(3), Outcome: TraceOutcomes.Throttled, Model: "fake-large", PageSize: 2),
            new(Hour0, Hour0.AddHours(3), Tier: "standard", PromptVersion: "summary@3", PageSize: 1000),
            new(Hour0, Hour0.AddHours(3), AppId: "app-q1", Team: "nobody", PageSize: 3),
        ];
        foreach (var query in queries)
        {
            var expected = await AllPagesAsync(memory, query);
            var actual = await AllPagesAsync(store, query);
            Assert.Equal(expected.Select(r => r.Event.RequestId).Order(), actual.Select(r => r.Event.RequestId).Order());
            Assert.Equal(actual.Count, actual.Select(r => r.Event.RequestId).Distinct().Count());
            var hours = actual.Select(r => TraceHours.StartOf(r.Event.Timestamp)).ToList();
            Assert.Equal(hours.OrderDescending(), hours);
        }

        Assert.NotEmpty(await AllPagesAsync(store, queries[3]));
        var error = await Assert.ThrowsAsync<ArgumentException>(() => store.QueryAsync(queries[0] with { ContinuationToken = "not-a-token" }));
        Assert.Contains("not-a-token", error.Message);
        var page = await store.QueryAsync(queries[0]);
        var otherRange = await Assert.ThrowsAsync<ArgumentException>(() => store.QueryAsync(new TraceQuery(Hour0.AddDays(-2), Hour0.AddDays(-1), ContinuationToken: page.ContinuationToken)));
        Assert.Contains("continuation token", otherRange.Message);
    }

    [Fact]
    public async Task Hour_markers_name_the_active_apps_and_a_scan_returns_one_apps_hour()
    {
        var (store, _) = NewStore();
        await store.AppendAsync([Event("app-h1", "h1", Hour0.AddMinutes(5)), Event("app-h2", "h2", Hour0.AddMinutes(6)), Event("app-h1", "h3", Hour0.AddMinutes(65))], []);

        Assert.Equal(["app-h1", "app-h2"], await store.AppsActiveInHourAsync(Hour0.AddMinutes(30)));
        Assert.Equal(["app-h1"], await store.AppsActiveInHourAsync(Hour0.AddHours(1)));
        Assert.Empty(await store.AppsActiveInHourAsync(Hour0.AddHours(2)));
        Assert.Equal(["h1"], (await ToListAsync(store.ScanHourAsync("app-h1", Hour0))).Select(e => e.RequestId));
    }

    [Fact]
    public async Task Feedback_joins_the_stored_trace_and_an_unknown_request_is_reported()
    {
        var (store, _) = NewStore();
        await store.AppendAsync([Event("app-fb", "fb-1", Hour0)], []);
        var feedback = new BizFeedback("up", "helpful", true, 12.5, Hour0.AddMinutes(3));

        Assert.Equal(FeedbackOutcome.Recorded, await store.AttachFeedbackAsync("app-fb", "fb-1", feedback));
        Assert.Equal(FeedbackOutcome.UnknownRequest, await store.AttachFeedbackAsync("app-fb", "fb-missing", feedback));
        Assert.Equal(FeedbackOutcome.UnknownRequest, await store.AttachFeedbackAsync("app-other", "fb-1", feedback));

        var found = await store.FindAsync("app-fb", "fb-1");
        Assert.Equal(feedback, found?.Feedback);
        Assert.Equal("thumbs=up;label=helpful;converted=true;value=12.5", found?.Event.BizMetric);
        var queried = Assert.Single((await store.QueryAsync(new TraceQuery(Hour0, Hour0.AddHours(1), AppId: "app-fb"))).Items);
        Assert.Equal(feedback, queried.Feedback);
    }

    [Fact]
    public async Task Prompt_samples_are_searched_case_insensitively_newest_day_first_and_paged()
    {
        var (store, _) = NewStore();
        var samples = new List<PromptSample>();
        for (var i = 0; i < 12; i++)
        {
            var text = i % 2 == 0 ? $"Invoice {i} for [REDACTED:email]" : $"weather report {i}";
            samples.Add(new PromptSample(i % 3 == 0 ? "app-s1" : "app-s2", $"s{i}", Hour0.AddHours(-i * 5), text, "answer " + i, ["email"], "finance", "fake-small"));
        }

        var huge = new PromptSample("app-s1", "huge", Hour0, "INVOICE " + string.Concat(Enumerable.Range(0, 40_000).Select(i => $"{i} ")), "ok", [], "finance");
        await store.AppendAsync([], samples.Append(huge).ToList());
        await store.AppendAsync([], samples);

        var query = new PromptSearchQuery("invoice", Hour0.AddDays(-3), Hour0.AddHours(1), PageSize: 2);
        var found = new List<PromptSample>();
        string? token = null;
        do
        {
            var page = await store.SearchSamplesAsync(query with { ContinuationToken = token });
            Assert.True(page.Items.Count <= 2);
            found.AddRange(page.Items);
            token = page.ContinuationToken;
        }
        while (token is not null);

        Assert.Equal(["huge", "s0", "s10", "s2", "s4", "s6", "s8"], found.Select(s => s.RequestId).Order());
        var days = found.Select(s => s.Timestamp.UtcDateTime.Date).ToList();
        Assert.Equal(days.OrderDescending(), days);
        Assert.Equal(huge.RedactedPrompt, found.Single(s => s.RequestId == "huge").RedactedPrompt);
        var oneApp = await store.SearchSamplesAsync(query with { AppId = "app-s2", PageSize = 100 });
        Assert.Equal(["s10", "s2", "s4", "s8"], oneApp.Items.Select(s => s.RequestId).Order());
        await Assert.ThrowsAsync<ArgumentException>(() => store.SearchSamplesAsync(query with { ContinuationToken = "bogus" }));
    }

    /// <summary>A second store over the same tables, with another clock or window.</summary>
    private (TableClient Events, AzureTableTraceStore Store) NewStoreOver(TableClient events, DateTimeOffset now, TimeSpan lookupWindow)
    {
        var settings = new TraceWriterOptions { TablePrefix = events.Name[..^"events".Length], LookupWindow = lookupWindow };
        var service = new TableServiceClient(storage.ConnectionString);
        return (events, new AzureTableTraceStore(service, Options.Create(settings), NullLogger<AzureTableTraceStore>.Instance, new FakeTimeProvider(now)));
    }

    private static async Task<List<TraceRecord>> AllPagesAsync(ITraceStore store, TraceQuery query)
    {
        var all = new List<TraceRecord>();
        string? token = null;
        do
        {
            var page = await store.QueryAsync(query with { ContinuationToken = token });
            Assert.True(page.Items.Count <= query.PageSize, $"a page of {page.Items.Count} for page size {query.PageSize}");
            all.AddRange(page.Items);
            token = page.ContinuationToken;
        }
        while (token is not null);

        return all;
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items)
        {
            list.Add(item);
        }

        return list;
    }
}
