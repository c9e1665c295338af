using System.Globalization;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Cost;
using Microsoft.AspNetCore.Mvc;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// Cost dashboard data and KPIs: <c>GET /admin/cost/spend</c>, <c>/admin/cost/summary</c>, <c>/admin/cost/budgets</c> and
/// <c>GET /admin/kpis</c>. Reads for every role, like the app list that already shows every app's spend. Thin: the
/// dashboard grain computes every figure; this class parses and checks the query, naming the bad parameter.
/// </summary>
internal static class CostEndpoints
{
    /// <summary>Range used when <c>from</c> is left out: the 7 days before <c>to</c>.</summary>
    private static readonly TimeSpan DefaultRange = TimeSpan.FromDays(7);

    private const int DefaultTop = 10;

    internal static void MapCostEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/cost/spend", SpendAsync)
            .WithName("CostSpend").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Spend in [from, to) (rounded out to whole UTC hours; default the last 7 days) bucketed by hour, day or month, grouped by app, team, tier or model.")
            .Produces<SpendSeries>().ProducesValidationProblem();

        admin.MapGet("/cost/summary", SummaryAsync)
            .WithName("CostSummary").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Totals, cost per 1,000 requests by tier, what caching saved, the savings split against the baseline (cache, near-duplicate, routing, sampling), and the top spending apps and teams in [from, to).")
            .Produces<CostSummary>().ProducesValidationProblem();

        admin.MapGet("/cost/budgets", BudgetsAsync)
            .WithName("CostBudgets").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Every configured budget an app is charged to: spend so far, burn rate, projected end-of-period spend, on_track or over.")
            .Produces<BudgetBurn[]>();

        admin.MapGet("/kpis", KpisAsync)
            .WithName("Kpis").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Mean time to publish, cost per 1,000 requests by tier, incidents per 1,000 app-days and reuse rate over [from, to).")
            .Produces<KpiReport>().ProducesValidationProblem();
    }

    internal static async Task<IResult> SpendAsync(
        [FromQuery] string? from,
        [FromQuery] string? to,
        [FromQuery] string? granularity,
        [FromQuery] string? groupBy,
        IGrainFactory grains,
        ClusterCalls cluster,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var unit = CostGranularity.Day;
        if (!string.IsNullOrEmpty(granularity) && !AdminQuery.TryParseName(granularity, out unit))
        {
            errors["granularity"] = [$"Must be 'hour', 'day' or 'month'; got '{granularity}'."];
        }

        var dimension = CostDimension.App;
        if (!string.IsNullOrEmpty(groupBy) && (!AdminQuery.TryParseName(groupBy, out dimension) || dimension == CostDimension.Total))
        {
            errors["groupBy"] = [$"Must be 'app', 'team', 'tier' or 'model'; got '{groupBy}'."];
        }

        var range = ParseRange(from, to, unit, time, errors);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var dashboard = grains.GetGrain<ICostDashboardGrain>(0);
        return await AnswerAsync(() => cluster.RunAsync(_ => new ValueTask<SpendSeries>(dashboard.GetSpendAsync(range.From, range.To, unit, dimension)), cancellationToken));
    }

    internal static async Task<IResult> SummaryAsync(
        [FromQuery] string? from,
        [FromQuery] string? to,
        [FromQuery] string? top,
        IGrainFactory grains,
        ClusterCalls cluster,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var count = DefaultTop;
        if (!string.IsNullOrEmpty(top) && (!int.TryParse(top, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count is < 1 or > CostRanges.MaxTop))
        {
            errors["top"] = [$"Must be a whole number from 1 to {CostRanges.MaxTop}; got '{top}'."];
        }

        var range = ParseRange(from, to, CostGranularity.Day, time, errors);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var dashboard = grains.GetGrain<ICostDashboardGrain>(0);
        return await AnswerAsync(() => cluster.RunAsync(_ => new ValueTask<CostSummary>(dashboard.GetSummaryAsync(range.From, range.To, count)), cancellationToken));
    }

    internal static async Task<IResult> BudgetsAsync(IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var dashboard = grains.GetGrain<ICostDashboardGrain>(0);
        return TypedResults.Ok(await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<BudgetBurn>>(dashboard.GetBudgetBurnAsync()), cancellationToken));
    }

    internal static async Task<IResult> KpisAsync(
        [FromQuery] string? from,
        [FromQuery] string? to,
        IGrainFactory grains,
        ClusterCalls cluster,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var range = ParseRange(from, to, CostGranularity.Day, time, errors);
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var dashboard = grains.GetGrain<ICostDashboardGrain>(0);
        return await AnswerAsync(() => cluster.RunAsync(_ => new ValueTask<KpiReport>(dashboard.GetKpisAsync(range.From, range.To)), cancellationToken));
    }

    private static async Task<IResult> AnswerAsync<T>(Func<ValueTask<T>> call)
    {
        try
        {
            return TypedResults.Ok(await call());
        }
        catch (ArgumentException ex)
        {
            // The grain applies the same rules as the checks above; this only answers a rule they missed as a 400.
            return AdminJson.Invalid(ex.ParamName ?? "query", ex.Message);
        }
    }

    private static (DateTimeOffset From, DateTimeOffset To) ParseRange(
        string? from, string? to, CostGranularity granularity, TimeProvider time, Dictionary<string, string[]> errors)
    {
        var end = AdminQuery.ParseTime("to", to, errors) ?? time.GetUtcNow();
        var start = AdminQuery.ParseTime("from", from, errors) ?? end - DefaultRange;
        if (errors.Count == 0 && CostRanges.Check(start, end, granularity) is { } problem)
        {
            errors[problem.Field] = [problem.Message];
        }

        return (start, end);
    }




    private static IResult Invalid(Dictionary<string, string[]> errors) => TypedResults.ValidationProblem(errors, title: "Invalid request");
}
