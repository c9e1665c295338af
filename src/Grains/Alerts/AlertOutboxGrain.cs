using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;
using Polly.Retry;

namespace MicroApps.Orleans.Alerts;

/// <summary>Stored state of a budget's alert outbox. Never renumber the ids.</summary>
[GenerateSerializer, Alias("microapps.AlertOutboxState")]
public sealed class AlertOutboxState
{
    /// <summary>Alerts in the order they arrived, each with its delivery per channel.</summary>
    [Id(0)] public List<OutboxEntry> Entries { get; set; } = [];
}

[GenerateSerializer, Alias("microapps.OutboxEntry")]
public sealed class OutboxEntry
{
    [Id(0)] public required BudgetAlert Alert { get; set; }

    [Id(1)] public required AlertTargets Targets { get; set; }

    [Id(2)] public List<ChannelDelivery> Deliveries { get; set; } = [];
}

/// <summary>The deliveries an alert starts with: one per configured channel, all pending.</summary>
public static class AlertDeliveries
{
    public static List<ChannelDelivery> Initial(AlertTargets targets, DateTimeOffset? now)
    {
        var deliveries = new List<ChannelDelivery>();
        if (!string.IsNullOrWhiteSpace(targets.WebhookUrl))
        {
            deliveries.Add(new ChannelDelivery(AlertChannel.Webhook, targets.WebhookUrl, DeliveryState.Pending, 0, null, null, null, Array.Empty<TimeSpan>(), now));
        }

        if (targets.Emails is { Count: > 0 } emails)
        {
            deliveries.Add(new ChannelDelivery(AlertChannel.Email, string.Join(", ", emails), DeliveryState.Pending, 0, null, null, null, Array.Empty<TimeSpan>(), now));
        }

        return deliveries;
    }
}

/// <summary>
/// The durable outbox of one budget's alerts (key: budget id). An alert is stored before delivery starts; a grain
/// timer runs the deliveries (each channel retried with exponential backoff by a Polly pipeline, every attempt
/// recorded), and a reminder, registered before <see cref="EnqueueAsync"/> returns and removed once nothing is pending,
/// wakes the outbox again after a deactivation or a silo failure. A delivery may therefore repeat after a crash
/// (at least once); receivers dedupe by the alert id.
/// </summary>
public sealed class AlertOutboxGrain(
    [PersistentState("alerts", "store")] IPersistentState<AlertOutboxState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    IOptions<AlertOptions> options,
    IAlertSender sender,
    ILogger<AlertOutboxGrain> logger) : Grain, IAlertOutboxGrain, IRemindable
{
    private const string ReminderName = "deliver-alerts";
    private static readonly TimeSpan TickPeriod = TimeSpan.FromSeconds(1);

    private readonly AlertOptions _options = options.Value;
    private readonly HashSet<(string AlertId, AlertChannel Channel)> _running = [];
    private GroupCommit? _commit;
    private IGrainTimer? _timer;
    private bool _remindersUnavailable;

    private GroupCommit Commit => _commit ??= new GroupCommit(() => state.WriteStateAsync());

    private List<OutboxEntry> Entries => state.State.Entries;

    private bool AnyPending => Entries.Any(e => e.Deliveries.Any(d => d.State == DeliveryState.Pending));

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (AnyPending)
        {
            await EnsureReminderAsync();
            EnsureTimer();
        }
    }

    public async Task EnqueueAsync(BudgetAlert alert, AlertTargets targets)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(targets);
        if (Entries.Any(e => e.Alert.AlertId == alert.AlertId))
        {
            // A repeated hand-off: make sure the first one is durable, change nothing.
            await Commit.PersistAsync();
            return;
        }

        targets = targets with { Emails = targets.Emails?.ToArray() ?? [] };
        var entry = new OutboxEntry { Alert = alert, Targets = targets, Deliveries = AlertDeliveries.Initial(targets, time.GetUtcNow()) };
        Entries.Add(entry);
        Trim();
        Commit.MarkChanged();
        await Commit.PersistAsync();
        if (entry.Deliveries.Count > 0)
        {
            await EnsureReminderAsync();
            EnsureTimer();
        }
    }

    public Task<IReadOnlyList<BudgetAlertView>> ListAsync() =>
        Task.FromResult<IReadOnlyList<BudgetAlertView>>(
            [.. Entries.AsEnumerable().Reverse().Select(e => new BudgetAlertView(e.Alert, [.. e.Deliveries]))]);

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (AnyPending)
        {
            EnsureTimer();
        }
        else
        {
            await RemoveReminderAsync();
        }
    }

    private void EnsureTimer()
    {
        _timer ??= this.RegisterGrainTimer(DeliverDueAsync, new GrainTimerCreationOptions(TimeSpan.Zero, TickPeriod) { Interleave = true, KeepAlive = true });
    }

    /// <summary>Starts every due delivery that is not already running; stops the timer and reminder once nothing is pending.</summary>
    private async Task DeliverDueAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var due = Entries
            .SelectMany(e => e.Deliveries
                .Where(d => d.State == DeliveryState.Pending && (d.NextAttemptAt is null || d.NextAttemptAt <= now))
                .Select(d => (e.Alert, d.Channel)))
            .Where(x => !_running.Contains((x.Alert.AlertId, x.Channel)))
            .ToList();

        // Each channel runs as its own task on this activation, so a long backoff on one does not hold up the others.
        foreach (var (alert, channel) in due)
        {
            _running.Add((alert.AlertId, channel));
            _ = RunChannelAsync(alert, channel);
        }

        if (_running.Count == 0 && !AnyPending)
        {
            _timer?.Dispose();
            _timer = null;
            await RemoveReminderAsync();
        }
    }

    private async Task RunChannelAsync(BudgetAlert alert, AlertChannel channel)
    {
        try
        {
            await DeliverAsync(alert, channel);
        }
        catch (Exception ex)
        {
            // The delivery stays pending (its attempts so far are recorded) and the next tick takes it up again.
            logger.LogWarning(ex, "Delivering alert {AlertId} by {Channel} failed unexpectedly; it stays pending", alert.AlertId, channel);
        }
        finally
        {
            _running.Remove((alert.AlertId, channel));
        }
    }

    private async Task DeliverAsync(BudgetAlert alert, AlertChannel channel)
    {
        DeliveryRetryOptions retry = channel == AlertChannel.Webhook ? _options.Webhook : _options.Smtp;
        var remaining = retry.MaxAttempts - Find(alert.AlertId, channel).Attempts;
        if (remaining <= 0)
        {
            await UpdateAsync(alert.AlertId, channel, d => d with { State = DeliveryState.Failed, NextAttemptAt = null });
            return;
        }

        var builder = new ResiliencePipelineBuilder<DeliveryAttemptResult> { TimeProvider = time };
        if (remaining > 1)
        {
            builder.AddRetry(new RetryStrategyOptions<DeliveryAttemptResult>
            {
                MaxRetryAttempts = remaining - 1,
                BackoffType = DelayBackoffType.Exponential,
                Delay = retry.BaseDelay,
                MaxDelay = retry.MaxDelay,
                UseJitter = retry.UseJitter,
                ShouldHandle = args => ValueTask.FromResult(args.Outcome.Result is { Delivered: false, Retryable: true }),
                OnRetry = args => new ValueTask(UpdateAsync(alert.AlertId, channel, d => d with
                {
                    // Arrays, not collection expressions: stored state must not hold compiler-generated collection types.
                    Backoffs = d.Backoffs.Append(args.RetryDelay).ToArray(),
                    NextAttemptAt = time.GetUtcNow() + args.RetryDelay,
                })),
            });
        }

        // Polly resumes on the thread pool unless told otherwise; grain state may only be touched on the grain's scheduler.
        var context = ResilienceContextPool.Shared.Get(continueOnCapturedContext: true);
        DeliveryAttemptResult result;
        try
        {
            result = await builder.Build().ExecuteAsync(async (ctx, _) =>
            {
                var target = Find(alert.AlertId, channel);
                var attempt = await AttemptAsync(alert, channel, target, ctx.CancellationToken);
                var at = time.GetUtcNow();
                await UpdateAsync(alert.AlertId, channel, d => d with
                {
                    Attempts = d.Attempts + 1,
                    LastAttemptAt = at,
                    LastError = attempt.Error,
                    State = attempt.Delivered ? DeliveryState.Delivered : DeliveryState.Pending,
                    DeliveredAt = attempt.Delivered ? at : null,
                    NextAttemptAt = null,
                });
                return attempt;
            }, context, 0);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }

        if (!result.Delivered)
        {
            logger.LogWarning("Gave up delivering alert {AlertId} by {Channel} after {Attempts} attempt(s): {Error}",
                alert.AlertId, channel, Find(alert.AlertId, channel).Attempts, result.Error);
            await UpdateAsync(alert.AlertId, channel, d => d with { State = DeliveryState.Failed, NextAttemptAt = null });
        }
    }

    private async Task<DeliveryAttemptResult> AttemptAsync(BudgetAlert alert, AlertChannel channel, ChannelDelivery delivery, CancellationToken cancellationToken)
    {
        try
        {
            if (channel == AlertChannel.Webhook)
            {
                return await sender.SendWebhookAsync(alert, delivery.Target, cancellationToken);
            }

            var addresses = delivery.Target.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            return await sender.SendEmailAsync(alert, addresses, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return DeliveryAttemptResult.Transient($"{ex.GetType().Name}: {ex.Message}");
        }
    }

    private ChannelDelivery Find(string alertId, AlertChannel channel) =>
        Entries.First(e => e.Alert.AlertId == alertId).Deliveries.First(d => d.Channel == channel);

    /// <summary>Changes one delivery and makes the change durable: every attempt is on record before the next one.</summary>
    private async Task UpdateAsync(string alertId, AlertChannel channel, Func<ChannelDelivery, ChannelDelivery> change)
    {
        var deliveries = Entries.First(e => e.Alert.AlertId == alertId).Deliveries;
        var index = deliveries.FindIndex(d => d.Channel == channel);
        deliveries[index] = change(deliveries[index]);
        Commit.MarkChanged();
        await Commit.PersistAsync();
    }

    /// <summary>Keeps at most <see cref="AlertOptions.RetainedAlertsPerBudget"/> alerts, dropping the oldest finished ones.</summary>
    private void Trim()
    {
        var excess = Entries.Count - _options.RetainedAlertsPerBudget;
        for (var i = 0; i < Entries.Count && excess > 0;)
        {
            if (Entries[i].Deliveries.All(d => d.State != DeliveryState.Pending))
            {
                Entries.RemoveAt(i);
                excess--;
            }
            else
            {
                i++;
            }
        }
    }

    private async Task EnsureReminderAsync()
    {
        if (_remindersUnavailable)
        {
            return;
        }

        try
        {
            await this.RegisterOrUpdateReminder(ReminderName, _options.ReminderPeriod, _options.ReminderPeriod);
        }
        catch (Exception ex)
        {
            // A host without a reminder service still delivers while this activation lives; it only loses the wake-up.
            _remindersUnavailable = true;
            logger.LogWarning(ex, "Alert outbox {BudgetId} could not register its reminder; pending deliveries resume only when the outbox is called again",
                this.GetPrimaryKeyString());
        }
    }

    private async Task RemoveReminderAsync()
    {
        if (_remindersUnavailable)
        {
            return;
        }

        try
        {
            if (await this.GetReminder(ReminderName) is { } reminder)
            {
                await this.UnregisterReminder(reminder);
            }
        }
        catch (Exception ex)
        {
            // A leftover reminder only wakes an outbox with nothing to do, which removes it again.
            logger.LogDebug(ex, "Alert outbox {BudgetId} could not remove its reminder", this.GetPrimaryKeyString());
        }
    }
}

/// <summary>The budgets that have raised alerts (key 0). Written once per budget.</summary>
public sealed class AlertIndexGrain(
    [PersistentState("alert-index", "store")] IPersistentState<AlertIndexState> state) : Grain, IAlertIndexGrain
{
    public async Task AddBudgetAsync(string budgetId)
    {
        if (state.State.BudgetIds.Add(budgetId))
        {
            try
            {
                await state.WriteStateAsync();
            }
            catch
            {
                // Not on record, so a retry must write again.
                state.State.BudgetIds.Remove(budgetId);
                throw;
            }
        }
    }

    public Task<IReadOnlyList<string>> ListBudgetsAsync() =>
        Task.FromResult<IReadOnlyList<string>>([.. state.State.BudgetIds.Order(StringComparer.Ordinal)]);
}

[GenerateSerializer, Alias("microapps.AlertIndexState")]
public sealed class AlertIndexState
{
    [Id(0)] public HashSet<string> BudgetIds { get; set; } = new(StringComparer.Ordinal);
}
