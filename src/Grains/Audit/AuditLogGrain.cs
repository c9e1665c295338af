using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace MicroApps.Orleans.Audit;

/// <summary>
/// The append-only audit log. Each entry gets the next sequence (from 1, without gaps) and a SHA-256 hash over the
/// previous entry's hash and itself (<see cref="AuditChain"/>); it is durable before the reply.
/// </summary>
/// <remarks>
/// <para>Layout: this grain keeps the head (next sequence, last hash, one small record per retained UTC day); the
/// entries live in <see cref="IAuditSegmentGrain"/>s keyed <c>{log}/{yyyy-MM-dd}/{n}</c>, each holding at most
/// <see cref="AuditSegmentGrain.Capacity"/> consecutive entries. No stored row grows without bound: segments are
/// capped, and the head grows by one small record per day (bounded by the retention).</para>
/// <para>Writes: appends are assigned sequence and hash synchronously (turns never run in parallel, so the chain
/// is exact), then written in batches: callers arriving while a batch is written share the next one. The head is
/// written first, then the segments, so stored entries are always a prefix of what the head describes; after a
/// failed write the grain deactivates and on activation rolls the head back to the last stored entry (those
/// callers got an error, so nothing acknowledged is lost and no sequence is reused once stored).</para>
/// <para>Retention (<c>Audit:RetentionDays</c>): checked on activation and on every append against the clock, so
/// a missed or repeated check changes nothing; whole days older than the retention leave the head first and their
/// segments are cleared afterwards (retried until done). The last dropped entry's hash stays as the anchor the
/// retained chain verifies from. There is no other removal and no edit.</para>
/// </remarks>
[Reentrant]
public sealed class AuditLogGrain(
    [PersistentState("auditLog", "store")] IPersistentState<AuditLogState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    IOptions<AuditOptions> options,
    ILogger<AuditLogGrain> logger) : Grain, IAuditLogGrain
{
    /// <summary>How many segments one query call reads before it answers with a continuation.</summary>
    internal const int SegmentsPerQuery = 32;

    private List<PendingAppend> _pending = [];
    private Task? _flushing;
    private long _durableSequence;
    private bool _broken;

    private AuditLogState S => state.State;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var changed = await RecoverAsync();
        _durableSequence = S.NextSequence - 1;
        changed |= ApplyRetention(time.GetUtcNow());
        if (changed)
        {
            await state.WriteStateAsync();
        }

        await DropExpiredSegmentsAsync();
    }

    public async Task<AuditEntry> AppendAsync(AuditRecord record)
    {
        var normalized = AuditChain.Normalize(record);
        if (_broken)
        {
            throw new InvalidOperationException("The audit log is recovering from a failed write; retry the call.");
        }

        // Entry times never go backwards, so sequence order is time order and days never interleave.
        var now = time.GetUtcNow().ToUniversalTime();
        if (now < S.LastAt)
        {
            now = S.LastAt;
        }

        var dayKey = now.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var sequence = S.NextSequence;
        if (S.Days.Count == 0 || !string.Equals(S.Days[^1].Day, dayKey, StringComparison.Ordinal))
        {
            S.Days.Add(new AuditDay { Day = dayKey, FirstSequence = sequence, LastSequence = sequence - 1, EntriesPerSegment = AuditSegmentGrain.Capacity, LastHash = S.LastHash });
        }

        var day = S.Days[^1];
        var entry = new AuditEntry(sequence, now, normalized, AuditChain.Hash(S.LastHash, sequence, now, normalized));
        S.NextSequence = sequence + 1;
        S.LastHash = entry.Hash;
        S.LastAt = now;
        day.LastSequence = sequence;
        day.LastHash = entry.Hash;
        ApplyRetention(now);

        var pending = new PendingAppend(entry, SegmentKey(day.Day, day.SegmentOf(sequence)));
        _pending.Add(pending);
        if (_flushing is null || _flushing.IsCompleted)
        {
            _flushing = FlushAsync();
        }

        await pending.Durable.Task;
        return entry;
    }

    public async Task<AuditPage> QueryAsync(AuditQuery query)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.PageSize is < 1 or > AuditQuery.MaxPageSize)
        {
            throw new ArgumentOutOfRangeException(nameof(query), query.PageSize, $"pageSize must be between 1 and {AuditQuery.MaxPageSize}.");
        }

        if (query.From is { } f && query.To is { } t && f >= t)
        {
            throw new ArgumentException("from must be before to.", nameof(query));
        }

        long before = long.MaxValue;
        if (query.Continuation is not null && !TryParseContinuation(query.Continuation, out before))
        {
            throw new ArgumentException($"continuation '{query.Continuation}' is not one this log gave out.", nameof(query));
        }

        var upper = Math.Min(before - 1, _durableSequence);
        var days = SnapshotDays();
        var found = new List<AuditEntry>(query.PageSize);
        var read = 0;
        for (var d = days.Count - 1; d >= 0; d--)
        {
            var day = days[d];
            if (day.FirstSequence > upper || (query.To is { } to && DayStart(day.Day) >= to))
            {
                continue;
            }

            if (query.From is { } from && DayStart(day.Day).AddDays(1) <= from)
            {
                break;
            }

            for (var segment = day.SegmentOf(Math.Min(day.LastSequence, upper)); segment >= 0; segment--)
            {
                if (read == SegmentsPerQuery)
                {
                    return new AuditPage(found, Continuation(upper + 1));
                }

                var entries = await GrainFactory.GetGrain<IAuditSegmentGrain>(SegmentKey(day.Day, segment)).GetAsync();
                read++;
                for (var i = entries.Count - 1; i >= 0; i--)
                {
                    var entry = entries[i];
                    if (entry.Sequence > upper || !Matches(query, entry))
                    {
                        continue;
                    }

                    found.Add(entry);
                    if (found.Count == query.PageSize)
                    {
                        return new AuditPage(found, entry.Sequence > S.AnchorSequence + 1 ? Continuation(entry.Sequence) : null);
                    }
                }

                upper = day.FirstOfSegment(segment) - 1;
            }
        }

        return new AuditPage(found, null);
    }

    public async Task<AuditVerification> VerifyAsync(DateTimeOffset? from, DateTimeOffset? to)
    {
        if (from is { } f && to is { } t && f >= t)
        {
            throw new ArgumentException("from must be before to.", nameof(from));
        }

        var durable = _durableSequence;
        var days = SnapshotDays()
            .Where(d => d.FirstSequence <= durable
                && (from is null || DayStart(d.Day).AddDays(1) > from)
                && (to is null || DayStart(d.Day) < to))
            .ToList();
        if (days.Count == 0)
        {
            return new AuditVerification(true, 0, 0, 0, null, null);
        }

        // The chain into the first day: the previous retained day's last entry, or the retention anchor.
        var all = SnapshotDays();
        var firstIndex = all.FindIndex(d => d.Day == days[0].Day);
        var (previousSequence, previousHash) = firstIndex > 0
            ? await LastStoredAsync(all[firstIndex - 1].Day, all[firstIndex - 1].FirstSequence, all[firstIndex - 1].SegmentCount)
            : (S.AnchorSequence, S.AnchorHash);

        var first = previousSequence + 1;
        long checkedCount = 0;
        foreach (var day in days)
        {
            var last = Math.Min(day.LastSequence, durable);
            for (var segment = 0; segment <= day.SegmentOf(last); segment++)
            {
                var entries = await GrainFactory.GetGrain<IAuditSegmentGrain>(SegmentKey(day.Day, segment)).GetAsync();
                var expectedCount = (int)(Math.Min(last, day.FirstOfSegment(segment + 1) - 1) - day.FirstOfSegment(segment) + 1);
                var inRange = entries.Where(e => e.Sequence <= last).ToList();
                var broken = AuditChain.FirstBreak(previousSequence, previousHash, inRange);
                if (broken is null && inRange.Count < expectedCount)
                {
                    var missing = (inRange.Count == 0 ? previousSequence : inRange[^1].Sequence) + 1;
                    broken = (missing, $"entry {missing} is missing from segment {SegmentKey(day.Day, segment)}");
                }

                if (broken is { } b)
                {
                    checkedCount += inRange.Count(e => e.Sequence < b.Sequence);
                    return new AuditVerification(false, checkedCount, first, b.Sequence, b.Sequence, b.Problem);
                }

                checkedCount += inRange.Count;
                if (inRange.Count > 0)
                {
                    (previousSequence, previousHash) = (inRange[^1].Sequence, inRange[^1].Hash);
                }
            }
        }

        return new AuditVerification(true, checkedCount, checkedCount == 0 ? 0 : first, checkedCount == 0 ? 0 : previousSequence, null, null);
    }

    private async Task FlushAsync()
    {
        List<PendingAppend>? batch = null;
        try
        {
            while (_pending.Count > 0)
            {
                batch = _pending;
                _pending = [];

                // Head first: stored entries then never run ahead of what the head describes (see remarks).
                await state.WriteStateAsync();
                foreach (var segment in batch.GroupBy(p => p.SegmentKey, StringComparer.Ordinal))
                {
                    await GrainFactory.GetGrain<IAuditSegmentGrain>(segment.Key).AppendAsync(segment.Select(p => p.Entry).ToArray());
                }

                _durableSequence = batch[^1].Entry.Sequence;
                foreach (var appended in batch)
                {
                    appended.Durable.TrySetResult();
                }

                batch = null;
                await DropExpiredSegmentsAsync();
            }
        }
        catch (Exception ex)
        {
            // The head in memory now runs ahead of storage: refuse appends until a fresh activation recovers.
            _broken = true;
            logger.LogError(ex, "Audit log {Log}: a write failed; the log deactivates and recovers from storage.", this.GetPrimaryKeyString());
            foreach (var failed in (batch ?? []).Concat(_pending))
            {
                failed.Durable.TrySetException(ex);
            }

            _pending = [];
            DeactivateOnIdle();
        }
    }

    /// <summary>
    /// Rolls the head back to the last entry actually stored, after a failed write left it ahead (see remarks).
    /// </summary>
    private async Task<bool> RecoverAsync()
    {
        var changed = false;
        while (S.Days.Count > 0)
        {
            var day = S.Days[^1];
            var (sequence, hash) = await LastStoredAsync(day.Day, day.FirstSequence, day.SegmentCount);
            if (sequence >= day.FirstSequence)
            {
                if (sequence != day.LastSequence || sequence != S.NextSequence - 1)
                {
                    logger.LogWarning("Audit log {Log}: entries {From}..{To} were never stored; the head rolls back to {Last}.",
                        this.GetPrimaryKeyString(), sequence + 1, S.NextSequence - 1, sequence);
                    day.LastSequence = sequence;
                    day.LastHash = hash;
                    S.NextSequence = sequence + 1;
                    S.LastHash = hash;
                    changed = true;
                }

                return changed;
            }

            S.Days.RemoveAt(S.Days.Count - 1);
            changed = true;
        }

        if (S.NextSequence != S.AnchorSequence + 1)
        {
            S.NextSequence = S.AnchorSequence + 1;
            S.LastHash = S.AnchorHash;
            changed = true;
        }

        return changed;
    }

    /// <summary>The last stored entry of a day (walking back over segments a failed write left empty).</summary>
    private async Task<(long Sequence, string Hash)> LastStoredAsync(string day, long firstSequence, int segmentCount)
    {
        for (var segment = segmentCount - 1; segment >= 0; segment--)
        {
            var tail = await GrainFactory.GetGrain<IAuditSegmentGrain>(SegmentKey(day, segment)).GetTailAsync();
            if (tail is not null)
            {
                return (tail.Sequence, tail.Hash);
            }
        }

        return (firstSequence - 1, "");
    }

    /// <summary>Moves whole days older than the retention from the head to the drop list; true when any moved.</summary>
    private bool ApplyRetention(DateTimeOffset now)
    {
        var retentionDays = options.Value.RetentionDays;
        if (retentionDays <= 0)
        {
            return false;
        }

        var keepFrom = now.UtcDateTime.Date.AddDays(-retentionDays).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
        var changed = false;
        while (S.Days.Count > 0 && string.CompareOrdinal(S.Days[0].Day, keepFrom) < 0)
        {
            var day = S.Days[0];
            S.Days.RemoveAt(0);
            S.AnchorSequence = day.LastSequence;
            S.AnchorHash = day.LastHash;
            S.PendingDrops.Add(day);
            changed = true;
        }

        return changed;
    }

    /// <summary>Clears the segments of dropped days once everything they were to hold is stored; retried until done.</summary>
    private async Task DropExpiredSegmentsAsync()
    {
        var ready = S.PendingDrops.Where(d => d.LastSequence <= _durableSequence).ToList();
        if (ready.Count == 0)
        {
            return;
        }

        try
        {
            foreach (var day in ready)
            {
                for (var segment = 0; segment < day.SegmentCount; segment++)
                {
                    await GrainFactory.GetGrain<IAuditSegmentGrain>(SegmentKey(day.Day, segment)).DropAsync();
                }

                S.PendingDrops.Remove(day);
            }

            await state.WriteStateAsync();
        }
        catch (Exception ex)
        {
            // Clearing is idempotent; the days stay on the drop list and the next append or activation retries.
            logger.LogWarning(ex, "Audit log {Log}: clearing expired segments failed; will retry.", this.GetPrimaryKeyString());
        }
    }

    private List<AuditDaySnapshot> SnapshotDays() =>
        S.Days.Select(d => new AuditDaySnapshot(d.Day, d.FirstSequence, d.LastSequence, d.EntriesPerSegment)).ToList();

    private string SegmentKey(string day, int segment) =>
        $"{this.GetPrimaryKeyString()}/{day}/{segment.ToString(CultureInfo.InvariantCulture)}";

    private static DateTimeOffset DayStart(string day) =>
        DateTimeOffset.ParseExact(day, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

    private static bool Matches(AuditQuery query, AuditEntry entry) =>
        (query.From is null || entry.At >= query.From)
        && (query.To is null || entry.At < query.To)
        && (string.IsNullOrEmpty(query.Actor) || string.Equals(entry.Record.Actor, query.Actor, StringComparison.Ordinal))
        && (string.IsNullOrEmpty(query.Action) || entry.Record.Action.StartsWith(query.Action, StringComparison.Ordinal))
        && (string.IsNullOrEmpty(query.Target) || string.Equals(entry.Record.Target, query.Target, StringComparison.Ordinal));

    /// <summary>A continuation is the sequence the next page reads below.</summary>
    private static string Continuation(long before) => before.ToString(CultureInfo.InvariantCulture);

    /// <summary>Whether <paramref name="continuation"/> has the form this log gives out.</summary>
    public static bool TryParseContinuation(string continuation, out long before) =>
        long.TryParse(continuation, NumberStyles.None, CultureInfo.InvariantCulture, out before) && before > 0;

    private sealed record PendingAppend(AuditEntry Entry, string SegmentKey)
    {
        public TaskCompletionSource Durable { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private readonly record struct AuditDaySnapshot(string Day, long FirstSequence, long LastSequence, int EntriesPerSegment)
    {
        public int SegmentCount => LastSequence < FirstSequence ? 0 : SegmentOf(LastSequence) + 1;

        public int SegmentOf(long sequence) => (int)((sequence - FirstSequence) / EntriesPerSegment);

        public long FirstOfSegment(int segment) => FirstSequence + ((long)segment * EntriesPerSegment);
    }
}
