namespace MicroApps.Orleans.Budgets;

/// <summary>How often a budget's spend resets (at the start of the UTC day or month).</summary>
public enum BudgetPeriod
{
    Day = 0,
    Month = 1,
}

/// <summary>What a budget does once it has reached 100% of its limit in a period.</summary>
public enum BudgetExceededBehavior
{
    /// <summary>Calls that do not fit are refused (<c>budget_exceeded</c>); smaller calls that still fit go on.</summary>
    Throttle = 0,

    /// <summary>Calls that do not fit are served on the cheaper degrade tier (<c>Alerts:DegradeTier</c>, the free <c>local</c> tier by default).</summary>
    Degrade = 1,

    /// <summary>Every call of the apps charged to the budget is refused (<c>budget_soft_shutdown</c>) until the next period or an owner acknowledgement.</summary>
    SoftShutdown = 2,
}

/// <summary>Where a budget's alerts are delivered.</summary>
/// <param name="WebhookUrl">An absolute http(s) URL that receives each alert as a JSON POST; null for none.</param>
/// <param name="Emails">Addresses that receive each alert by e-mail (needs <c>Alerts:Smtp:Host</c>).</param>
[GenerateSerializer, Immutable, Alias("microapps.AlertTargets")]
public sealed record AlertTargets(
    [property: Id(0)] string? WebhookUrl,
    [property: Id(1)] IReadOnlyList<string> Emails)
{
    public static AlertTargets None { get; } = new(null, []);
}

/// <summary>Limit and period of a budget, and optionally its alerting.</summary>
/// <param name="LimitUsd">Most that may be spent in one period.</param>
/// <param name="Period">When spend resets.</param>
[GenerateSerializer, Immutable, Alias("microapps.BudgetSettings")]
public sealed record BudgetSettings(
    [property: Id(0)] decimal LimitUsd,
    [property: Id(1)] BudgetPeriod Period)
{
    /// <summary>Alert thresholds as shares of the limit, each in (0, 1]; null leaves them as they are (the platform default for a new budget); empty means no alerts.</summary>
    [Id(2)] public IReadOnlyList<decimal>? Thresholds { get; init; }

    /// <summary>What happens at 100%; null leaves it as it is (throttle for a new budget).</summary>
    [Id(3)] public BudgetExceededBehavior? OnExceeded { get; init; }

    /// <summary>Where alerts go; null leaves the targets as they are.</summary>
    [Id(4)] public AlertTargets? Notify { get; init; }
}

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

    /// <summary>Settled spend as a share of the limit (0 without a limit).</summary>
    public double Utilisation => LimitUsd > 0m ? (double)(SpentUsd / LimitUsd) : 0d;

    /// <summary>The alert thresholds in effect (shares of the limit, ascending).</summary>
    [Id(8)] public IReadOnlyList<decimal> Thresholds { get; init; } = [];

    /// <summary>True when the thresholds are the platform default (<c>Alerts:DefaultThresholds</c>), not the budget's own.</summary>
    [Id(9)] public bool DefaultThresholds { get; init; } = true;

    [Id(10)] public BudgetExceededBehavior OnExceeded { get; init; }

    [Id(11)] public AlertTargets Notify { get; init; } = AlertTargets.None;

    /// <summary>A raised limit waiting for the owner's acknowledgement; <see cref="LimitUsd"/> is still in effect.</summary>
    [Id(12)] public decimal? PendingLimitUsd { get; init; }

    /// <summary>When the budget reached 100% in this period; null when it has not.</summary>
    [Id(13)] public DateTimeOffset? ReachedLimitAt { get; init; }

    /// <summary>True while calls are refused by the soft shutdown.</summary>
    [Id(14)] public bool SoftShutdown { get; init; }

    /// <summary>Thresholds already raised in this period.</summary>
    [Id(15)] public IReadOnlyList<decimal> RaisedThresholds { get; init; } = [];

    /// <summary>When and by whom the 100% state was acknowledged in this period.</summary>
    [Id(16)] public DateTimeOffset? AcknowledgedAt { get; init; }

    [Id(17)] public string? AcknowledgedBy { get; init; }

    /// <summary>When the budget was closed (<see cref="IBudgetGrain.CloseAsync"/>); null while it is open.</summary>
    [Id(18)] public DateTimeOffset? ClosedAt { get; init; }
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

    /// <summary>The budget reached 100% with the soft-shutdown behaviour: nothing is granted until the next period or an owner acknowledgement.</summary>
    SoftShutdown = 5,
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

    /// <summary>
    /// The app owner's acknowledgement of a budget that reached 100%: a pending raised limit takes effect and a soft
    /// shutdown lifts for the rest of the period. Refused (<see cref="BudgetAcknowledgement.Acknowledged"/> false) when
    /// there is nothing to acknowledge.
    /// </summary>
    Task<BudgetAcknowledgement> AcknowledgeAsync(string actor);

    /// <summary>
    /// Closes the budget because what it paid for is gone (its app was retired): the limit becomes 0 and the budget is no
    /// longer configured, so nothing more is reserved and it no longer counts as allocated. Reservations already open may
    /// still settle, so acknowledged spend is never lost. Repeating it changes nothing; a later <see cref="ConfigureAsync"/>
    /// opens the budget again.
    /// </summary>
    Task<BudgetSnapshot> CloseAsync(string reason);

    /// <summary>This budget's alerts, newest first, with their delivery status per channel.</summary>
    Task<IReadOnlyList<BudgetAlertView>> GetAlertsAsync();
}

/// <summary>Answer to <see cref="IBudgetGrain.AcknowledgeAsync"/>.</summary>
/// <param name="Acknowledged">False when the budget had neither reached 100% this period nor a pending limit.</param>
/// <param name="Detail">What the acknowledgement did, or why there was nothing to do.</param>
/// <param name="AppliedLimitUsd">The pending limit that took effect, if any.</param>
/// <param name="Budget">The budget after the acknowledgement.</param>
[GenerateSerializer, Immutable, Alias("microapps.BudgetAcknowledgement")]
public sealed record BudgetAcknowledgement(
    [property: Id(0)] bool Acknowledged,
    [property: Id(1)] string Detail,
    [property: Id(2)] decimal? AppliedLimitUsd,
    [property: Id(3)] BudgetSnapshot Budget);
