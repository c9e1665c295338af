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
}

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
