namespace MicroApps.Orleans.Budgets;

/// <summary>Stored state of a budget grain. Never renumber the ids: stored state depends on them.</summary>
[GenerateSerializer, Alias("microapps.BudgetState")]
public sealed class BudgetState
{
    [Id(0)] public bool Configured { get; set; }
    [Id(1)] public decimal LimitUsd { get; set; }
    [Id(2)] public BudgetPeriod Period { get; set; }
    [Id(3)] public DateTimeOffset PeriodStart { get; set; }
    [Id(4)] public decimal SpentUsd { get; set; }

    /// <summary>Open reservations by reservation id.</summary>
    [Id(5)] public Dictionary<string, Reservation> Reservations { get; set; } = new(StringComparer.Ordinal);

    // Id(6) held closed reservations with their full request ids; retired because a budget writes its
    // whole state on every grant and settle, and those strings made each write several times larger.

    /// <summary>Recently settled or released reservations, oldest first, so retries are answered precisely.</summary>
    [Id(8)] public List<ClosedReservation> Closed { get; set; } = [];

    /// <summary>Spend of earlier periods, kept when a period resets.</summary>
    [Id(7)] public decimal SpentBeforePeriodUsd { get; set; }

    /// <summary>The budget's own alert thresholds (shares of the limit, ascending); null means the platform default.</summary>
    [Id(9)] public List<decimal>? Thresholds { get; set; }

    [Id(10)] public BudgetExceededBehavior OnExceeded { get; set; }

    [Id(11)] public AlertTargets? Notify { get; set; }

    /// <summary>Thresholds raised in this period: written in the same write as the settle that crossed them, cleared when the period turns.</summary>
    [Id(12)] public List<decimal> RaisedThresholds { get; set; } = [];

    /// <summary>When the budget reached 100% in this period.</summary>
    [Id(13)] public DateTimeOffset? ReachedLimitAt { get; set; }

    /// <summary>A raised limit that waits for the owner's acknowledgement (the budget had reached 100% this period).</summary>
    [Id(14)] public decimal? PendingLimitUsd { get; set; }

    [Id(15)] public DateTimeOffset? AcknowledgedAt { get; set; }

    [Id(16)] public string? AcknowledgedBy { get; set; }

    /// <summary>
    /// Alerts raised but not yet confirmed stored by the alert outbox (the transactional outbox of the budget): they are
    /// recorded with the settle that raised them and handed off after it is durable, again after a failure or a restart.
    /// </summary>
    [Id(17)] public List<AlertHandOff> HandOffs { get; set; } = [];

    /// <summary>When the budget was closed (its app retired); cleared when it is configured again.</summary>
    [Id(18)] public DateTimeOffset? ClosedAt { get; set; }
}

/// <summary>An alert waiting to be handed to the outbox, with the targets it goes to.</summary>
[GenerateSerializer, Immutable, Alias("microapps.AlertHandOff")]
public sealed record AlertHandOff([property: Id(0)] BudgetAlert Alert, [property: Id(1)] AlertTargets Targets);

[GenerateSerializer, Immutable, Alias("microapps.Reservation")]
public sealed record Reservation([property: Id(0)] decimal AmountUsd, [property: Id(1)] DateTimeOffset ExpiresAt);

/// <summary>A closed reservation, remembered by a 64-bit hash of its id to keep the state small.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ClosedReservation.v2")]
public readonly record struct ClosedReservation([property: Id(0)] long IdHash, [property: Id(1)] decimal ChargedUsd, [property: Id(2)] bool Settled)
{
    public static long Hash(string requestId)
    {
        Span<byte> digest = stackalloc byte[32];
        System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(requestId), digest);
        return BitConverter.ToInt64(digest);
    }
}
