using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Tiers;
using Orleans.Runtime;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// The cluster as the console's overview and model-tier pages show it: <c>GET /admin/cluster</c> (silos, their membership
/// status and runtime statistics) and <c>GET /admin/tiers</c> (every configured tier, its models, prices and health).
/// Reads for every role. Both answer what they know: a silo that does not answer its statistics in time, or a tier
/// grain that fails, is reported as such in the body instead of failing the whole answer.
/// </summary>
internal static class ClusterEndpoints
{
    /// <summary>
    /// How long one silo's statistics or one tier's health may take. A dead or hung silo otherwise holds the answer for
    /// the whole client response timeout (30 s by default), and the console would show nothing for that long.
    /// </summary>
    internal static readonly TimeSpan PartTimeout = TimeSpan.FromSeconds(5);

    internal static void MapClusterEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/cluster", ClusterAsync)
            .WithName("Cluster").AllowRoles(AdminAccess.Everyone)
            .WithSummary("The cluster's silos (every membership entry: active, joining, shutting down, dead) with their start and last I-am-alive times, and for silos that are not dead their activation count, CPU and memory; a silo that does not answer in time is listed with statisticsError.")
            .Produces<ClusterView>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        admin.MapGet("/tiers", TiersAsync)
            .WithName("ModelTiers").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Every configured model tier (names from the silos' model catalog) with its models, prices per 1K tokens, context windows and health: available, latency estimate, successes, failures, consecutive failures and open-until.")
            .Produces<TierView[]>()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    internal static async Task<IResult> ClusterAsync(IGrainFactory grains, ClusterCalls cluster, TimeProvider time, CancellationToken cancellationToken)
    {
        var management = grains.GetGrain<IManagementGrain>(0);
        var view = await DescribeClusterAsync(
            _ => cluster.RunAsync(_ => new ValueTask<MembershipEntry[]>(management.GetDetailedHosts(onlyActive: false)), cancellationToken),
            async (silo, _) => SiloStatisticsView.Of((await management.GetRuntimeStatistics([silo])).Single()),
            PartTimeout,
            time,
            cancellationToken);
        return TypedResults.Ok(view);
    }

    /// <summary>
    /// The cluster view from the membership entries and each non-dead silo's statistics, asked in parallel, each bounded
    /// by <paramref name="timeout"/>. The membership read is not caught: without it nothing is known, and the front door
    /// answers an unreachable cluster with 503 problem details.
    /// </summary>
    internal static async Task<ClusterView> DescribeClusterAsync(
        Func<CancellationToken, ValueTask<MembershipEntry[]>> readMembership,
        Func<SiloAddress, CancellationToken, Task<SiloStatisticsView>> readStatistics,
        TimeSpan timeout,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var entries = await readMembership(cancellationToken);
        var silos = await Task.WhenAll(entries.Select(entry => DescribeSiloAsync(entry, readStatistics, timeout, time, cancellationToken)));
        var ordered = silos
            .OrderBy(s => s.Status == "dead" ? 1 : 0)
            .ThenByDescending(s => s.StartedAt)
            .ThenBy(s => s.Address, StringComparer.Ordinal)
            .ToArray();
        var live = ordered.Where(s => s.Status != "dead").ToArray();
        return new ClusterView(
            time.GetUtcNow(),
            ordered.Count(s => s.Status == "active"),
            live.Length,
            ordered.Length - live.Length,
            live.Sum(s => (long)(s.Statistics?.Activations ?? 0)),
            live.All(s => s.Statistics is not null),
            ordered);
    }

    private static async Task<SiloView> DescribeSiloAsync(
        MembershipEntry entry,
        Func<SiloAddress, CancellationToken, Task<SiloStatisticsView>> readStatistics,
        TimeSpan timeout,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var status = entry.Status.ToString().ToLowerInvariant();
        SiloStatisticsView? statistics = null;
        string? error = null;
        if (entry.Status != SiloStatus.Dead)
        {
            try
            {
                statistics = await readStatistics(entry.SiloAddress, cancellationToken).WaitAsync(timeout, time, cancellationToken);
            }
            catch (TimeoutException)
            {
                error = $"The silo did not answer within {timeout.TotalSeconds:0.#} s.";
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                error = $"The silo's statistics could not be read: {ex.GetType().Name}: {ex.Message}";
            }
        }

        return new SiloView(
            entry.SiloAddress.ToParsableString(),
            entry.SiloName ?? "",
            entry.HostName ?? "",
            status,
            Utc(entry.StartTime),
            Utc(entry.IAmAliveTime),
            statistics,
            error);
    }

    private static DateTimeOffset? Utc(DateTime value) =>
        value == default ? null : new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    internal static async Task<IResult> TiersAsync(IGrainFactory grains, ClusterCalls cluster, TimeProvider time, CancellationToken cancellationToken)
    {
        var tiers = await cluster.RunAsync(
            _ => new ValueTask<IReadOnlyList<TierDescription>>(grains.GetGrain<ITierCatalogGrain>(0).GetTiersAsync()), cancellationToken);
        var views = await Task.WhenAll(tiers.Select(tier => DescribeTierAsync(
            tier, (name, _) => grains.GetGrain<IModelTierGrain>(name).GetRouteAsync(), PartTimeout, time, cancellationToken)));
        return TypedResults.Ok(views);
    }

    /// <summary>
    /// A tier's models in configured order with the health its tier grain reports; when the grain cannot answer in
    /// <paramref name="timeout"/> the models are listed without health and <see cref="TierView.HealthError"/> says why.
    /// </summary>
    internal static async Task<TierView> DescribeTierAsync(
        TierDescription tier,
        Func<string, CancellationToken, Task<TierRoute>> readRoute,
        TimeSpan timeout,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        TierRoute? route = null;
        string? error = null;
        try
        {
            route = await readRoute(tier.Tier, cancellationToken).WaitAsync(timeout, time, cancellationToken);
        }
        catch (TimeoutException)
        {
            error = $"The tier's grain did not answer within {timeout.TotalSeconds:0.#} s.";
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            error = $"The tier's health could not be read: {ex.GetType().Name}: {ex.Message}";
        }

        var health = route?.Health.ToDictionary(h => h.Model, StringComparer.OrdinalIgnoreCase) ?? [];
        var order = route?.Candidates.Select((m, i) => (m.Name, i)).ToDictionary(p => p.Name, p => p.i + 1, StringComparer.OrdinalIgnoreCase) ?? [];
        var models = tier.Models.Select(model => new TierModelView(
            model.Name,
            model.Backend,
            model.InputPricePer1K,
            model.OutputPricePer1K,
            model.ContextWindow,
            model.External,
            order.TryGetValue(model.Name, out var position) ? position : null,
            health.TryGetValue(model.Name, out var h)
                ? new ModelHealthView(h.Available, h.LatencyMsEstimate, h.Successes, h.Failures, h.ConsecutiveFailures, h.OpenUntil)
                : null)).ToArray();
        var available = route is null ? (bool?)null : models.Any(m => m.Health?.Available ?? true);
        return new TierView(tier.Tier, available, models, error);
    }
}

/// <summary>The cluster: its silos and totals over the silos that are not dead.</summary>
/// <param name="At">When the answer was made.</param>
/// <param name="ActiveSilos">Silos with status <c>active</c>.</param>
/// <param name="LiveSilos">Silos that are not dead (active, joining, shutting down…).</param>
/// <param name="DeadSilos">Dead silos still in the membership table.</param>
/// <param name="Activations">Grain activations summed over the live silos that answered.</param>
/// <param name="Complete">True when every live silo answered its statistics.</param>
/// <param name="Silos">Every membership entry: live silos first (newest first), then dead ones.</param>
public sealed record ClusterView(
    DateTimeOffset At,
    int ActiveSilos,
    int LiveSilos,
    int DeadSilos,
    long Activations,
    bool Complete,
    IReadOnlyList<SiloView> Silos);

/// <summary>One silo as the membership table and its runtime statistics describe it.</summary>
/// <param name="Address">The silo address (<c>ip:port@generation</c>).</param>
/// <param name="Name">The silo's name.</param>
/// <param name="Host">The host it runs on.</param>
/// <param name="Status">Membership status in lower case: <c>created</c>, <c>joining</c>, <c>active</c>, <c>shuttingdown</c>, <c>stopping</c>, <c>dead</c>.</param>
/// <param name="StartedAt">When the silo started.</param>
/// <param name="IAmAliveAt">The silo's last "I am alive" write to the membership table.</param>
/// <param name="Statistics">The silo's runtime statistics; null for dead silos and silos that did not answer.</param>
/// <param name="StatisticsError">Why a live silo has no statistics (it did not answer in time, or the call failed).</param>
public sealed record SiloView(
    string Address,
    string Name,
    string Host,
    string Status,
    DateTimeOffset? StartedAt,
    DateTimeOffset? IAmAliveAt,
    SiloStatisticsView? Statistics,
    string? StatisticsError);

/// <summary>A silo's runtime statistics.</summary>
/// <param name="Activations">Grain activations on the silo.</param>
/// <param name="RecentlyUsedActivations">Activations used recently.</param>
/// <param name="CpuUsagePercent">Host CPU usage, 0–100 (smoothed).</param>
/// <param name="MemoryUsageBytes">Memory the process uses (smoothed).</param>
/// <param name="AvailableMemoryBytes">Memory still available to the process (smoothed).</param>
/// <param name="MaximumMemoryBytes">Most memory available to the process.</param>
/// <param name="Overloaded">The silo considers itself overloaded (it sheds load).</param>
/// <param name="Clients">Clients (front doors) connected to the silo.</param>
/// <param name="CollectedAt">When the silo took these statistics.</param>
public sealed record SiloStatisticsView(
    int Activations,
    int RecentlyUsedActivations,
    double CpuUsagePercent,
    long MemoryUsageBytes,
    long AvailableMemoryBytes,
    long MaximumMemoryBytes,
    bool Overloaded,
    long Clients,
    DateTimeOffset CollectedAt)
{
    internal static SiloStatisticsView Of(SiloRuntimeStatistics statistics)
    {
        var environment = statistics.EnvironmentStatistics;
        return new SiloStatisticsView(
            statistics.ActivationCount,
            statistics.RecentlyUsedActivationCount,
            Math.Round(environment.FilteredCpuUsagePercentage, 1),
            environment.FilteredMemoryUsageBytes,
            environment.FilteredAvailableMemoryBytes,
            environment.MaximumAvailableMemoryBytes,
            statistics.IsOverloaded,
            statistics.ClientCount,
            new DateTimeOffset(DateTime.SpecifyKind(statistics.DateTime, DateTimeKind.Utc)));
    }
}

/// <summary>A model tier with its models and their health.</summary>
/// <param name="Tier">The tier name.</param>
/// <param name="Available">True when at least one model is available; null when the health could not be read.</param>
/// <param name="Models">The tier's models in configured order.</param>
/// <param name="HealthError">Why the health is missing; null when it was read.</param>
public sealed record TierView(string Tier, bool? Available, IReadOnlyList<TierModelView> Models, string? HealthError);

/// <summary>One model of a tier.</summary>
/// <param name="Name">Model name.</param>
/// <param name="Backend">The backend that serves it.</param>
/// <param name="InputPricePer1K">USD per 1,000 input tokens.</param>
/// <param name="OutputPricePer1K">USD per 1,000 output tokens.</param>
/// <param name="ContextWindow">Most tokens the model accepts.</param>
/// <param name="External">True when the model runs outside the organisation.</param>
/// <param name="RouteOrder">Its place (1 = first) in the order calls try the tier's models now: healthy models first; null when unknown.</param>
/// <param name="Health">Its health; null when the health could not be read.</param>
public sealed record TierModelView(
    string Name,
    string Backend,
    decimal InputPricePer1K,
    decimal OutputPricePer1K,
    int ContextWindow,
    bool External,
    int? RouteOrder,
    ModelHealthView? Health);

/// <summary>A model's health as its tier grain sees it.</summary>
/// <param name="Available">False while the circuit breaker skips the model.</param>
/// <param name="LatencyMsEstimate">Estimated latency of a call, in milliseconds (0 before the first call).</param>
/// <param name="Successes">Successful calls since the tier grain was activated.</param>
/// <param name="Failures">Failed calls since the tier grain was activated.</param>
/// <param name="ConsecutiveFailures">Failures in a row (reset by a success).</param>
/// <param name="OpenUntil">Until when the model is skipped, when it is.</param>
public sealed record ModelHealthView(
    bool Available,
    double LatencyMsEstimate,
    long Successes,
    long Failures,
    int ConsecutiveFailures,
    DateTimeOffset? OpenUntil);
