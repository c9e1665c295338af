using System.Text.Json;
using System.Text.Json.Serialization;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;
using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>Answer to <c>POST /v1/feedback</c>: the feedback was joined to the request's trace.</summary>
public sealed record FeedbackResponse(
    [property: JsonPropertyName("request_id")] string RequestId,
    [property: JsonPropertyName("recorded")] bool Recorded);

/// <summary>
/// <c>POST /v1/feedback</c> (Bearer app key): an app reports feedback or a business outcome for one of its requests,
/// <c>{request_id, thumbs?: "up"|"down", label?, converted?, value?}</c>; it is joined to the request's trace (its
/// <c>biz_metric</c>). Later feedback for the same request replaces earlier. Thumbs on a call a model answered are also
/// quality evidence about that model for the call's query type (<c>feedback/{appId}/{requestId}</c>, up = 1, down = 0).
/// </summary>
internal static class FeedbackEndpoints
{
    public static void MapFeedbackEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapPost("/feedback", RecordAsync)
            .WithName("RecordFeedback")
            .WithSummary("Joins the calling app's feedback or business outcome (thumbs, label, converted, value) to the trace of one of its requests.")
            .WithDescription("Body: {\"request_id\": \"…\", \"thumbs\": \"up\"|\"down\", \"label\": \"…\", \"converted\": true, \"value\": 12.5}; "
                + "at least one of thumbs, label, converted, value. The request id is the X-Request-Id the call was made (or answered) with.")
            .Produces<FeedbackResponse>(StatusCodes.Status200OK)
            .Produces<OpenAIErrorResponse>(StatusCodes.Status400BadRequest)
            .Produces<OpenAIErrorResponse>(StatusCodes.Status401Unauthorized)
            .Produces<OpenAIErrorResponse>(StatusCodes.Status404NotFound)
            .Produces<OpenAIErrorResponse>(StatusCodes.Status415UnsupportedMediaType);
    }

    internal static async Task RecordAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster, TimeProvider time, ILoggerFactory loggers)
    {
        if (await AppKeyCheck.AuthenticateAsync(context, grains, cluster) is not { } app)
        {
            return;
        }

        var appId = app.AppId;
        if (!context.Request.HasJsonContentType())
        {
            await OpenAIErrors.WriteAsync(context, 415,
                $"Content-Type must be application/json (got '{context.Request.ContentType}').", OpenAIErrors.InvalidRequest, code: "unsupported_media_type");
            return;
        }

        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await OpenAIErrors.WriteAsync(context, 400, $"The request body is not valid JSON: {ex.Message}", OpenAIErrors.InvalidRequest, code: "invalid_json");
            return;
        }
        catch (BadHttpRequestException ex)
        {
            await OpenAIErrors.WriteAsync(context, ex.StatusCode, ex.Message, OpenAIErrors.InvalidRequest, code: "bad_request");
            return;
        }

        string? requestId;
        BizFeedback? feedback;
        Invalid? invalid;
        using (document)
        {
            invalid = TryRead(document.RootElement, time.GetUtcNow(), out requestId, out feedback);
        }

        if (invalid is not null)
        {
            await OpenAIErrors.WriteAsync(context, 400, invalid.Message, OpenAIErrors.InvalidRequest, invalid.Param, "invalid_feedback");
            return;
        }

        var telemetry = grains.GetGrain<ITelemetryGrain>(0);
        var outcome = await cluster.RunAsync(_ => new ValueTask<FeedbackOutcome>(telemetry.RecordFeedbackAsync(appId, requestId!, feedback!)), context.RequestAborted);
        if (outcome == FeedbackOutcome.UnknownRequest)
        {
            await OpenAIErrors.WriteAsync(context, 404,
                $"This app has no trace of request '{requestId}'. Send the request id the call was made with (its X-Request-Id).",
                OpenAIErrors.InvalidRequest, "request_id", "request_not_found");
            return;
        }

        if (feedback!.Thumbs is not null)
        {
            await RecordQualityEvidenceAsync(grains, telemetry, appId, requestId!, feedback, time, loggers.CreateLogger(typeof(FeedbackEndpoints).FullName!));
        }

        await TypedResults.Ok(new FeedbackResponse(requestId!, true)).ExecuteAsync(context);
    }

    /// <summary>
    /// Thumbs on a call a model answered become evidence of that model's quality on the call's query type. The
    /// feedback is already joined to the trace, so a failure here is logged and the caller still gets its 200.
    /// </summary>
    private static async Task RecordQualityEvidenceAsync(
        IGrainFactory grains, ITelemetryGrain telemetry, string appId, string requestId, BizFeedback feedback, TimeProvider time, ILogger logger)
    {
        try
        {
            var trace = await telemetry.FindTraceAsync(appId, requestId);
            if (trace is not null && QualityEvidenceFrom.Feedback(trace.Event, feedback, time.GetUtcNow()) is { } evidence)
            {
                await grains.GetGrain<IModelQualityGrain>(evidence.QueryType).RecordAsync(evidence);
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Could not record feedback on {AppId}/{RequestId} as quality evidence", appId, requestId);
        }
    }

    private sealed record Invalid(string Message, string? Param);

    /// <summary>Reads the body; the error names the JSON field (snake_case, as the caller wrote it).</summary>
    private static Invalid? TryRead(JsonElement root, DateTimeOffset now, out string? requestId, out BizFeedback? feedback)
    {
        requestId = null;
        feedback = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return new("The body must be a JSON object {request_id, thumbs?, label?, converted?, value?}.", null);
        }

        if (!root.TryGetProperty("request_id", out var id) || id.ValueKind != JsonValueKind.String || !TelemetryRules.IsValidRequestId(id.GetString()))
        {
            return new($"'request_id' is required: the id (1–{ChatRequestRules.MaxRequestIdLength} characters) of the request the feedback is about.", "request_id");
        }

        string? thumbs = null;
        if (root.TryGetProperty("thumbs", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind != JsonValueKind.String)
            {
                return new("'thumbs' must be \"up\" or \"down\".", "thumbs");
            }

            thumbs = t.GetString()!.Trim().ToLowerInvariant();
        }

        string? label = null;
        if (root.TryGetProperty("label", out var l) && l.ValueKind != JsonValueKind.Null)
        {
            if (l.ValueKind != JsonValueKind.String)
            {
                return new($"'label' must be a string of 1–{TelemetryRules.MaxLabelLength} characters of A-Z, a-z, 0-9, '_', '.' and '-'.", "label");
            }

            label = l.GetString();
        }

        bool? converted = null;
        if (root.TryGetProperty("converted", out var c) && c.ValueKind != JsonValueKind.Null)
        {
            if (c.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                return new("'converted' must be true or false.", "converted");
            }

            converted = c.GetBoolean();
        }

        double? value = null;
        if (root.TryGetProperty("value", out var v) && v.ValueKind != JsonValueKind.Null)
        {
            if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out var number) || !double.IsFinite(number))
            {
                return new("'value' must be a finite number.", "value");
            }

            value = number;
        }

        var candidate = new BizFeedback(thumbs, label, converted, value, now);
        var problem = TelemetryRules.Validate(candidate).FirstOrDefault();
        if (problem.Key is not null)
        {
            // The rules' field names are the body's, except the whole-feedback rule, which names no single field.
            return problem.Key == "feedback"
                ? new("At least one of 'thumbs', 'label', 'converted' or 'value' is required.", null)
                : new($"'{problem.Key}': {problem.Value}.", problem.Key);
        }

        requestId = id.GetString();
        feedback = candidate;
        return null;
    }
}
