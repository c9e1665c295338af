namespace MicroApps.Orleans.Cost;

/// <summary>
/// The cost roll-up of one UTC day (key: <c>yyyy-MM-dd</c>, see <see cref="CostDays"/>). A closed hour (one that ended
/// more than <c>Telemetry:Cost:RollupGrace</c> ago) is rolled up from the trace store once, stored (by its
/// <see cref="ICostHourGrain"/>), and final: events written into it later are not counted. Hours not yet closed are computed live from the trace store (briefly cached,
/// <c>Telemetry:Cost:LiveCacheFor</c>).
/// </summary>
public interface ICostRollupGrain : IGrainWithStringKey
{
    /// <summary>Sums of the requested hours of this day, grouped and bucketed as asked, with the day's incidents.</summary>
    Task<CostSlice> SliceAsync(CostSliceRequest request);
}

/// <summary>
/// The final roll-up of one closed UTC hour (key: <c>yyyy-MM-ddTHH</c>, see <see cref="CostDays.HourKeyOf"/>). Computed
/// from the trace store on the first call after the hour closed and stored; every later call answers from state. One
/// grain per hour keeps each stored state to one hour's cells.
/// </summary>
public interface ICostHourGrain : IGrainWithStringKey
{
    /// <summary>The hour's stored roll-up, computed and stored first when needed.</summary>
    /// <exception cref="InvalidOperationException">The hour is not closed yet (it ended less than the grace period ago).</exception>
    Task<HourRollup> GetFinalAsync();
}

/// <summary>
/// Cost dashboard and KPIs (key: 0; a stateless worker, so every silo answers locally). Reads one roll-up grain per
/// day in the range, never the raw trace events.
/// </summary>
public interface ICostDashboardGrain : IGrainWithIntegerKey
{
    /// <summary>Spend in [from, to) (rounded out to whole hours) bucketed by hour, day or month, grouped by one dimension.</summary>
    /// <exception cref="ArgumentException">The range is empty or too long for the granularity.</exception>
    Task<SpendSeries> GetSpendAsync(DateTimeOffset from, DateTimeOffset to, CostGranularity granularity, CostDimension groupBy);

    /// <summary>Totals, cost per 1,000 requests by tier, cache savings and the <paramref name="top"/> apps and teams by spend.</summary>
    Task<CostSummary> GetSummaryAsync(DateTimeOffset from, DateTimeOffset to, int top);

    /// <summary>Burn rate and projected end-of-period spend of every configured budget an app is charged to.</summary>
    Task<IReadOnlyList<BudgetBurn>> GetBudgetBurnAsync();

    /// <summary>The KPIs over [from, to): mean time to publish, cost per 1,000 requests by tier, incidents per 1,000 app-days, reuse rate.</summary>
    Task<KpiReport> GetKpisAsync(DateTimeOffset from, DateTimeOffset to);
}

/// <summary>Keys of <see cref="ICostRollupGrain"/>.</summary>
public static class CostDays
{
    /// <summary>The roll-up grain key of the UTC day holding <paramref name="time"/>.</summary>
    public static string KeyOf(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The hour grain key of the UTC hour holding <paramref name="time"/>.</summary>
    public static string HourKeyOf(DateTimeOffset time) =>
        time.ToUniversalTime().ToString("yyyy-MM-dd'T'HH", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The start of the hour an hour grain key names.</summary>
    public static DateTimeOffset HourStartOf(string key) =>
        DateTimeOffset.ParseExact(key, "yyyy-MM-dd'T'HH", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);

    /// <summary>The start of the day a roll-up grain key names.</summary>
    public static DateTimeOffset StartOf(string key) =>
        DateTimeOffset.ParseExact(key, "yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal);
}
