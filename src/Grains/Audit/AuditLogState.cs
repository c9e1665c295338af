namespace MicroApps.Orleans.Audit;

/// <summary>
/// Stored head of an audit log: where the chain stands and which days hold entries. The entries themselves live in
/// segment grains, so this row stays small: one <see cref="AuditDay"/> per retained day.
/// Never renumber the ids: stored state depends on them.
/// </summary>
[GenerateSerializer, Alias("microapps.AuditLogState")]
public sealed class AuditLogState
{
    /// <summary>The sequence the next entry gets.</summary>
    [Id(0)] public long NextSequence { get; set; } = 1;

    /// <summary>Hash of the last entry (the genesis hash before the first).</summary>
    [Id(1)] public string LastHash { get; set; } = AuditChain.Genesis;

    /// <summary>Time of the last entry; entry times never go backwards, so sequence order is time order.</summary>
    [Id(2)] public DateTimeOffset LastAt { get; set; }

    /// <summary>Retained days, oldest first.</summary>
    [Id(3)] public List<AuditDay> Days { get; set; } = [];

    /// <summary>The last entry dropped by retention (0: none), so the chain verifies from the oldest retained entry.</summary>
    [Id(4)] public long AnchorSequence { get; set; }

    /// <summary>Hash of the entry at <see cref="AnchorSequence"/>.</summary>
    [Id(5)] public string AnchorHash { get; set; } = AuditChain.Genesis;

    /// <summary>Days taken off <see cref="Days"/> by retention whose segments are still to be cleared.</summary>
    [Id(6)] public List<AuditDay> PendingDrops { get; set; } = [];
}

/// <summary>
/// One UTC day of an audit log: entries <see cref="FirstSequence"/>..<see cref="LastSequence"/>, stored in segments
/// of <see cref="EntriesPerSegment"/> consecutive entries (segment <c>n</c> holds the n-th run of them).
/// </summary>
[GenerateSerializer, Alias("microapps.AuditDay")]
public sealed class AuditDay
{
    /// <summary><c>yyyy-MM-dd</c> (UTC); compares as text in date order.</summary>
    [Id(0)] public string Day { get; set; } = "";
    [Id(1)] public long FirstSequence { get; set; }
    [Id(2)] public long LastSequence { get; set; }
    [Id(3)] public int EntriesPerSegment { get; set; }
    [Id(4)] public string LastHash { get; set; } = AuditChain.Genesis;

    public int SegmentCount => LastSequence < FirstSequence ? 0 : SegmentOf(LastSequence) + 1;

    public int SegmentOf(long sequence) => (int)((sequence - FirstSequence) / EntriesPerSegment);

    public long FirstOfSegment(int segment) => FirstSequence + ((long)segment * EntriesPerSegment);
}

/// <summary>Stored entries of one audit segment, in sequence order.</summary>
[GenerateSerializer, Alias("microapps.AuditSegmentState")]
public sealed class AuditSegmentState
{
    [Id(0)] public List<AuditEntry> Entries { get; set; } = [];
}
