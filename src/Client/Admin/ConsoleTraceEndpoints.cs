using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// <c>GET /admin/traces/{appId}/{requestId}/sample</c>: the redacted prompt sample of one traced call, for the console's
/// trace page. The prompt store is searched by text only, so this endpoint searches the app's samples around the
/// trace's time and picks the one of the request.
/// </summary>
/// <remarks>
/// Roles are those of <c>GET /admin/prompts/search</c> (viewer, approver, admin): the sample holds (redacted) words of
/// the app's users, which authors do not read.
/// </remarks>
internal static class ConsoleTraceEndpoints
{
    /// <summary>
    /// How far from the trace's time its sample may be stamped. Both are stamped by the trace step of the same call
    /// (the sample just after the event), so a minute either side is ample and keeps the search to one or two hours.
    /// </summary>
    public static readonly TimeSpan SampleWindow = TimeSpan.FromMinutes(1);

    /// <summary>
    /// Text every stored prompt contains: the sampler writes the conversation as <c>role: content</c> lines
    /// (<see cref="PromptSampler.PromptText"/>), so the separator matches every sample with a prompt.
    /// </summary>
    private const string EverySample = ":";

    internal static void MapConsoleTraceEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/traces/{appId}/{requestId}/sample", GetSampleAsync)
            .WithName("GetTraceSample").AllowRoles(AdminRole.Viewer, AdminRole.Approver, AdminRole.Admin)
            .WithSummary("The redacted prompt and response stored for one traced request (apps with promptSampleShare > 0, when the request was sampled); 404 when none is stored.")
            .Produces<PromptSample>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<IResult> GetSampleAsync(string appId, string requestId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            return AdminEndpoints.InvalidAppId();
        }

        if (!TelemetryRules.IsValidRequestId(requestId))
        {
            return AdminJson.Invalid("requestId", $"Must be 1–{Gateway.ChatRequestRules.MaxRequestIdLength} characters.");
        }

        var telemetry = grains.GetGrain<ITelemetryGrain>(0);
        var trace = await cluster.RunAsync(_ => new ValueTask<TraceRecord?>(telemetry.FindTraceAsync(appId, requestId)), cancellationToken);
        if (trace is null)
        {
            return TypedResults.Problem(title: "Trace not found", detail: $"App '{appId}' has no trace of request '{requestId}'.", statusCode: StatusCodes.Status404NotFound);
        }

        var at = trace.Event.Timestamp;
        string? continuation = null;
        do
        {
            var query = new PromptSearchQuery(EverySample, at - SampleWindow, at + SampleWindow, appId, PageSize: TraceQuery.MaxPageSize, ContinuationToken: continuation);
            var page = await cluster.RunAsync(_ => new ValueTask<PromptSamplePage>(telemetry.SearchPromptsAsync(query)), cancellationToken);
            if (page.Items.FirstOrDefault(s => string.Equals(s.RequestId, requestId, StringComparison.Ordinal)) is { } sample)
            {
                return TypedResults.Ok(sample);
            }

            continuation = page.ContinuationToken;
        }
        while (continuation is not null);

        return TypedResults.Problem(
            title: "No prompt sample",
            detail: $"No redacted prompt is stored for request '{requestId}' of app '{appId}': the app does not opt in to prompt sampling (promptSampleShare), or this request was not in its sampled share.",
            statusCode: StatusCodes.Status404NotFound);
    }
}
