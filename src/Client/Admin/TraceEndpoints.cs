using System.Globalization;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;
using Microsoft.AspNetCore.Mvc;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>One stored trace as the admin API shows it: the trace event's fields, flat, with the app's feedback.</summary>
public sealed record TraceView(
    string AppId,
    string RequestId,
    DateTimeOffset Timestamp,
    string Team,
    string Model,
    string ModelTier,
    string Outcome,
    string? ErrorCode,
    int TokensIn,
    int TokensOut,
    double LatencyMs,
    string PromptVersion,
    decimal CostEstimateUsd,
    decimal CostActualUsd,
    string Route,
    bool CacheHit,
    string PromptHash,
    string? Policy,
    int PolicyVersion,
    IReadOnlyList<string> PolicyMatches,
    IReadOnlyList<string>? PiiClasses,
    IReadOnlyList<string> Decisions,
    string? BizMetric,
    BizFeedback? Feedback,
    string? QueryType,
    decimal? BaselineCostUsd,
    string? Saving,
    string? RouteReason)
{
    public static TraceView From(TraceRecord record)
    {
        var e = record.Event;
        return new(
            e.AppId, e.RequestId, e.Timestamp, e.Team, e.Model, e.ModelTier, e.Outcome, e.ErrorCode, e.TokensIn, e.TokensOut, e.LatencyMs,
            e.PromptVersion, e.CostEstimateUsd, e.CostActualUsd, e.Route, e.CacheHit, e.PromptHash, e.Policy, e.PolicyVersion,
            e.PolicyMatches ?? [], e.PiiClasses, e.Decisions ?? [], e.BizMetric, record.Feedback,
            e.QueryType, e.BaselineCostUsd, e.Saving, e.RouteReason);
    }
}

/// <summary>A page of traces, newest hour first; pass <c>continuationToken</c> back unchanged until it is null.</summary>
public sealed record TracePageView(IReadOnlyList<TraceView> Items, string? ContinuationToken);

/// <summary>A page of redacted prompt samples, newest first; pass <c>continuationToken</c> back unchanged until it is null.</summary>
public sealed record PromptSamplePageView(IReadOnlyList<PromptSample> Items, string? ContinuationToken);

/// <summary>
/// The trace query API: <c>GET /admin/traces</c> (filtered, paged), <c>GET /admin/traces/{appId}/{requestId}</c> and
/// <c>GET /admin/prompts/search</c> (text search over the redacted prompt store).
/// </summary>
/// <remarks>
/// Roles: traces are read by every role, as <c>GET /admin/apps</c> shows every app's spend to every role (a trace
/// holds ids, counts, costs and decisions, never text). The prompt store holds the (redacted) words of every app's
/// users, so, like the audit log, it is read by viewers, approvers and admins, not by authors.
/// </remarks>
internal static class TraceEndpoints
{
    /// <summary>The time range of a query that gives neither end.</summary>
    public static readonly TimeSpan DefaultRange = TimeSpan.FromHours(24);

    public const int DefaultTracePageSize = 100;

    public const int DefaultSearchPageSize = 50;

    internal static void MapTraceEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/traces", QueryAsync)
            .WithName("QueryTraces").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Traces of model calls, newest hour first, filtered by app, team, model, tier, outcome, prompt version, request id and time range [from, to) (default: the last 24 hours); paged.")
            .Produces<TracePageView>().ProducesValidationProblem();

        admin.MapGet("/traces/{appId}/{requestId}", GetAsync)
            .WithName("GetTrace").AllowRoles(AdminAccess.Everyone)
            .WithSummary("The trace of one request of one app, with the feedback the app reported.")
            .Produces<TraceView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/prompts/search", SearchAsync)
            .WithName("SearchPrompts").AllowRoles(AdminRole.Viewer, AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Case-insensitive text search over the redacted prompts and responses of apps that opted in (promptSampleShare > 0); newest first, paged.")
            .Produces<PromptSamplePageView>().ProducesValidationProblem();
    }

    internal static async Task<IResult> QueryAsync(
        [FromQuery] string? appId,
        [FromQuery] string? team,
        [FromQuery] string? from,
        [FromQuery] string? to,
        [FromQuery] string? model,
        [FromQuery] string? tier,
        [FromQuery] string? outcome,
        [FromQuery] string? promptVersion,
        [FromQuery] string? requestId,
        [FromQuery] string? pageSize,
        [FromQuery] string? continuationToken,
        HttpContext context,
        IGrainFactory grains,
        ClusterCalls cluster)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (fromTime, toTime) = ParseRange(from, to, context, errors);
        var size = ParsePageSize(pageSize, DefaultTracePageSize, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var query = new TraceQuery(
            fromTime, toTime, Blank(appId), Blank(team), Blank(model), Blank(tier), Blank(outcome), Blank(promptVersion), Blank(requestId), size, Blank(continuationToken));
        if (Problem(TelemetryRules.Validate(query)) is { } invalid)
        {
            return invalid;
        }

        var telemetry = grains.GetGrain<ITelemetryGrain>(0);
        try
        {
            var page = await cluster.RunAsync(_ => new ValueTask<TracePage>(telemetry.QueryTracesAsync(query)), context.RequestAborted);
            return TypedResults.Ok(new TracePageView(page.Items.Select(TraceView.From).ToArray(), page.ContinuationToken));
        }
        catch (ArgumentException ex)
        {
            return Refused(ex);
        }
    }

    internal static async Task<IResult> GetAsync(string appId, string requestId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            return AdminEndpoints.InvalidAppId();
        }

        if (!TelemetryRules.IsValidRequestId(requestId))
        {
            return AdminJson.Invalid("requestId", $"Must be 1–{ChatRequestRules.MaxRequestIdLength} characters.");
        }

        var telemetry = grains.GetGrain<ITelemetryGrain>(0);
        var record = await cluster.RunAsync(_ => new ValueTask<TraceRecord?>(telemetry.FindTraceAsync(appId, requestId)), cancellationToken);
        return record is null
            ? TypedResults.Problem(title: "Trace not found", detail: $"App '{appId}' has no trace of request '{requestId}'.", statusCode: StatusCodes.Status404NotFound)
            : TypedResults.Ok(TraceView.From(record));
    }

    internal static async Task<IResult> SearchAsync(
        [FromQuery] string? q,
        [FromQuery] string? appId,
        [FromQuery] string? team,
        [FromQuery] string? from,
        [FromQuery] string? to,
        [FromQuery] string? pageSize,
        [FromQuery] string? continuationToken,
        HttpContext context,
        IGrainFactory grains,
        ClusterCalls cluster)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (fromTime, toTime) = ParseRange(from, to, context, errors);
        var size = ParsePageSize(pageSize, DefaultSearchPageSize, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var query = new PromptSearchQuery(q?.Trim() ?? "", fromTime, toTime, Blank(appId), Blank(team), size, Blank(continuationToken));
        if (Problem(TelemetryRules.Validate(query)) is { } invalid)
        {
            return invalid;
        }

        var telemetry = grains.GetGrain<ITelemetryGrain>(0);
        try
        {
            var page = await cluster.RunAsync(_ => new ValueTask<PromptSamplePage>(telemetry.SearchPromptsAsync(query)), context.RequestAborted);
            return TypedResults.Ok(new PromptSamplePageView(page.Items, page.ContinuationToken));
        }
        catch (ArgumentException ex)
        {
            return Refused(ex);
        }
    }

    /// <summary>
    /// <c>from</c> and <c>to</c> as ISO 8601 (UTC when no offset is given). Missing ends default to the last 24 hours:
    /// to = now, from = to − 24 h.
    /// </summary>
    private static (DateTimeOffset From, DateTimeOffset To) ParseRange(string? from, string? to, HttpContext context, Dictionary<string, string[]> errors)
    {
        var now = context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
        var toTime = AdminQuery.ParseTime("to", to, errors) ?? now;
        var fromTime = AdminQuery.ParseTime("from", from, errors) ?? toTime - DefaultRange;
        return (fromTime, toTime);
    }


    private static int ParsePageSize(string? value, int defaultSize, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return defaultSize;
        }

        if (int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var size) && size is >= 1 and <= TraceQuery.MaxPageSize)
        {
            return size;
        }

        errors["pageSize"] = [$"Must be a whole number from 1 to {TraceQuery.MaxPageSize}; got '{value}'."];
        return defaultSize;
    }

    private static IResult? Problem(IReadOnlyDictionary<string, string> errors) =>
        errors.Count == 0
            ? null
            : TypedResults.ValidationProblem(errors.ToDictionary(e => e.Key, e => new[] { e.Value }), title: "Invalid request");

    /// <summary>The grain's refusal (in practice a continuation token the store did not issue) as problem details naming the field.</summary>
    private static IResult Refused(ArgumentException ex) =>
        AdminJson.Invalid(string.IsNullOrEmpty(ex.ParamName) ? "continuationToken" : ex.ParamName, ex.Message);

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
