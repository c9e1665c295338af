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

/// <summary>The append-only audit log (key: <c>default</c>). There is no call that edits or removes an entry.</summary>
public interface IAuditLogGrain : IGrainWithStringKey
{
    /// <summary>Appends a record; durable before the reply.</summary>
    Task<AuditEntry> AppendAsync(AuditRecord record);
}
