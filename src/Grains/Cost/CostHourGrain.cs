using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Cost;

/// <summary>The stored roll-up of one closed hour.</summary>
[GenerateSerializer, Alias("microapps.CostHourState")]
public sealed class CostHourState
{
    [Id(0)]
    public HourRollup? Rollup { get; set; }
}

/// <summary>
/// The final roll-up of one closed UTC hour: read from the trace store once, written to storage before the first
/// answer, and answered from state from then on, so a closed hour's figures never move and its events are read once.
/// One grain per hour keeps a stored state to one hour's cells (one per app, team, tier and model active in it).
/// </summary>
public sealed class CostHourGrain(
    [PersistentState("costhour", "store")] IPersistentState<CostHourState> state,
    CostHourScanner scanner,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    ILogger<CostHourGrain> logger) : Grain, ICostHourGrain
{
    public async Task<HourRollup> GetFinalAsync()
    {
        if (state.State.Rollup is { } stored)
        {
            return stored;
        }

        var key = this.GetPrimaryKeyString();
        DateTimeOffset hour;
        try
        {
            hour = CostDays.HourStartOf(key);
        }
        catch (FormatException)
        {
            throw new ArgumentException($"A cost hour grain is keyed by a UTC hour (yyyy-MM-ddTHH), not '{key}'.");
        }

        var now = time.GetUtcNow();
        if (!scanner.IsClosed(hour, now))
        {
            throw new InvalidOperationException($"The hour {key} is not closed yet: it is rolled up once its grace period has passed.");
        }

        var rollup = await scanner.RollUpAsync(hour, final: true, now);
        state.State.Rollup = rollup;
        await state.WriteStateAsync();
        logger.LogInformation("Cost roll-up of closed hour {Hour}: {Cells} cells stored", key, rollup.Cells.Count);
        return rollup;
    }
}
