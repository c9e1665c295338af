using Microsoft.Extensions.DependencyInjection;
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
/// </remarks>
[Reentrant]
public sealed class BudgetGrain(
    [PersistentState("budget", "store")] IPersistentState<BudgetState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    IOptions<BudgetOptions> options,
    ILogger<BudgetGrain> logger) : Grain, IBudgetGrain
{
    private readonly BudgetOptions _options = options.Value;
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
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
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

        var now = time.GetUtcNow();
        if (!S.Configured || S.Period != settings.Period)
        {
            S.PeriodStart = BudgetPeriods.StartOf(settings.Period, now);
        }

        S.Configured = true;
        S.LimitUsd = settings.LimitUsd;
        S.Period = settings.Period;
        Commit.MarkChanged();
        await Commit.PersistAsync();
        return Snapshot();
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

        var reserved = _reservedUsd;
        if (S.SpentUsd + reserved + estimateUsd > S.LimitUsd)
        {
            var nextPeriod = BudgetPeriods.NextStart(S.Period, S.PeriodStart);

            // If only in-flight reservations stand in the way, they may settle lower soon.
            var retryAfter = S.SpentUsd + estimateUsd <= S.LimitUsd ? TimeSpan.FromSeconds(1) : nextPeriod - now;
            var reason = $"budget '{this.GetPrimaryKeyString()}' cannot cover ${estimateUsd:0.######}: " +
                $"spent ${S.SpentUsd:0.######} and reserved ${reserved:0.######} of ${S.LimitUsd:0.######} this {S.Period.ToString().ToLowerInvariant()}";

            // A refusal grants nothing, so it need not wait for other callers' writes.
            return new ReservationResult(ReservationOutcome.Exceeded, reason, 0m, Snapshot(), retryAfter);
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
            Commit.MarkChanged();
            await Commit.PersistAsync();
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
    }

    /// <summary>Resets spend at a period boundary and drops expired reservations.</summary>
    private void RollForward(DateTimeOffset now)
    {
        if (S.Configured && now >= BudgetPeriods.NextStart(S.Period, S.PeriodStart))
        {
            S.SpentBeforePeriodUsd += S.SpentUsd;
            S.SpentUsd = 0m;
            S.PeriodStart = BudgetPeriods.StartOf(S.Period, now);
            Commit.MarkChanged();
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
        S.Reservations.Count);

    private static void ValidateRequestId(string requestId)
    {
        if (string.IsNullOrWhiteSpace(requestId) || requestId.Length > 300)
        {
            throw new ArgumentException("a request id of 1 to 300 characters is required", nameof(requestId));
        }
    }
}
