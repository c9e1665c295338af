using System.Globalization;
using System.Text.Json;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>
/// The OpenAI-compatible surface: <c>POST /v1/chat/completions</c> and <c>GET /v1/models</c>.
/// Each request makes exactly one call to <see cref="IGovernedCallGrain"/>, which does all governance;
/// this class only translates HTTP to the contract and outcomes back to HTTP.
/// </summary>
public static class ChatCompletionsEndpoints
{
    public const string TierHeader = "x-microapps-tier";
    public const string CostHeader = "x-microapps-cost-usd";
    public const string CacheHeader = "x-microapps-cache";

    private static readonly HashSet<string> KnownFinishReasons = new(StringComparer.Ordinal)
    {
        "stop", "length", "tool_calls", "content_filter", "function_call",
    };

    public static IEndpointRouteBuilder MapOpenAIEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var v1 = endpoints.MapGroup("/v1").WithTags("OpenAI-compatible");

        v1.MapPost("/chat/completions", CompleteChatAsync)
            .WithName("CreateChatCompletion")
            .WithSummary("Creates a governed chat completion (OpenAI-compatible; stream:true answers with server-sent events).")
            .WithDescription("The body is an OpenAI chat completions request (model, messages, temperature, top_p, max_tokens or "
                + "max_completion_tokens, stop, stream, stream_options, user). It is read by the endpoint itself, not declared "
                + "with Accepts, so that a wrong Content-Type is answered in OpenAI's error shape.")
            .Produces<ChatCompletion>(StatusCodes.Status200OK)
            .ProducesOpenAIErrors(400, 401, 403, 413, 415, 429, 502, 503);

        v1.MapGet("/models", ListModelsAsync)
            .WithName("ListModels")
            .WithSummary("Lists the models the calling app may use.")
            .Produces<ModelList>(StatusCodes.Status200OK)
            .Produces<OpenAIErrorResponse>(StatusCodes.Status401Unauthorized);

        v1.MapGet("/models/{model}", GetModelAsync)
            .WithName("RetrieveModel")
            .WithSummary("Describes one model the calling app may use.")
            .Produces<ModelObject>(StatusCodes.Status200OK)
            .Produces<OpenAIErrorResponse>(StatusCodes.Status404NotFound);

        v1.MapFlagsEndpoints();
        v1.MapFeedbackEndpoints();
        v1.MapEmbeddingsEndpoints();
        v1.MapBatchJobEndpoints();
        return endpoints;
    }

    internal static async Task CompleteChatAsync(
        HttpContext context,
        IGrainFactory grains,
        ClusterCalls cluster,
        IOptions<FrontDoorOptions> options,
        TimeProvider time)
    {
        var abort = context.RequestAborted;
        if (await OpenAIRequests.BeginAsync(context) is not { } requestId
            || await OpenAIRequests.ReadApiKeyAsync(context) is not { } apiKey
            || !await OpenAIRequests.RequireJsonContentTypeAsync(context)
            || await OpenAIRequests.ReadJsonBodyAsync(context, new BodyLimit(options.Value.MaxRequestBodyBytes)) is not { } document)
        {
            return;
        }

        ParsedChatRequest? parsed;
        using (document)
        {
            if (!ChatRequestParser.TryParse(document.RootElement, out parsed, out var error))
            {
                await OpenAIErrors.WriteAsync(context, 400, error!.Message, OpenAIErrors.InvalidRequest, error.Param, error.Code);
                return;
            }
        }

        var governed = new GovernedChatRequest(apiKey, requestId, parsed!.Model, parsed.Messages, parsed.Parameters);
        var grain = grains.GetGrain<IGovernedCallGrain>(0);
        var completionId = "chatcmpl-" + requestId;

        try
        {
            if (parsed.Stream)
            {
                await StreamAsync(context, grain, governed, parsed, completionId, cluster, time);
            }
            else
            {
                var result = await cluster.RunAsync(_ => new ValueTask<GovernedChatResult>(grain.CompleteAsync(governed)), abort);
                if (!result.IsSuccess)
                {
                    await WriteOutcomeErrorAsync(context, result);
                    return;
                }

                SetGovernanceHeaders(context.Response, result);
                var completion = new ChatCompletion(
                    completionId,
                    "chat.completion",
                    result.Created.ToUnixTimeSeconds(),
                    result.Model,
                    [new ChatChoice(0, new ChatResponseMessage("assistant", result.Content, null), null, FinishReason(result.FinishReason))],
                    Usage(result.Usage),
                    null);
                context.Response.ContentType = "application/json";
                await JsonSerializer.SerializeAsync(context.Response.Body, completion, OpenAIJsonContext.Default.ChatCompletion, abort);
            }
        }
        catch (Exception ex) when (ClusterCalls.IsTransient(ex) && !context.Response.HasStarted)
        {
            await WriteClusterUnavailableAsync(context, options.Value);
        }
    }

    private static async Task StreamAsync(
        HttpContext context,
        IGovernedCallGrain grain,
        GovernedChatRequest governed,
        ParsedChatRequest parsed,
        string completionId,
        ClusterCalls cluster,
        TimeProvider time)
    {
        var abort = context.RequestAborted;
        IAsyncEnumerator<GovernedChatChunk>? stream = null;
        try
        {
            // The first element decides the status: a refusal arrives as a lone final element and must
            // still be a JSON error with its status, so nothing is written before it is read.
            var first = await cluster.RunAsync(async ct =>
            {
                if (stream is not null)
                {
                    await DisposeQuietlyAsync(stream);
                }

                stream = grain.StreamAsync(governed).GetAsyncEnumerator(ct);
                return await stream.MoveNextAsync() ? stream.Current : null;
            }, abort);

            if (first is null)
            {
                await OpenAIErrors.WriteAsync(context, 502, "The model stream ended without a result.", OpenAIErrors.Server, code: "backend_failed");
                return;
            }

            if (first.Final is { IsSuccess: false } refusal)
            {
                await WriteOutcomeErrorAsync(context, refusal);
                return;
            }

            var response = context.Response;
            if (first.Final is { } immediate)
            {
                SetGovernanceHeaders(response, immediate);
            }
            else if (first.Tier is not null)
            {
                // The model is answering: its tier is known now, its cost only at the end of the stream.
                response.Headers[TierHeader] = first.Tier;
                response.Headers[CacheHeader] = "miss";
            }

            response.ContentType = "text/event-stream";
            response.Headers.CacheControl = "no-cache";
            response.Headers["X-Accel-Buffering"] = "no";

            var created = time.GetUtcNow().ToUnixTimeSeconds();
            using var sse = new SseChunkWriter(response, completionId, created, first.Model ?? parsed.Model);
            await sse.WriteAsync(new ChatDelta("assistant", ""), null, null, abort);

            var sentText = false;
            var chunk = first;
            while (true)
            {
                if (chunk.Final is { } final)
                {
                    if (!final.IsSuccess)
                    {
                        await sse.WriteErrorAsync(final, abort);
                        return;
                    }

                    if (!sentText && final.Content.Length > 0)
                    {
                        // A cached answer arrives whole, as a final element without deltas.
                        await sse.WriteAsync(new ChatDelta(null, final.Content), null, null, abort);
                    }

                    sse.Model = final.Model;
                    await sse.WriteAsync(new ChatDelta(null, null), FinishReason(final.FinishReason), null, abort);
                    if (parsed.IncludeUsage)
                    {
                        await sse.WriteUsageAsync(Usage(final.Usage), abort);
                    }

                    await sse.WriteDoneAsync(abort);
                    return;
                }

                if (!string.IsNullOrEmpty(chunk.Delta))
                {
                    sentText = true;
                    await sse.WriteAsync(new ChatDelta(null, chunk.Delta), null, null, abort);
                }

                bool more;
                try
                {
                    more = await stream!.MoveNextAsync();
                }
                catch (Exception ex) when (ClusterCalls.IsTransient(ex))
                {
                    await sse.WriteErrorAsync(GovernedChatResult.Failure(GovernedOutcome.BackendFailed, governed.RequestId,
                        "cluster_unavailable", "The cluster became unreachable during the stream."), abort);
                    return;
                }

                if (!more)
                {
                    await sse.WriteErrorAsync(GovernedChatResult.Failure(GovernedOutcome.BackendFailed, governed.RequestId,
                        "backend_failed", "The model stream ended without a final result."), abort);
                    return;
                }

                chunk = stream.Current;
            }
        }
        finally
        {
            if (stream is not null)
            {
                await DisposeQuietlyAsync(stream);
            }
        }
    }

    internal static async Task ListModelsAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster, IOptions<FrontDoorOptions> options)
    {
        var listing = await GetListingAsync(context, grains, cluster, options.Value);
        if (listing is null)
        {
            return;
        }

        var data = listing.Models.Select(ToModelObject).ToArray();
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, new ModelList("list", data), OpenAIJsonContext.Default.ModelList, context.RequestAborted);
    }

    internal static async Task GetModelAsync(HttpContext context, string model, IGrainFactory grains, ClusterCalls cluster, IOptions<FrontDoorOptions> options)
    {
        var listing = await GetListingAsync(context, grains, cluster, options.Value);
        if (listing is null)
        {
            return;
        }

        var found = listing.Models.FirstOrDefault(m => string.Equals(m.Name, model, StringComparison.Ordinal));
        if (found is null)
        {
            await OpenAIErrors.WriteAsync(context, 404, $"The model '{model}' does not exist or this app may not use it.",
                OpenAIErrors.InvalidRequest, "model", "model_not_found");
            return;
        }

        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, ToModelObject(found), OpenAIJsonContext.Default.ModelObject, context.RequestAborted);
    }

    /// <summary>The listing, or null when an error was already written.</summary>
    private static async Task<ModelListing?> GetListingAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster, FrontDoorOptions options)
    {
        if (await OpenAIRequests.BeginAsync(context) is null || await OpenAIRequests.ReadApiKeyAsync(context) is not { } apiKey)
        {
            return null;
        }

        ModelListing listing;
        try
        {
            var grain = grains.GetGrain<IGovernedCallGrain>(0);
            listing = await cluster.RunAsync(_ => new ValueTask<ModelListing>(grain.ListModelsAsync(apiKey)), context.RequestAborted);
        }
        catch (Exception ex) when (ClusterCalls.IsTransient(ex))
        {
            await WriteClusterUnavailableAsync(context, options);
            return null;
        }

        if (listing.Outcome is not (GovernedOutcome.Completed or GovernedOutcome.CacheHit))
        {
            var failure = GovernedChatResult.Failure(listing.Outcome, "", "", listing.ErrorMessage ?? listing.Outcome.ToString());
            await WriteOutcomeErrorAsync(context, failure with { ErrorCode = null });
            return null;
        }

        return listing;
    }

    private static ModelObject ToModelObject(AvailableModel model) => new(model.Name, "model", 0, "microapps:" + model.Tier);

    internal static Task WriteOutcomeErrorAsync(HttpContext context, GovernedChatResult result)
    {
        var message = result.ErrorMessage;
        return result.Outcome switch
        {
            GovernedOutcome.UnknownModel => OpenAIErrors.WriteAsync(context, 400,
                message ?? "The model does not exist.", OpenAIErrors.InvalidRequest, "model", "model_not_found"),
            GovernedOutcome.Unauthorized => OpenAIErrors.WriteAsync(context, 401,
                message ?? "The app key is not valid.", OpenAIErrors.Authentication, null, result.ErrorCode ?? "invalid_api_key"),
            GovernedOutcome.Forbidden => OpenAIErrors.WriteAsync(context, 403,
                message ?? "This app may not make this call.", OpenAIErrors.Permission, result.ErrorParam, result.ErrorCode ?? "forbidden"),
            GovernedOutcome.QuotaExceeded => OpenAIErrors.WriteAsync(context, 429,
                message ?? "A quota of this app was exceeded.", OpenAIErrors.RateLimit, null, result.ErrorCode ?? "quota_exceeded",
                result.RetryAfter ?? TimeSpan.FromSeconds(60)),
            GovernedOutcome.BudgetExceeded => OpenAIErrors.WriteAsync(context, 429,
                message ?? "The budget of this app cannot cover the call.", "insufficient_quota", null, result.ErrorCode ?? "budget_exceeded",
                result.RetryAfter ?? TimeSpan.FromSeconds(60)),
            GovernedOutcome.BackendFailed => OpenAIErrors.WriteAsync(context, 502,
                message ?? "Every model of the tier failed.", OpenAIErrors.Server, null, result.ErrorCode ?? "backend_failed"),
            _ => OpenAIErrors.WriteAsync(context, 400,
                message ?? "The request is not valid.", OpenAIErrors.InvalidRequest, result.ErrorParam, result.ErrorCode ?? "invalid_request"),
        };
    }

    internal static Task WriteClusterUnavailableAsync(HttpContext context, FrontDoorOptions options) =>
        OpenAIErrors.WriteAsync(context, 503,
            "The platform cluster is unreachable; retry later with the same X-Request-Id.",
            OpenAIErrors.Unavailable, null, "cluster_unavailable", TimeSpan.FromSeconds(options.ClusterUnavailableRetryAfterSeconds));

    private static void SetGovernanceHeaders(HttpResponse response, GovernedChatResult result)
    {
        response.Headers[TierHeader] = result.Tier;
        response.Headers[CostHeader] = result.CostUsd.ToString("0.##########", CultureInfo.InvariantCulture);
        response.Headers[CacheHeader] = result.Outcome == GovernedOutcome.CacheHit ? "hit" : "miss";
    }

    /// <summary>OpenAI SDKs reject finish reasons they do not know, so anything else is reported as "stop".</summary>
    internal static string FinishReason(string? reason) =>
        reason is not null && KnownFinishReasons.Contains(reason) ? reason : "stop";

    private static ChatUsage Usage(TokenUsage usage) => new(usage.InputTokens, usage.OutputTokens, usage.TotalTokens);

    private static async ValueTask DisposeQuietlyAsync(IAsyncEnumerator<GovernedChatChunk> stream)
    {
        try
        {
            await stream.DisposeAsync();
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // Disposing a broken grain stream may throw the failure again; the caller already handles the failure.
        }
    }
}
