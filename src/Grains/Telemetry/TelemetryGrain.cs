using Microsoft.Extensions.DependencyInjection;
using Orleans.Concurrency;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// The trace query API and the feedback join over <see cref="ITraceStore"/>. A stateless worker: it holds nothing,
/// so every silo answers from a local activation and calls interleave (each one is a store read or one idempotent write).
/// </summary>
[StatelessWorker]
[Reentrant]
public sealed class TelemetryGrain(ITraceStore store, [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, ITelemetryGrain
{
    public async Task<TracePage> QueryTracesAsync(TraceQuery query)
    {
        var normalized = query is null ? null : query with
        {
            AppId = Blank(query.AppId),
            Team = Blank(query.Team),
            Model = Blank(query.Model),
            Tier = Blank(query.Tier),
            Outcome = Blank(query.Outcome),
            PromptVersion = Blank(query.PromptVersion),
            RequestId = Blank(query.RequestId),
            ContinuationToken = Blank(query.ContinuationToken),
        };
        ThrowIfInvalid(TelemetryRules.Validate(normalized));
        return await WithTokenCheck(normalized!.ContinuationToken, () => store.QueryAsync(normalized));
    }

    public async Task<TraceRecord?> FindTraceAsync(string appId, string requestId)
    {
        ThrowIfInvalid(AppAndRequest(appId, requestId));
        return await store.FindAsync(appId, requestId);
    }

    public async Task<PromptSamplePage> SearchPromptsAsync(PromptSearchQuery query)
    {
        var normalized = query is null ? null : query with
        {
            Text = query.Text?.Trim() ?? "",
            AppId = Blank(query.AppId),
            Team = Blank(query.Team),
            ContinuationToken = Blank(query.ContinuationToken),
        };
        ThrowIfInvalid(TelemetryRules.Validate(normalized));
        return await WithTokenCheck(normalized!.ContinuationToken, () => store.SearchSamplesAsync(normalized));
    }

    public async Task<FeedbackOutcome> RecordFeedbackAsync(string appId, string requestId, BizFeedback feedback)
    {
        var errors = new Dictionary<string, string>(AppAndRequest(appId, requestId), StringComparer.Ordinal);
        foreach (var (field, message) in TelemetryRules.Validate(feedback))
        {
            errors.TryAdd(field, message);
        }

        ThrowIfInvalid(errors);

        // The platform's clock says when feedback arrived, not the caller's.
        return await store.AttachFeedbackAsync(appId, requestId, feedback with { ReportedAt = time.GetUtcNow() });
    }

    private static Dictionary<string, string> AppAndRequest(string appId, string requestId)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Apps.ApiKeys.IsValidAppId(appId))
        {
            errors["appId"] = "appId must be 3-40 characters of a-z, 0-9 and '-', not starting or ending with '-'";
        }

        if (!TelemetryRules.IsValidRequestId(requestId))
        {
            errors["requestId"] = $"requestId must be 1-{Gateway.ChatRequestRules.MaxRequestIdLength} characters";
        }

        return errors;
    }

    /// <summary>
    /// Runs a paged store read. Everything else in the query was validated, so an <see cref="ArgumentException"/> from
    /// the store is its refusal of the continuation token (one it did not issue), reported under the API's name for it.
    /// </summary>
    private static async Task<T> WithTokenCheck<T>(string? continuationToken, Func<Task<T>> read)
    {
        try
        {
            return await read();
        }
        catch (ArgumentException ex) when (continuationToken is not null)
        {
            throw new InvalidTelemetryRequestException("continuationToken", $"not a token this query issued ({ex.Message})", ex);
        }
    }

    private static void ThrowIfInvalid(IReadOnlyDictionary<string, string> errors)
    {
        if (errors.Count > 0)
        {
            var (field, message) = errors.First();
            throw new InvalidTelemetryRequestException(field, message);
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
