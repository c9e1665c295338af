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

    /// <summary>Recently settled or released ids, oldest first, so retries are answered precisely.</summary>
    [Id(6)] public List<ClosedReservation> Closed { get; set; } = [];

    /// <summary>Spend of earlier periods, kept when a period resets.</summary>
    [Id(7)] public decimal SpentBeforePeriodUsd { get; set; }
}

[GenerateSerializer, Immutable, Alias("microapps.Reservation")]
public sealed record Reservation([property: Id(0)] decimal AmountUsd, [property: Id(1)] DateTimeOffset ExpiresAt);

[GenerateSerializer, Immutable, Alias("microapps.ClosedReservation")]
public sealed record ClosedReservation([property: Id(0)] string RequestId, [property: Id(1)] decimal ChargedUsd, [property: Id(2)] bool Settled);
