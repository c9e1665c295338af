using Microsoft.Extensions.DependencyInjection;
using MicroApps.Orleans.Alerts;
using MicroApps.Orleans.Persistence;
using Orleans.Concurrency;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Budgets;

/// <summary>
/// A budget: spend is admitted by reservation, and every grant, settle and release is durable
/// before the reply.
/// </summary>
/// <remarks>
/// Reentrant so that callers arriving while a write is in flight interleave and share the next
/// write (<see cref="GroupCommit"/>). Every decision (check the limit, then mutate) runs in one
/// synchronous stretch before the first await, so it is still exact: turns never run in parallel.
/// Alert thresholds are judged in that same stretch and recorded in the same write as the settle that
/// crossed them, so an alert is raised once per threshold per period however settles interleave or retry;
/// the recorded alert is then handed to the alert outbox (<see cref="IAlertOutboxGrain"/>) once durable.
/// </remarks>
[Reentrant]
public sealed class BudgetGrain(
    [PersistentState("budget", "store")] IPersistentState<BudgetState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    IOptions<BudgetOptions> options,
    IOptions<AlertOptions> alertOptions,
    BudgetMetrics metrics,
    ILogger<BudgetGrain> logger) : Grain, IBudgetGrain
{
    private readonly BudgetOptions _options = options.Value;
    private readonly AlertOptions _alerts = alertOptions.Value;
    private Task? _handOff;
    private GroupCommit? _commit;
    private Dictionary<long, ClosedReservation>? _closedIndex;
    private DateTimeOffset _nextExpiry = DateTimeOffset.MaxValue;
    private decimal _reservedUsd;

    private GroupCommit Commit => _commit ??= new GroupCommit(() => state.WriteStateAsync());

    private BudgetState S => state.State;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _closedIndex = [];
        foreach (var closed in S.Closed)
        {
            _closedIndex[closed.IdHash] = closed;
        }
        IndexReservations();

        // Idle budgets still give back reservations whose callers vanished.
        var sweep = _options.ReservationTtl < TimeSpan.FromMinutes(1) ? _options.ReservationTtl : TimeSpan.FromMinutes(1);
        this.RegisterGrainTimer(SweepOnTimerAsync, new GrainTimerCreationOptions(sweep, sweep) { Interleave = true });
        ReportUtilisation();

        // Alerts recorded before a deactivation or a crash whose hand-off was not confirmed.
        StartHandOff();
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        metrics.Remove(this.GetPrimaryKeyString());
        if (Commit.HasUnsavedChanges)
        {
            await Commit.PersistAsync();
        }
    }

    public async Task<BudgetSnapshot> ConfigureAsync(BudgetSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.LimitUsd < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.LimitUsd, "limitUsd must not be negative");
        }

        if (!Enum.IsDefined(settings.Period))
        {
            throw new ArgumentOutOfRangeException(nameof(settings), settings.Period, "period must be day or month");
        }

        if (settings.OnExceeded is { } behaviour && !Enum.IsDefined(behaviour))
        {
            throw new ArgumentOutOfRangeException(nameof(settings), behaviour, "onExceeded must be throttle, degrade or soft_shutdown");
        }

        if (settings.Thresholds is { } thresholds && AlertThresholds.Problems(thresholds) is { Count: > 0 } problems)
        {
            throw new ArgumentException(string.Join("; ", problems), nameof(settings));
        }

        var now = time.GetUtcNow();
        RollForward(now);
        if (!S.Configured || S.Period != settings.Period)
        {
            S.PeriodStart = BudgetPeriods.StartOf(settings.Period, now);
            if (S.Configured)
            {
                // A new period kind starts a new period: alerts and the 100% state start over.
                ResetPeriodState();
            }
        }

        // Once a budget reached 100% this period, more spend needs the owner's consent: a raised limit waits
        // for the acknowledgement. A lower (or equal) limit is always safe and replaces any pending one.
        if (S.Configured && S.ReachedLimitAt is not null && settings.LimitUsd > S.LimitUsd)
        {
            S.PendingLimitUsd = settings.LimitUsd;
        }
        else
        {
            S.LimitUsd = settings.LimitUsd;
            S.PendingLimitUsd = null;
        }

        S.Configured = true;
        S.ClosedAt = null;
        S.Period = settings.Period;
        if (settings.Thresholds is not null)
        {
            S.Thresholds = [.. settings.Thresholds.Order()];
        }

        if (settings.OnExceeded is { } onExceeded)
        {
            S.OnExceeded = onExceeded;
        }

        if (settings.Notify is { } notify)
        {
            // An array: stored state must not hold a caller's (possibly compiler-generated) collection type.
            S.Notify = notify with { Emails = notify.Emails?.ToArray() ?? [] };
        }

        // A lower limit can put spend past thresholds at once.
        var raised = JudgeThresholds(now);
        Commit.MarkChanged();
        await Commit.PersistAsync();
        AfterDurable(raised);
        return Snapshot();
    }

    public async Task<BudgetSnapshot> CloseAsync(string reason)
    {
        RollForward(time.GetUtcNow());
        if (S.ClosedAt is not null)
        {
            await Commit.PersistAsync();
            return Snapshot();
        }

        S.ClosedAt = time.GetUtcNow();
        S.Configured = false;
        S.LimitUsd = 0m;
        S.PendingLimitUsd = null;
        Commit.MarkChanged();
        await Commit.PersistAsync();
        metrics.Remove(this.GetPrimaryKeyString());
        logger.LogInformation("Budget {BudgetId} closed: {Reason}", this.GetPrimaryKeyString(), reason);
        return Snapshot();
    }

    public async Task<BudgetAcknowledgement> AcknowledgeAsync(string actor)
    {
        if (string.IsNullOrWhiteSpace(actor))
        {
            throw new ArgumentException("the acknowledging principal is required", nameof(actor));
        }

        var now = time.GetUtcNow();
        RollForward(now);
        if (S.ReachedLimitAt is null && S.PendingLimitUsd is null)
        {
            await Commit.PersistAsync();
            return new BudgetAcknowledgement(false, $"budget '{this.GetPrimaryKeyString()}' has not reached 100% this {PeriodName} and has no pending limit", null, Snapshot());
        }

        var applied = S.PendingLimitUsd;
        if (applied is { } limit)
        {
            S.LimitUsd = limit;
            S.PendingLimitUsd = null;
        }

        S.AcknowledgedAt = now;
        S.AcknowledgedBy = actor.Trim();
        Commit.MarkChanged();
        await Commit.PersistAsync();
        ReportUtilisation();
        var detail = applied is { } l
            ? $"limit ${l:0.######} is in effect" + (S.OnExceeded == BudgetExceededBehavior.SoftShutdown ? "; the soft shutdown is lifted until the period ends" : "")
            : S.OnExceeded == BudgetExceededBehavior.SoftShutdown ? "the soft shutdown is lifted until the period ends" : "acknowledged";
        return new BudgetAcknowledgement(true, detail, applied, Snapshot());
    }

    public async Task<IReadOnlyList<BudgetAlertView>> GetAlertsAsync()
    {
        // Read before the outbox is asked: an alert handed off while we wait leaves this list only once it is stored,
        // so it is in the outbox's answer or in this copy.
        var handOffs = S.HandOffs.ToList();
        var stored = await GrainFactory.GetGrain<IAlertOutboxGrain>(this.GetPrimaryKeyString()).ListAsync();

        // Alerts recorded here but not yet in the outbox are shown as pending on their channels.
        var waiting = handOffs
            .Where(h => !stored.Any(s => s.Alert.AlertId == h.Alert.AlertId))
            .Select(h => new BudgetAlertView(h.Alert, AlertDeliveries.Initial(h.Targets, null)));
        return [.. stored.Concat(waiting).OrderByDescending(a => a.Alert.RaisedAt).ThenByDescending(a => a.Alert.Threshold)];
    }

    public Task<BudgetSnapshot> GetAsync()
    {
        // A read never writes: a period roll or expiry applied here is derived from the clock
        // and is persisted by the next command or sweep.
        RollForward(time.GetUtcNow());
        return Task.FromResult(Snapshot());
    }

    public async Task<ReservationResult> ReserveAsync(string requestId, decimal estimateUsd)
    {
        ValidateRequestId(requestId);
        if (estimateUsd < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(estimateUsd), estimateUsd, "the estimate must not be negative");
        }

        var now = time.GetUtcNow();
        RollForward(now);

        if (S.Reservations.TryGetValue(requestId, out var existing))
        {
            // A retry of a grant: make sure the original grant is durable, then answer it again.
            await Commit.PersistAsync();
            return new ReservationResult(ReservationOutcome.AlreadyGranted, "already reserved", existing.AmountUsd, Snapshot(), null);
        }

        if (_closedIndex!.ContainsKey(ClosedReservation.Hash(requestId)))
        {
            await Commit.PersistAsync();
            return new ReservationResult(ReservationOutcome.AlreadyClosed, $"request id '{requestId}' was already settled or released", 0m, Snapshot(), null);
        }

        if (!S.Configured)
        {
            return new ReservationResult(ReservationOutcome.NotConfigured, $"budget '{this.GetPrimaryKeyString()}' has no limit set", 0m, Snapshot(), null);
        }

        if (SoftShutdownActive)
        {
            await Commit.PersistAsync();
            return SoftShutdownRefusal(now);
        }

        var reserved = _reservedUsd;
        if (S.SpentUsd + reserved + estimateUsd > S.LimitUsd)
        {
            var nextPeriod = BudgetPeriods.NextStart(S.Period, S.PeriodStart);

            // If only in-flight reservations stand in the way, they may settle lower soon.
            var retryAfter = S.SpentUsd + estimateUsd <= S.LimitUsd ? TimeSpan.FromSeconds(1) : nextPeriod - now;
            var reason = $"budget '{this.GetPrimaryKeyString()}' cannot cover ${estimateUsd:0.######}: " +
                $"spent ${S.SpentUsd:0.######} and reserved ${reserved:0.######} of ${S.LimitUsd:0.######} this {PeriodName}";

            if (!IsExhaustedBy(estimateUsd))
            {
                // A refusal grants nothing, so it need not wait for other callers' writes.
                return new ReservationResult(ReservationOutcome.Exceeded, reason, 0m, Snapshot(), retryAfter);
            }

            // The first refusal that shows the budget is spent is the budget's 100% moment (see IsExhaustedBy):
            // recorded durably, once per period, with the 100% alert.
            var raised = MarkReachedLimit(now, "refusal");
            Commit.MarkChanged();
            await Commit.PersistAsync();
            AfterDurable(raised);
            return SoftShutdownActive
                ? SoftShutdownRefusal(now)
                : new ReservationResult(ReservationOutcome.Exceeded, reason, 0m, Snapshot(), retryAfter);
        }

        var expiresAt = now + _options.ReservationTtl;
        S.Reservations[requestId] = new Reservation(estimateUsd, expiresAt);
        _reservedUsd += estimateUsd;
        if (expiresAt < _nextExpiry)
        {
            _nextExpiry = expiresAt;
        }

        Commit.MarkChanged();
        await Commit.PersistAsync();
        return new ReservationResult(ReservationOutcome.Granted, "reserved", estimateUsd, Snapshot(), null);
    }

    public async Task<SettleResult> SettleAsync(string requestId, decimal actualUsd)
    {
        ValidateRequestId(requestId);
        if (actualUsd < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(actualUsd), actualUsd, "the actual cost must not be negative");
        }

        RollForward(time.GetUtcNow());
        if (S.Reservations.Remove(requestId, out var reservation))
        {
            _reservedUsd -= reservation.AmountUsd;
            S.SpentUsd += actualUsd;
            if (actualUsd > reservation.AmountUsd)
            {
                logger.LogWarning("Request {RequestId} on budget {BudgetId} cost ${Actual} but reserved ${Reserved}",
                    requestId, this.GetPrimaryKeyString(), actualUsd, reservation.AmountUsd);
            }

            RememberClosed(new ClosedReservation(ClosedReservation.Hash(requestId), actualUsd, Settled: true));

            // Judged before the write, so the thresholds this settle crossed are durable together with it.
            var raised = JudgeThresholds(time.GetUtcNow());
            Commit.MarkChanged();
            await Commit.PersistAsync();
            AfterDurable(raised);
            return new SettleResult(SettleOutcome.Settled, actualUsd, Snapshot());
        }

        // Unchanged by this call, but the earlier settle it repeats may still be on its way to storage.
        await Commit.PersistAsync();
        return _closedIndex!.TryGetValue(ClosedReservation.Hash(requestId), out var closed) && closed.Settled
            ? new SettleResult(SettleOutcome.AlreadySettled, closed.ChargedUsd, Snapshot())
            : new SettleResult(SettleOutcome.UnknownReservation, 0m, Snapshot());
    }

    public async Task<bool> ReleaseAsync(string requestId)
    {
        ValidateRequestId(requestId);
        RollForward(time.GetUtcNow());
        if (!S.Reservations.Remove(requestId, out var reservation))
        {
            await Commit.PersistAsync();
            return false;
        }

        _reservedUsd -= reservation.AmountUsd;
        RememberClosed(new ClosedReservation(ClosedReservation.Hash(requestId), 0m, Settled: false));
        Commit.MarkChanged();
        await Commit.PersistAsync();
        return true;
    }

    private async Task SweepOnTimerAsync(CancellationToken cancellationToken)
    {
        RollForward(time.GetUtcNow());
        if (Commit.HasUnsavedChanges)
        {
            await Commit.PersistAsync();
        }

        StartHandOff();
    }

    /// <summary>Resets spend at a period boundary and drops expired reservations.</summary>
    private void RollForward(DateTimeOffset now)
    {
        if (S.Configured && now >= BudgetPeriods.NextStart(S.Period, S.PeriodStart))
        {
            S.SpentBeforePeriodUsd += S.SpentUsd;
            S.SpentUsd = 0m;
            S.PeriodStart = BudgetPeriods.StartOf(S.Period, now);
            ResetPeriodState();
            Commit.MarkChanged();
            ReportUtilisation();
        }

        if (now < _nextExpiry)
        {
            return;
        }

        var expired = S.Reservations.Where(r => r.Value.ExpiresAt <= now).Select(r => r.Key).ToList();
        foreach (var id in expired)
        {
            S.Reservations.Remove(id);
            RememberClosed(new ClosedReservation(ClosedReservation.Hash(id), 0m, Settled: false));
        }

        if (expired.Count > 0)
        {
            logger.LogInformation("Budget {BudgetId} released {Count} expired reservations", this.GetPrimaryKeyString(), expired.Count);
            Commit.MarkChanged();
        }

        IndexReservations();
    }

    private void IndexReservations()
    {
        _reservedUsd = S.Reservations.Values.Sum(r => r.AmountUsd);
        _nextExpiry = S.Reservations.Count == 0 ? DateTimeOffset.MaxValue : S.Reservations.Values.Min(r => r.ExpiresAt);
    }

    private void RememberClosed(ClosedReservation closed)
    {
        S.Closed.Add(closed);
        _closedIndex![closed.IdHash] = closed;
        var excess = S.Closed.Count - Math.Max(0, _options.ClosedRequestIdsRetained);
        if (excess > 0)
        {
            foreach (var old in S.Closed.Take(excess))
            {
                _closedIndex.Remove(old.IdHash);
            }

            S.Closed.RemoveRange(0, excess);
        }
    }

    private BudgetSnapshot Snapshot() => new(
        this.GetPrimaryKeyString(),
        S.Configured,
        S.LimitUsd,
        S.Period,
        S.PeriodStart,
        S.SpentUsd,
        _reservedUsd,
        S.Reservations.Count)
    {
        Thresholds = Thresholds,
        DefaultThresholds = S.Thresholds is null,
        OnExceeded = S.OnExceeded,
        Notify = S.Notify ?? AlertTargets.None,
        PendingLimitUsd = S.PendingLimitUsd,
        ReachedLimitAt = S.ReachedLimitAt,
        SoftShutdown = SoftShutdownActive,
        RaisedThresholds = [.. S.RaisedThresholds],
        AcknowledgedAt = S.AcknowledgedAt,
        AcknowledgedBy = S.AcknowledgedBy,
        ClosedAt = S.ClosedAt,
    };

    private string PeriodName => S.Period.ToString().ToLowerInvariant();

    private IReadOnlyList<decimal> Thresholds => S.Thresholds ?? _alerts.EffectiveDefaultThresholds;

    private bool SoftShutdownActive =>
        S.OnExceeded == BudgetExceededBehavior.SoftShutdown && S.ReachedLimitAt is not null && S.AcknowledgedAt is null;

    private ReservationResult SoftShutdownRefusal(DateTimeOffset now)
    {
        var nextPeriod = BudgetPeriods.NextStart(S.Period, S.PeriodStart);
        var reason = $"budget '{this.GetPrimaryKeyString()}' reached 100% this {PeriodName} (spent ${S.SpentUsd:0.######} of ${S.LimitUsd:0.######}) " +
            $"and is shut down until {nextPeriod:u} or until an owner of an app using it acknowledges (POST /admin/budgets/{this.GetPrimaryKeyString()}/acknowledge)";
        return new ReservationResult(ReservationOutcome.SoftShutdown, reason, 0m, Snapshot(), nextPeriod - now);
    }

    /// <summary>
    /// Whether a refused estimate shows the budget is spent rather than briefly full: the settled spend alone cannot
    /// cover it, and spend has already passed the last warning threshold below 100%. Admission by reservation stops
    /// spend short of the limit (each call reserves its worst case), so without this the 100% alert and behaviour
    /// would rarely happen; the second condition keeps one oversized call early in a period from counting.
    /// </summary>
    private bool IsExhaustedBy(decimal estimateUsd)
    {
        if (S.ReachedLimitAt is not null || S.LimitUsd <= 0m || S.SpentUsd + estimateUsd <= S.LimitUsd)
        {
            return false;
        }

        var lastWarning = Thresholds.Where(t => t < 1m).DefaultIfEmpty(0m).Max();
        return S.SpentUsd >= lastWarning * S.LimitUsd;
    }

    /// <summary>Raises every threshold settled spend has reached and that was not raised this period. Call before the write.</summary>
    private List<AlertHandOff>? JudgeThresholds(DateTimeOffset now)
    {
        if (!S.Configured || S.LimitUsd <= 0m)
        {
            return null;
        }

        List<AlertHandOff>? raised = null;
        if (S.SpentUsd >= S.LimitUsd && S.ReachedLimitAt is null)
        {
            raised = MarkReachedLimit(now, "spend");
        }

        foreach (var threshold in Thresholds)
        {
            if (S.SpentUsd >= threshold * S.LimitUsd && !S.RaisedThresholds.Contains(threshold))
            {
                (raised ??= []).Add(Raise(threshold, now, "spend"));
            }
        }

        return raised;
    }

    /// <summary>Records that the budget reached 100% this period, with the 100% alert when 1.0 is a threshold.</summary>
    private List<AlertHandOff>? MarkReachedLimit(DateTimeOffset now, string trigger)
    {
        S.ReachedLimitAt = now;
        return Thresholds.Contains(1m) && !S.RaisedThresholds.Contains(1m) ? [Raise(1m, now, trigger)] : null;
    }

    private AlertHandOff Raise(decimal threshold, DateTimeOffset now, string trigger)
    {
        var budgetId = this.GetPrimaryKeyString();
        S.RaisedThresholds.Add(threshold);
        var alert = new BudgetAlert(
            BudgetAlert.IdFor(budgetId, S.Period, S.PeriodStart, threshold), budgetId, threshold, S.SpentUsd, S.LimitUsd, S.Period, S.PeriodStart, now, trigger);
        var handOff = new AlertHandOff(alert, S.Notify ?? AlertTargets.None);
        S.HandOffs.Add(handOff);
        logger.LogInformation("Budget {BudgetId} reached {Threshold:P0} of ${Limit} ({Trigger}); alert {AlertId} raised",
            budgetId, threshold, S.LimitUsd, trigger, alert.AlertId);
        return handOff;
    }

    private void ResetPeriodState()
    {
        S.RaisedThresholds.Clear();
        S.ReachedLimitAt = null;
        S.AcknowledgedAt = null;
        S.AcknowledgedBy = null;
    }

    /// <summary>After a write that may have raised alerts: they are durable now, so they may leave for the outbox.</summary>
    private void AfterDurable(List<AlertHandOff>? raised)
    {
        ReportUtilisation();
        if (raised is { Count: > 0 })
        {
            StartHandOff();
        }
    }

    private void ReportUtilisation()
    {
        if (S.Configured)
        {
            metrics.Report(this.GetPrimaryKeyString(), S.LimitUsd > 0m ? (double)(S.SpentUsd / S.LimitUsd) : 0d);
        }
    }

    /// <summary>
    /// Hands recorded alerts to the outbox in the background: the settle that raised them is answered without waiting
    /// for it. A failed hand-off stays recorded and is tried again by the sweep timer and on the next activation; the
    /// outbox dedupes by alert id, so a repeat is harmless.
    /// </summary>
    private void StartHandOff()
    {
        if (_handOff is null && S.HandOffs.Count > 0)
        {
            _handOff = HandOffAsync();
        }
    }

    private async Task HandOffAsync()
    {
        var budgetId = this.GetPrimaryKeyString();
        try
        {
            await GrainFactory.GetGrain<IAlertIndexGrain>(0).AddBudgetAsync(budgetId);
            var outbox = GrainFactory.GetGrain<IAlertOutboxGrain>(budgetId);
            // Alerts raised while this runs are taken along: StartHandOff does not start a second loop.
            while (S.HandOffs.FirstOrDefault() is { } handOff)
            {
                await outbox.EnqueueAsync(handOff.Alert, handOff.Targets);
                S.HandOffs.RemoveAll(h => h.Alert.AlertId == handOff.Alert.AlertId);

                // Not awaited: forgetting the removal only repeats an idempotent hand-off; the next write carries it.
                Commit.MarkChanged();
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Handing alerts of budget {BudgetId} to the outbox failed; the sweep tries again", budgetId);
        }
        finally
        {
            _handOff = null;
        }
    }

    private static void ValidateRequestId(string requestId)
    {
        if (string.IsNullOrWhiteSpace(requestId) || requestId.Length > 300)
        {
            throw new ArgumentException("a request id of 1 to 300 characters is required", nameof(requestId));
        }
    }
}
