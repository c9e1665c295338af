using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Batch;

/// <summary>
/// A batch pool: the durable queue of its jobs, oldest first, run at most <see cref="BatchPoolOptions.MaxConcurrent"/>
/// items at a time over all jobs, only inside the off-peak window, each item through the full governed call. A grain
/// timer drives it while it has work; a reminder brings it back after a restart or deactivation. A missed tick only
/// delays work and a repeated one finds the slots already filled: which items run is decided by the jobs.
/// </summary>
/// <remarks>
/// The items' governed calls run as tasks of this activation beside its requests (they are grain calls, so they only
/// wait); their answers are recorded in the job grains, so nothing is lost when this activation dies: a new one has a
/// new epoch and the jobs hand the unrecorded items out again under the same request ids.
/// </remarks>
public sealed class BatchPoolGrain(
    [PersistentState("batchpool", "store")] IPersistentState<BatchPoolState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    IOptionsMonitor<BatchPoolOptions> pools,
    ILogger<BatchPoolGrain> logger) : Grain, IBatchPoolGrain, IRemindable
{
    private const string ReminderName = "batch-pool";
    private const int RecordAttempts = 3;

    private readonly Guid _epoch = Guid.NewGuid();
    private IGrainTimer? _timer;
    private int _running;
    private long _fills;
    private bool _pumping;
    private bool _pumpAgain;
    private bool _remindersUnavailable;

    private List<string> Jobs => state.State.Jobs;

    private string Pool => this.GetPrimaryKeyString();

    private BatchPoolOptions Options => BatchJobGrain.OptionsOf(pools, Pool);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Jobs.Count > 0)
        {
            await EnsureReminderAsync();
            EnsureTimer();
        }
    }

    public async Task EnqueueAsync(string jobId)
    {
        if (!BatchJobRules.IsValidJobId(jobId))
        {
            throw new ArgumentException($"'{jobId}' is not a batch job id", nameof(jobId));
        }

        if (!Jobs.Contains(jobId))
        {
            Jobs.Add(jobId);
            await state.WriteStateAsync();
        }

        await EnsureReminderAsync();
        EnsureTimer();
    }

    public Task<BatchPoolStatus> GetStatusAsync()
    {
        var options = Options;
        return Task.FromResult(new BatchPoolStatus(Pool, options.Tier, [.. Jobs], _running, options.MaxConcurrent, options.IsOpen(time.GetUtcNow()), _fills));
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (Jobs.Count > 0)
        {
            EnsureTimer();
        }
        else if (_running == 0)
        {
            await RemoveReminderAsync();
        }
    }

    private void EnsureTimer()
    {
        _timer ??= this.RegisterGrainTimer(_ => PumpAsync(), new GrainTimerCreationOptions(TimeSpan.Zero, Options.PollInterval) { KeepAlive = true });
    }

    /// <summary>Fills the free slots; runs once at a time (a call while it runs makes it go round again).</summary>
    private async Task PumpAsync()
    {
        if (_pumping)
        {
            _pumpAgain = true;
            return;
        }

        _pumping = true;
        try
        {
            do
            {
                _pumpAgain = false;
                await FillAsync();
            }
            while (_pumpAgain);
        }
        catch (Exception ex)
        {
            // The next tick tries again; the queue and the jobs are durable.
            logger.LogWarning(ex, "Batch pool {Pool} could not fill its slots", Pool);
        }
        finally
        {
            _pumping = false;
        }
    }

    private async Task FillAsync()
    {
        _fills++;
        if (Jobs.Count == 0)
        {
            if (_running == 0)
            {
                _timer?.Dispose();
                _timer = null;
                await RemoveReminderAsync();
            }

            return;
        }

        var options = Options;
        var windowOpen = options.IsOpen(time.GetUtcNow());
        var finished = new List<string>();
        foreach (var jobId in Jobs.ToArray())
        {
            // Outside the window nothing starts, but jobs are still asked so that cancelled ones leave the queue.
            var free = windowOpen ? options.MaxConcurrent - _running : 0;
            if (free <= 0 && windowOpen)
            {
                break;
            }

            var job = GrainFactory.GetGrain<IBatchJobGrain>(jobId);
            var claim = await job.ClaimAsync(_epoch, Math.Max(0, free));
            if (claim.Finished)
            {
                finished.Add(jobId);
                continue;
            }

            foreach (var item in claim.Items)
            {
                _running++;
                _ = RunAsync(job, item);
            }
        }

        if (finished.Count > 0)
        {
            Jobs.RemoveAll(finished.Contains);
            await state.WriteStateAsync();
            logger.LogInformation("Batch pool {Pool}: jobs {Jobs} finished; {Queued} still queued", Pool, string.Join(", ", finished), Jobs.Count);
        }
    }

    private async Task RunAsync(IBatchJobGrain job, BatchWorkItem item)
    {
        try
        {
            GovernedChatResult result;
            try
            {
                result = await GrainFactory.GetGrain<IGovernedCallGrain>(0).CompleteAsync(item.Request);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Batch job {JobId} item {CustomId}: the governed call failed", item.JobId, item.CustomId);
                await job.ReleaseAsync(_epoch, item.CustomId, item.Attempt, ex.GetType().Name);
                return;
            }

            await RecordWithRetriesAsync(job, item, result);
        }
        catch (Exception ex)
        {
            // The job did not hear of this attempt; the next pool activation (or epoch) hands the item out again.
            logger.LogWarning(ex, "Batch job {JobId} item {CustomId}: recording the answer failed", item.JobId, item.CustomId);
        }
        finally
        {
            _running--;
            _ = PumpAsync();
        }
    }

    /// <summary>
    /// Records an answer, trying again a few times: until the job hears of it, the item stays claimed by this epoch.
    /// Recording is idempotent by custom id and attempt.
    /// </summary>
    private async Task RecordWithRetriesAsync(IBatchJobGrain job, BatchWorkItem item, GovernedChatResult result)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await job.RecordAsync(_epoch, item.CustomId, item.Attempt, result);
                return;
            }
            catch (Exception ex) when (attempt < RecordAttempts)
            {
                logger.LogWarning(ex, "Batch job {JobId} item {CustomId}: recording the answer failed; retrying", item.JobId, item.CustomId);
                await Task.Delay(TimeSpan.FromSeconds(attempt));
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
            var period = Options.ReminderPeriod;
            await this.RegisterOrUpdateReminder(ReminderName, period, period);
        }
        catch (Exception ex)
        {
            // A host without a reminder service still runs the queue while this activation lives; it only loses the wake-up.
            _remindersUnavailable = true;
            logger.LogWarning(ex, "Batch pool {Pool} could not register its reminder; queued jobs resume only when the pool is called again", Pool);
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
            // A leftover reminder only wakes a pool with nothing to do, which removes it again.
            logger.LogDebug(ex, "Batch pool {Pool} could not remove its reminder", Pool);
        }
    }
}
