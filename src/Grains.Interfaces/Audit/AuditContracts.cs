namespace MicroApps.Orleans.Audit;

/// <summary>
/// One thing someone did, as the audit log keeps it. <see cref="Action"/> is dotted, e.g. <c>policy.published</c>,
/// <c>app.version.approved</c>, <c>app.promoted</c>, <c>app.rolled_back</c>, <c>key.issued</c>, <c>key.revoked</c>,
/// <c>budget.configured</c>, <c>egress.refused</c>.
/// </summary>
/// <param name="Action">What was done (dotted, see above).</param>
/// <param name="Actor">Principal name (or <c>system</c>).</param>
/// <param name="Role">The actor's role when acting.</param>
/// <param name="Target">What was acted on, e.g. <c>app:demo-summarizer</c>, <c>policy:default</c>, <c>budget:team:x</c>.</param>
/// <param name="Reason">Why: the comment given, or what was refused.</param>
[GenerateSerializer, Immutable, Alias("microapps.AuditRecord")]
public sealed record AuditRecord(
    [property: Id(0)] string Actor,
    [property: Id(1)] string Role,
    [property: Id(2)] string Action,
    [property: Id(3)] string Target,
    [property: Id(4)] string Reason);

/// <summary>A stored audit entry: the record, when, and its place in the append-only chain.</summary>
/// <param name="At">When it was appended.</param>
/// <param name="Record">What was done, by whom.</param>
/// <param name="Sequence">Position in the log, from 1, without gaps.</param>
/// <param name="Hash">SHA-256 over the previous entry's hash and this entry, so an edited or removed entry shows.</param>
[GenerateSerializer, Immutable, Alias("microapps.AuditEntry")]
public sealed record AuditEntry(
    [property: Id(0)] long Sequence,
    [property: Id(1)] DateTimeOffset At,
    [property: Id(2)] AuditRecord Record,
    [property: Id(3)] string Hash);

/// <summary>
/// A question to the audit log. Every filter is optional; entries come newest first.
/// </summary>
/// <param name="From">Only entries at or after this time.</param>
/// <param name="To">Only entries before this time (exclusive).</param>
/// <param name="Actor">Only entries by this principal (exact).</param>
/// <param name="Action">Only entries whose action starts with this (e.g. <c>app.</c> or <c>key.issued</c>).</param>
/// <param name="Target">Only entries on this target (exact, e.g. <c>app:demo-summarizer</c>).</param>
/// <param name="PageSize">At most this many entries (1 to <see cref="MaxPageSize"/>).</param>
/// <param name="Continuation">The <see cref="AuditPage.Continuation"/> of the previous page, or null for the first.</param>
[GenerateSerializer, Immutable, Alias("microapps.AuditQuery")]
public sealed record AuditQuery(
    [property: Id(0)] DateTimeOffset? From = null,
    [property: Id(1)] DateTimeOffset? To = null,
    [property: Id(2)] string? Actor = null,
    [property: Id(3)] string? Action = null,
    [property: Id(4)] string? Target = null,
    [property: Id(5)] int PageSize = AuditQuery.DefaultPageSize,
    [property: Id(6)] string? Continuation = null)
{
    /// <summary>The page size when none is given.</summary>
    public const int DefaultPageSize = 50;

    /// <summary>The largest page size accepted.</summary>
    public const int MaxPageSize = 200;
}

/// <summary>
/// One page of audit entries, newest first. A page may hold fewer than the page size (even none) and still carry
/// a continuation: one call reads a bounded number of segments. The answer is complete once
/// <see cref="Continuation"/> is null.
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.AuditPage")]
public sealed record AuditPage(
    [property: Id(0)] IReadOnlyList<AuditEntry> Entries,
    [property: Id(1)] string? Continuation);

/// <summary>The result of recomputing the hash chain over a time range.</summary>
/// <param name="Intact">True when every entry in the range has its expected sequence and hash.</param>
/// <param name="Checked">How many entries were recomputed.</param>
/// <param name="FirstSequence">First sequence checked (0 when the range holds no entries).</param>
/// <param name="LastSequence">Last sequence checked (0 when the range holds no entries).</param>
/// <param name="BrokenAtSequence">The first sequence whose entry is missing, out of place or does not hash to its stored hash.</param>
/// <param name="Problem">What is wrong at <paramref name="BrokenAtSequence"/>.</param>
[GenerateSerializer, Immutable, Alias("microapps.AuditVerification")]
public sealed record AuditVerification(
    [property: Id(0)] bool Intact,
    [property: Id(1)] long Checked,
    [property: Id(2)] long FirstSequence,
    [property: Id(3)] long LastSequence,
    [property: Id(4)] long? BrokenAtSequence,
    [property: Id(5)] string? Problem);

/// <summary>The platform's audit log grain, by its one key.</summary>
public static class AuditLog
{
    /// <summary>Key of the platform's audit log.</summary>
    public const string Key = "default";

    /// <summary>The platform's audit log.</summary>
    public static IAuditLogGrain Get(IGrainFactory grains) => grains.GetGrain<IAuditLogGrain>(Key);
}

/// <summary>The append-only audit log (key: <see cref="AuditLog.Key"/>). There is no call that edits or removes an entry.</summary>
/// <remarks>
/// The only removal is retention (<c>Audit:RetentionDays</c>, default 365, 0 keeps everything), which drops whole
/// days older than the retention.
/// </remarks>
public interface IAuditLogGrain : IGrainWithStringKey
{
    /// <summary>Appends a record; durable before the reply.</summary>
    Task<AuditEntry> AppendAsync(AuditRecord record);

    /// <summary>Entries matching the query, newest first, a page at a time. Invalid arguments throw <see cref="ArgumentException"/>.</summary>
    [AlwaysInterleave]
    Task<AuditPage> QueryAsync(AuditQuery query);

    /// <summary>
    /// Recomputes the hash chain over the retained entries appended in [<paramref name="from"/>, <paramref name="to"/>)
    /// (either null: unbounded) and reports the first broken sequence.
    /// </summary>
    [AlwaysInterleave]
    Task<AuditVerification> VerifyAsync(DateTimeOffset? from, DateTimeOffset? to);
}
