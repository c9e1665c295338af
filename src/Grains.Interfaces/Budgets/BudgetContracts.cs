namespace MicroApps.Orleans.Budgets;

/// <summary>How often a budget's spend resets (at the start of the UTC day or month).</summary>
public enum BudgetPeriod
{
    Day = 0,
    Month = 1,
}

/// <summary>Limit and period of a budget.</summary>
/// <param name="LimitUsd">Most that may be spent in one period.</param>
/// <param name="Period">When spend resets.</param>
[GenerateSerializer, Immutable, Alias("microapps.BudgetSettings")]
public sealed record BudgetSettings(
    [property: Id(0)] decimal LimitUsd,
    [property: Id(1)] BudgetPeriod Period);

/// <summary>A budget's state as callers see it.</summary>
[GenerateSerializer, Immutable, Alias("microapps.BudgetSnapshot")]
public sealed record BudgetSnapshot(
    [property: Id(0)] string BudgetId,
    [property: Id(1)] bool Configured,
    [property: Id(2)] decimal LimitUsd,
    [property: Id(3)] BudgetPeriod Period,
    [property: Id(4)] DateTimeOffset PeriodStart,
    [property: Id(5)] decimal SpentUsd,
    [property: Id(6)] decimal ReservedUsd,
    [property: Id(7)] int ReservationsInFlight)
{
    public decimal AvailableUsd => Math.Max(0m, LimitUsd - SpentUsd - ReservedUsd);
}

public enum ReservationOutcome
{
    /// <summary>The estimate was reserved; it is durable.</summary>
    Granted = 0,

    /// <summary>A reservation with this request id already exists; nothing new was reserved.</summary>
    AlreadyGranted = 1,

    /// <summary>The estimate does not fit under the limit.</summary>
    Exceeded = 2,

    /// <summary>The budget has no limit set, so nothing may be spent.</summary>
    NotConfigured = 3,

    /// <summary>This request id was already settled or released; it cannot be reserved again.</summary>
    AlreadyClosed = 4,
}

/// <summary>Answer to <see cref="IBudgetGrain.ReserveAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ReservationResult")]
public sealed record ReservationResult(
    [property: Id(0)] ReservationOutcome Outcome,
    [property: Id(1)] string Reason,
    [property: Id(2)] decimal ReservedUsd,
    [property: Id(3)] BudgetSnapshot Budget,
    [property: Id(4)] TimeSpan? RetryAfter)
{
    public bool IsGranted => Outcome is ReservationOutcome.Granted or ReservationOutcome.AlreadyGranted;
}

public enum SettleOutcome
{
    /// <summary>The reservation was replaced by the actual cost.</summary>
    Settled = 0,

    /// <summary>This request id was settled before; nothing was charged again.</summary>
    AlreadySettled = 1,

    /// <summary>No open reservation has this request id (never reserved, released or expired); nothing was charged.</summary>
    UnknownReservation = 2,
}

/// <summary>Answer to <see cref="IBudgetGrain.SettleAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.SettleResult")]
public sealed record SettleResult(
    [property: Id(0)] SettleOutcome Outcome,
    [property: Id(1)] decimal ChargedUsd,
    [property: Id(2)] BudgetSnapshot Budget);

/// <summary>
/// A spending budget (key: budget id such as <c>app:invoice-helper</c> or <c>team:finance</c>).
/// Spend is admitted by reservation: a call reserves its estimated cost before it runs and
/// settles the real cost after, so spend never passes the limit by more than what is in flight.
/// Every grant, settle and release is durable before the reply, and each is idempotent by request id.
/// </summary>
public interface IBudgetGrain : IGrainWithStringKey
{
    Task<BudgetSnapshot> ConfigureAsync(BudgetSettings settings);

    [ReadOnly]
    Task<BudgetSnapshot> GetAsync();

    /// <summary>Reserves <paramref name="estimateUsd"/> for <paramref name="requestId"/>, or refuses with a reason.</summary>
    Task<ReservationResult> ReserveAsync(string requestId, decimal estimateUsd);

    /// <summary>Replaces the reservation of <paramref name="requestId"/> by <paramref name="actualUsd"/>; charges at most once.</summary>
    Task<SettleResult> SettleAsync(string requestId, decimal actualUsd);

    /// <summary>Drops the reservation of <paramref name="requestId"/> without charge; true when one was open.</summary>
    Task<bool> ReleaseAsync(string requestId);
}
