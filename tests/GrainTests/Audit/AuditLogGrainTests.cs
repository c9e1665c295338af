using System.Runtime.CompilerServices;
using MicroApps.Orleans.Audit;

namespace MicroApps.Orleans.GrainTests.Audit;

internal static class AuditTestSetup
{
    /// <summary>Short enough that the retention test moves the shared clock by about a month, not a year.</summary>
    public const int RetentionDays = 30;

#pragma warning disable CA2255 // The shared cluster reads its settings when it starts; this runs before any test.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Configure() =>
        ClusterFixture.SiloSettings["Audit:RetentionDays"] = RetentionDays.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

[Collection(ClusterCollection.Name)]
public sealed class AuditLogGrainTests(ClusterFixture fixture)
{
    private IAuditLogGrain NewLog() => fixture.Grains.GetGrain<IAuditLogGrain>($"test-{Guid.NewGuid():N}");

    private static AuditRecord Record(string action = "app.promoted", string actor = "admin", string target = "app:a", string reason = "because") =>
        new(actor, "admin", action, target, reason);

    private static async Task<List<AuditEntry>> ReadAllAsync(IAuditLogGrain log, AuditQuery query)
    {
        var all = new List<AuditEntry>();
        string? continuation = null;
        for (var pages = 0; pages < 1000; pages++)
        {
            var page = await log.QueryAsync(query with { Continuation = continuation });
            Assert.True(page.Entries.Count <= query.PageSize);
            all.AddRange(page.Entries);
            continuation = page.Continuation;
            if (continuation is null)
            {
                return all;
            }
        }

        Assert.Fail("the query never ended");
        return all;
    }

    [Fact]
    public async Task Sequence_is_gapless_under_concurrent_appends_across_segments()
    {
        var log = NewLog();
        const int count = 300; // more than two segments

        var entries = await Task.WhenAll(Enumerable.Range(0, count).Select(i => log.AppendAsync(Record(reason: $"r{i}"))));

        Assert.Equal(Enumerable.Range(1, count).Select(i => (long)i), entries.Select(e => e.Sequence).Order());
        var stored = await ReadAllAsync(log, new AuditQuery(PageSize: AuditQuery.MaxPageSize));
        Assert.Equal(Enumerable.Range(1, count).Reverse().Select(i => (long)i), stored.Select(e => e.Sequence));
        Assert.Equal(entries.OrderBy(e => e.Sequence).Select(e => e.Hash), stored.AsEnumerable().Reverse().Select(e => e.Hash));
    }

    [Fact]
    public async Task Each_hash_covers_the_previous_hash_and_the_entry_and_the_chain_verifies()
    {
        var log = NewLog();
        var first = await log.AppendAsync(Record(reason: "one"));
        var second = await log.AppendAsync(Record(action: "key.issued", reason: "two"));

        Assert.Equal(AuditChain.Hash(AuditChain.Genesis, 1, first.At, first.Record), first.Hash);
        Assert.Equal(AuditChain.Hash(first.Hash, 2, second.At, second.Record), second.Hash);
        Assert.NotEqual(AuditChain.Hash(AuditChain.Genesis, 2, second.At, second.Record), second.Hash);

        var verification = await log.VerifyAsync(null, null);
        Assert.True(verification.Intact, verification.Problem);
        Assert.Equal(2, verification.Checked);
        Assert.Equal(1, verification.FirstSequence);
        Assert.Equal(2, verification.LastSequence);
        Assert.Null(verification.BrokenAtSequence);
    }

    [Fact]
    public void Verification_names_the_first_altered_or_missing_entry()
    {
        var at = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
        var chain = new List<AuditEntry>();
        var previous = AuditChain.Genesis;
        for (var i = 1; i <= 4; i++)
        {
            var record = Record(reason: $"r{i}");
            var hash = AuditChain.Hash(previous, i, at, record);
            chain.Add(new AuditEntry(i, at, record, hash));
            previous = hash;
        }

        Assert.Null(AuditChain.FirstBreak(0, AuditChain.Genesis, chain));

        var edited = chain.ToList();
        edited[2] = edited[2] with { Record = edited[2].Record with { Reason = "rewritten" } };
        Assert.Equal(3, AuditChain.FirstBreak(0, AuditChain.Genesis, edited)?.Sequence);

        var removed = chain.Where(e => e.Sequence != 2).ToList();
        var gap = AuditChain.FirstBreak(0, AuditChain.Genesis, removed);
        Assert.Equal(2, gap?.Sequence);
        Assert.Contains("missing", gap?.Problem);

        // Re-hashing an edited entry does not help: its successor no longer links to it.
        var rehashed = chain.ToList();
        var forged = rehashed[1].Record with { Actor = "someone-else" };
        rehashed[1] = rehashed[1] with { Record = forged, Hash = AuditChain.Hash(chain[0].Hash, 2, at, forged) };
        Assert.Equal(3, AuditChain.FirstBreak(0, AuditChain.Genesis, rehashed)?.Sequence);
    }

    [Fact]
    public async Task Query_filters_by_actor_action_prefix_target_and_time()
    {
        var log = NewLog();
        var start = ClusterFixture.Time.GetUtcNow();
        await log.AppendAsync(Record("key.issued", "author-alice", "app:one"));
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(1));
        var middle = ClusterFixture.Time.GetUtcNow();
        await log.AppendAsync(Record("app.promoted", "approver-carol", "app:one"));
        await log.AppendAsync(Record("app.rolled_back", "admin", "app:two"));
        ClusterFixture.Time.Advance(TimeSpan.FromMinutes(1));
        var late = ClusterFixture.Time.GetUtcNow();
        await log.AppendAsync(Record("budget.configured", "admin", "budget:b"));

        static IEnumerable<long> Sequences(AuditPage page) => page.Entries.Select(e => e.Sequence);
        Assert.Equal([4, 3], Sequences(await log.QueryAsync(new AuditQuery(Actor: "admin"))));
        Assert.Equal([3, 2], Sequences(await log.QueryAsync(new AuditQuery(Action: "app."))));
        Assert.Equal([1], Sequences(await log.QueryAsync(new AuditQuery(Action: "key.issued"))));
        Assert.Equal([2, 1], Sequences(await log.QueryAsync(new AuditQuery(Target: "app:one"))));
        Assert.Equal([3, 2], Sequences(await log.QueryAsync(new AuditQuery(From: middle, To: late))));
        Assert.Equal([4], Sequences(await log.QueryAsync(new AuditQuery(From: late))));
        Assert.Equal([1], Sequences(await log.QueryAsync(new AuditQuery(From: start, To: middle))));
        Assert.Empty((await log.QueryAsync(new AuditQuery(Actor: "nobody"))).Entries);
    }

    [Fact]
    public async Task Query_pages_newest_first_with_a_continuation_until_none_is_left()
    {
        var log = NewLog();
        for (var i = 0; i < 7; i++)
        {
            await log.AppendAsync(Record(reason: $"r{i}"));
        }

        var first = await log.QueryAsync(new AuditQuery(PageSize: 3));
        Assert.Equal([7, 6, 5], first.Entries.Select(e => e.Sequence));
        Assert.NotNull(first.Continuation);
        var second = await log.QueryAsync(new AuditQuery(PageSize: 3, Continuation: first.Continuation));
        Assert.Equal([4, 3, 2], second.Entries.Select(e => e.Sequence));
        var third = await log.QueryAsync(new AuditQuery(PageSize: 3, Continuation: second.Continuation));
        Assert.Equal([1], third.Entries.Select(e => e.Sequence));
        Assert.Null(third.Continuation);
    }

    [Theory]
    [InlineData(0, null)]
    [InlineData(AuditQuery.MaxPageSize + 1, null)]
    [InlineData(10, "not-a-continuation")]
    [InlineData(10, "-5")]
    public async Task Query_refuses_a_bad_page_size_or_continuation(int pageSize, string? continuation)
    {
        var log = NewLog();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => log.QueryAsync(new AuditQuery(PageSize: pageSize, Continuation: continuation)));
    }

    [Fact]
    public async Task Append_refuses_a_record_without_actor_or_with_a_malformed_action_and_cuts_long_reasons()
    {
        var log = NewLog();
        await Assert.ThrowsAnyAsync<ArgumentException>(() => log.AppendAsync(Record(actor: " ")));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => log.AppendAsync(Record(action: "App Promoted")));

        var entry = await log.AppendAsync(Record(reason: new string('x', 5000)));

        Assert.Equal(1, entry.Sequence); // the refused records took no sequence
        Assert.Equal(AuditChain.MaxReasonLength, entry.Record.Reason.Length);
        Assert.True((await log.VerifyAsync(null, null)).Intact);
    }

    [Fact]
    public async Task The_chain_continues_where_it_stopped_after_the_log_is_reactivated()
    {
        var log = NewLog();
        await log.AppendAsync(Record(reason: "before"));
        var second = await log.AppendAsync(Record(reason: "before"));

        var management = fixture.Grains.GetGrain<IManagementGrain>(0);
        Assert.Contains(await management.GetDetailedGrainStatistics(), s => s.GrainId == log.GetGrainId());
        await management.ForceActivationCollection(TimeSpan.Zero);
        var active = await management.GetDetailedGrainStatistics();
        Assert.DoesNotContain(active, s => s.GrainId == log.GetGrainId());

        var third = await log.AppendAsync(Record(reason: "after"));

        Assert.Equal(3, third.Sequence);
        Assert.Equal(AuditChain.Hash(second.Hash, 3, third.At, third.Record), third.Hash);
        var verification = await log.VerifyAsync(null, null);
        Assert.True(verification.Intact, verification.Problem);
        Assert.Equal(3, verification.Checked);
    }

    [Fact]
    public async Task Retention_drops_only_whole_days_older_than_the_retention_and_the_rest_still_verifies()
    {
        var log = NewLog();
        var day0 = ClusterFixture.Time.GetUtcNow();
        var a = await log.AppendAsync(Record(reason: "day 0"));
        ClusterFixture.Time.Advance(TimeSpan.FromDays(1));
        var b = await log.AppendAsync(Record(reason: "day 1"));

        // Day 0 is now just past the retention; day 1 is exactly at its edge and stays.
        ClusterFixture.Time.Advance(TimeSpan.FromDays(AuditTestSetup.RetentionDays));
        var c = await log.AppendAsync(Record(reason: "day 31"));

        var kept = await ReadAllAsync(log, new AuditQuery());
        Assert.Equal([c.Sequence, b.Sequence], kept.Select(e => e.Sequence));
        var day0Segment = fixture.Grains.GetGrain<IAuditSegmentGrain>($"{log.GetPrimaryKeyString()}/{day0.UtcDateTime:yyyy-MM-dd}/0");
        Assert.Empty(await day0Segment.GetAsync());
        var verification = await log.VerifyAsync(null, null);
        Assert.True(verification.Intact, verification.Problem);
        Assert.Equal(b.Sequence, verification.FirstSequence);
        Assert.Equal(2, verification.Checked);

        // A repeated check on the same day drops nothing more; sequences continue after the dropped entry.
        var d = await log.AppendAsync(Record(reason: "day 31 again"));
        Assert.Equal(a.Sequence + 3, d.Sequence);
        Assert.Equal([d.Sequence, c.Sequence, b.Sequence], (await ReadAllAsync(log, new AuditQuery())).Select(e => e.Sequence));

        ClusterFixture.Time.Advance(TimeSpan.FromDays(1));
        await log.AppendAsync(Record(reason: "day 32"));
        var afterSecondDrop = await ReadAllAsync(log, new AuditQuery());
        Assert.DoesNotContain(afterSecondDrop, e => e.Sequence == b.Sequence);
        Assert.True((await log.VerifyAsync(null, null)).Intact);
    }
}
