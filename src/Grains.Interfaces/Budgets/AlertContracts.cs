namespace MicroApps.Orleans.Budgets;

/// <summary>
/// A budget alert: spend crossed <see cref="Threshold"/> of the limit. Raised at most once per threshold per period;
/// <see cref="AlertId"/> is the same on every delivery attempt, so receivers dedupe by it.
/// </summary>
/// <param name="AlertId"><c>{budgetId}/{period}/{periodStart:yyyyMMdd}/{percent}</c>.</param>
/// <param name="BudgetId">The budget that reached the threshold.</param>
/// <param name="Threshold">Share of the limit, e.g. 0.8.</param>
/// <param name="SpentUsd">Settled spend when the alert was raised.</param>
/// <param name="LimitUsd">The limit in effect when the alert was raised.</param>
/// <param name="Period">The budget's period kind.</param>
/// <param name="PeriodStart">Start of the period the alert belongs to.</param>
/// <param name="RaisedAt">When the settle (or refusal) that crossed the threshold happened.</param>
/// <param name="Trigger"><c>spend</c> (settled spend crossed the threshold) or <c>refusal</c> (the budget could no longer cover a call, see the docs).</param>
[GenerateSerializer, Immutable, Alias("microapps.BudgetAlert")]
public sealed record BudgetAlert(
    [property: Id(0)] string AlertId,
    [property: Id(1)] string BudgetId,
    [property: Id(2)] decimal Threshold,
    [property: Id(3)] decimal SpentUsd,
    [property: Id(4)] decimal LimitUsd,
    [property: Id(5)] BudgetPeriod Period,
    [property: Id(6)] DateTimeOffset PeriodStart,
    [property: Id(7)] DateTimeOffset RaisedAt,
    [property: Id(8)] string Trigger)
{
    /// <summary>The deterministic id of the alert for <paramref name="threshold"/> in one period of a budget.</summary>
    public static string IdFor(string budgetId, BudgetPeriod period, DateTimeOffset periodStart, decimal threshold) =>
        $"{budgetId}/{period.ToString().ToLowerInvariant()}/{periodStart.UtcDateTime:yyyyMMdd}/{decimal.Round(threshold * 100m, 2).ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)}";
}

/// <summary>A way an alert is delivered.</summary>
public enum AlertChannel
{
    Webhook = 0,
    Email = 1,
}

/// <summary>Where the delivery of an alert on one channel stands.</summary>
public enum DeliveryState
{
    /// <summary>Stored in the outbox; attempts are running or due.</summary>
    Pending = 0,

    /// <summary>The receiver accepted it (webhook 2xx, SMTP server accepted the message).</summary>
    Delivered = 1,

    /// <summary>Given up: attempts exhausted, a permanent refusal, or the channel is not configured.</summary>
    Failed = 2,
}

/// <summary>The delivery of one alert on one channel.</summary>
/// <param name="Channel">Webhook or e-mail.</param>
/// <param name="Target">The webhook URL, or the e-mail addresses joined by ", ".</param>
/// <param name="State">Pending, delivered or failed.</param>
/// <param name="Attempts">Attempts made so far.</param>
/// <param name="LastAttemptAt">When the latest attempt ended.</param>
/// <param name="LastError">Why the latest attempt failed; null after a success.</param>
/// <param name="DeliveredAt">When the receiver accepted it.</param>
/// <param name="Backoffs">The waits chosen before each retry, in order (exponential backoff).</param>
/// <param name="NextAttemptAt">When the next attempt is due while one is scheduled.</param>
[GenerateSerializer, Immutable, Alias("microapps.ChannelDelivery")]
public sealed record ChannelDelivery(
    [property: Id(0)] AlertChannel Channel,
    [property: Id(1)] string Target,
    [property: Id(2)] DeliveryState State,
    [property: Id(3)] int Attempts,
    [property: Id(4)] DateTimeOffset? LastAttemptAt,
    [property: Id(5)] string? LastError,
    [property: Id(6)] DateTimeOffset? DeliveredAt,
    [property: Id(7)] IReadOnlyList<TimeSpan> Backoffs,
    [property: Id(8)] DateTimeOffset? NextAttemptAt);

/// <summary>Overall state of an alert across its channels.</summary>
public enum AlertState
{
    /// <summary>At least one channel is still being delivered.</summary>
    Pending = 0,

    /// <summary>Every channel delivered it.</summary>
    Delivered = 1,

    /// <summary>No channel is pending and at least one gave up.</summary>
    Failed = 2,

    /// <summary>The budget had no notification targets; the alert is only recorded.</summary>
    Recorded = 3,
}

/// <summary>An alert with its delivery status per channel.</summary>
[GenerateSerializer, Immutable, Alias("microapps.BudgetAlertView")]
public sealed record BudgetAlertView(
    [property: Id(0)] BudgetAlert Alert,
    [property: Id(1)] IReadOnlyList<ChannelDelivery> Deliveries)
{
    public AlertState State =>
        Deliveries.Count == 0 ? AlertState.Recorded
        : Deliveries.Any(d => d.State == DeliveryState.Pending) ? AlertState.Pending
        : Deliveries.All(d => d.State == DeliveryState.Delivered) ? AlertState.Delivered
        : AlertState.Failed;
}

/// <summary>
/// The durable outbox of one budget's alerts (key: budget id). An alert is stored before its delivery starts; delivery
/// runs on a timer and resumes after a deactivation or silo failure from a reminder, retrying with exponential backoff.
/// </summary>
public interface IAlertOutboxGrain : IGrainWithStringKey
{
    /// <summary>Stores <paramref name="alert"/> for delivery to <paramref name="targets"/>; durable before it returns, idempotent by alert id.</summary>
    Task EnqueueAsync(BudgetAlert alert, AlertTargets targets);

    /// <summary>The budget's retained alerts, newest first.</summary>
    Task<IReadOnlyList<BudgetAlertView>> ListAsync();
}

/// <summary>The budgets that have ever raised an alert (key 0), so the admin API can list every alert.</summary>
public interface IAlertIndexGrain : IGrainWithIntegerKey
{
    Task AddBudgetAsync(string budgetId);

    [ReadOnly]
    Task<IReadOnlyList<string>> ListBudgetsAsync();
}
