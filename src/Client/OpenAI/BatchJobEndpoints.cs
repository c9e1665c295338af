using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using MicroApps.Orleans.Batch;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>Item counts of a batch job.</summary>
public sealed record BatchJobRequestCounts(
    [property: JsonPropertyName("total")] int Total,
    [property: JsonPropertyName("queued")] int Queued,
    [property: JsonPropertyName("running")] int Running,
    [property: JsonPropertyName("completed")] int Completed,
    [property: JsonPropertyName("failed")] int Failed,
    [property: JsonPropertyName("cancelled")] int Cancelled);

/// <summary>A batch job as <c>/v1/batch-jobs</c> answers it (times are Unix seconds, as OpenAI writes them).</summary>
public sealed record BatchJobObject(
    [property: JsonPropertyName("id")] string Id,
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("pool")] string Pool,
    [property: JsonPropertyName("tier")] string Tier,
    [property: JsonPropertyName("created_at")] long CreatedAt,
    [property: JsonPropertyName("not_before")] long? NotBefore,
    [property: JsonPropertyName("finished_at")] long? FinishedAt,
    [property: JsonPropertyName("request_counts")] BatchJobRequestCounts RequestCounts,
    [property: JsonPropertyName("cost_usd")] decimal CostUsd);

/// <summary>Token usage of one batch item, in OpenAI's names.</summary>
public sealed record BatchItemUsage(
    [property: JsonPropertyName("prompt_tokens")] int PromptTokens,
    [property: JsonPropertyName("completion_tokens")] int CompletionTokens,
    [property: JsonPropertyName("total_tokens")] int TotalTokens);

/// <summary>Why a batch item failed (or, when completed, why its answer is missing).</summary>
public sealed record BatchItemError(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message);

/// <summary>The result of one batch item.</summary>
public sealed record BatchItemObject(
    [property: JsonPropertyName("custom_id")] string CustomId,
    [property: JsonPropertyName("status")] string Status,
    [property: JsonPropertyName("content")] string? Content,
    [property: JsonPropertyName("model")] string? Model,
    [property: JsonPropertyName("usage")] BatchItemUsage Usage,
    [property: JsonPropertyName("cost_usd")] decimal CostUsd,
    [property: JsonPropertyName("error")] BatchItemError? Error,
    [property: JsonPropertyName("attempts")] int Attempts,
    [property: JsonPropertyName("request_id")] string RequestId);

/// <summary>Answer of <c>GET /v1/batch-jobs/{id}/results</c>.</summary>
public sealed record BatchResultsObject(
    [property: JsonPropertyName("object")] string Object,
    [property: JsonPropertyName("job")] BatchJobObject Job,
    [property: JsonPropertyName("data")] IReadOnlyList<BatchItemObject> Data);

/// <summary>
/// Non-urgent work with the app key: <c>POST /v1/batch-jobs</c> queues chat requests durably on the batch pool, which runs
/// them later (off-peak, on the pool's tier, a few at a time) through the same governed call as live traffic;
/// <c>GET /v1/batch-jobs/{id}</c>, <c>GET /v1/batch-jobs/{id}/results</c>, <c>POST /v1/batch-jobs/{id}/cancel</c>.
/// An app sees only its own jobs: another app's job id answers 404.
/// </summary>
internal static class BatchJobEndpoints
{
    public static void MapBatchJobEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapPost("/batch-jobs", SubmitAsync)
            .WithName("CreateBatchJob")
            .WithSummary("Queues a batch job of chat requests that the batch pool runs later, off-peak and on its cheaper tier.")
            .WithDescription("Body: {\"requests\": [{\"custom_id\": \"day-1\", \"messages\": [...], \"max_tokens\": 200, \"model\": \"auto\"}], "
                + "\"not_before\": \"2026-11-30T01:00:00Z\"}. Each request is a chat completions body with a custom_id (OpenAI's "
                + "{custom_id, body:{…}} form is accepted too); model may be left out (the pool's tier), or name the pool's tier or one of its models.")
            .Produces<BatchJobObject>(StatusCodes.Status202Accepted)
            .ProducesOpenAIErrors(400, 401, 409, 413, 415);

        v1.MapGet("/batch-jobs/{id}", GetAsync)
            .WithName("GetBatchJob")
            .WithSummary("A batch job of the calling app: status, item counts and cost so far.")
            .Produces<BatchJobObject>(StatusCodes.Status200OK)
            .ProducesOpenAIErrors(401, 404);

        v1.MapGet("/batch-jobs/{id}/results", GetResultsAsync)
            .WithName("GetBatchJobResults")
            .WithSummary("Every item of a batch job of the calling app: status, answer, usage, cost and error.")
            .Produces<BatchResultsObject>(StatusCodes.Status200OK)
            .ProducesOpenAIErrors(401, 404);

        v1.MapPost("/batch-jobs/{id}/cancel", CancelAsync)
            .WithName("CancelBatchJob")
            .WithSummary("Cancels the items of a batch job that have not started; running items finish and are charged.")
            .Produces<BatchJobObject>(StatusCodes.Status200OK)
            .ProducesOpenAIErrors(401, 404);
    }

    internal static async Task SubmitAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster, IOptions<FrontDoorOptions> options)
    {
        var limit = new BodyLimit(options.Value.MaxRequestBodyBytes, "; split the job");
        if (await OpenAIRequests.ReadApiKeyAsync(context) is not { } apiKey
            || !await OpenAIRequests.RequireJsonContentTypeAsync(context)
            || await OpenAIRequests.ReadJsonBodyAsync(context, limit) is not { } document)
        {
            return;
        }

        BatchJobSubmission? submission;
        ChatRequestError? error;
        using (document)
        {
            error = TryRead(document.RootElement, apiKey, out submission);
        }

        if (error is not null)
        {
            await OpenAIErrors.WriteAsync(context, 400, error.Message, OpenAIErrors.InvalidRequest, error.Param, error.Code);
            return;
        }

        // One id for every retry of the cluster call: a repeated submission queues the job once.
        var jobId = BatchJobRules.NewJobId();
        var job = grains.GetGrain<IBatchJobGrain>(jobId);
        var reply = await cluster.RunAsync(_ => new ValueTask<BatchJobReply>(job.SubmitAsync(submission!)), context.RequestAborted);
        if (reply.Outcome == BatchReplyOutcome.Ok)
        {
            context.Response.Headers.Location = $"/v1/batch-jobs/{jobId}";
            await TypedResults.Json(ToObject(reply.Job!), statusCode: StatusCodes.Status202Accepted).ExecuteAsync(context);
            return;
        }

        await WriteRefusalAsync(context, reply);
    }

    internal static Task GetAsync(string id, HttpContext context, IGrainFactory grains, ClusterCalls cluster) =>
        AnswerAsync(id, context, grains, cluster, (job, key) => job.GetAsync(key), reply => TypedResults.Ok(ToObject(reply.Job!)));

    internal static Task GetResultsAsync(string id, HttpContext context, IGrainFactory grains, ClusterCalls cluster) =>
        AnswerAsync(id, context, grains, cluster, (job, key) => job.GetResultsAsync(key),
            reply => TypedResults.Ok(new BatchResultsObject("list", ToObject(reply.Job!), [.. (reply.Results ?? []).Select(ToObject)])));

    internal static Task CancelAsync(string id, HttpContext context, IGrainFactory grains, ClusterCalls cluster) =>
        AnswerAsync(id, context, grains, cluster, (job, key) => job.CancelAsync(key), reply => TypedResults.Ok(ToObject(reply.Job!)));

    private static async Task AnswerAsync(
        string id,
        HttpContext context,
        IGrainFactory grains,
        ClusterCalls cluster,
        Func<IBatchJobGrain, string, Task<BatchJobReply>> call,
        Func<BatchJobReply, IResult> ok)
    {
        if (await OpenAIRequests.ReadApiKeyAsync(context) is not { } apiKey)
        {
            return;
        }

        if (!BatchJobRules.IsValidJobId(id))
        {
            // Not an id the platform issues, so no job of this app has it.
            await OpenAIErrors.WriteAsync(context, 404, $"This app has no batch job '{id}'.", OpenAIErrors.InvalidRequest, "id", "batch_job_not_found");
            return;
        }

        var job = grains.GetGrain<IBatchJobGrain>(id);
        var reply = await cluster.RunAsync(_ => new ValueTask<BatchJobReply>(call(job, apiKey)), context.RequestAborted);
        if (reply.Outcome == BatchReplyOutcome.Ok)
        {
            await ok(reply).ExecuteAsync(context);
            return;
        }

        await WriteRefusalAsync(context, reply);
    }

    private static Task WriteRefusalAsync(HttpContext context, BatchJobReply reply)
    {
        var status = reply.Outcome switch
        {
            BatchReplyOutcome.Invalid => StatusCodes.Status400BadRequest,
            BatchReplyOutcome.Unauthorized => StatusCodes.Status401Unauthorized,
            BatchReplyOutcome.NotFound => StatusCodes.Status404NotFound,
            BatchReplyOutcome.Conflict => StatusCodes.Status409Conflict,
            _ => StatusCodes.Status400BadRequest,
        };
        var type = status == StatusCodes.Status404NotFound || status == StatusCodes.Status409Conflict ? OpenAIErrors.InvalidRequest : OpenAIErrors.TypeFor(status);
        return OpenAIErrors.WriteAsync(context, status, reply.ErrorMessage ?? "The batch job call was refused.", type, reply.ErrorParam, reply.ErrorCode);
    }

    /// <summary>Reads the body; every error names the JSON field as the caller wrote it (<c>requests[3].messages</c>).</summary>
    internal static ChatRequestError? TryRead(JsonElement root, string apiKey, out BatchJobSubmission? submission)
    {
        submission = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            return new("The body must be a JSON object {requests: [...], not_before?}.", null, "invalid_type");
        }

        DateTimeOffset? notBefore = null;
        if (root.TryGetProperty("not_before", out var nb) && nb.ValueKind != JsonValueKind.Null)
        {
            if (nb.ValueKind == JsonValueKind.Number && nb.TryGetInt64(out var seconds) && seconds is >= 0 and <= 253_402_300_799)
            {
                notBefore = DateTimeOffset.FromUnixTimeSeconds(seconds);
            }
            else if (nb.ValueKind == JsonValueKind.String
                     && DateTimeOffset.TryParse(nb.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var at))
            {
                notBefore = at;
            }
            else
            {
                return new("'not_before' must be an ISO 8601 time (2026-11-30T01:00:00Z) or Unix seconds.", "not_before", "invalid_value");
            }
        }

        if (!root.TryGetProperty("requests", out var requests) || requests.ValueKind != JsonValueKind.Array || requests.GetArrayLength() == 0)
        {
            return new("'requests' is required: a non-empty array of {custom_id, messages, max_tokens?, model?}.", "requests", "missing_required_parameter");
        }

        var items = new List<BatchItemRequest>(requests.GetArrayLength());
        var index = 0;
        foreach (var element in requests.EnumerateArray())
        {
            var path = $"requests[{index++}]";
            if (element.ValueKind != JsonValueKind.Object)
            {
                return new($"'{path}' must be an object {{custom_id, messages, max_tokens?, model?}}.", path, "invalid_type");
            }

            if (!element.TryGetProperty("custom_id", out var id) || id.ValueKind != JsonValueKind.String || !BatchJobRules.IsValidCustomId(id.GetString()))
            {
                return new($"'{path}.custom_id' is required: 1–{BatchJobRules.MaxCustomIdLength} characters of letters, digits, '-', '_', '.' or ':'.",
                    $"{path}.custom_id", "invalid_custom_id");
            }

            // OpenAI's batch lines carry the chat request under "body"; the short form carries it beside custom_id.
            var bodyPath = path;
            var body = element;
            if (element.TryGetProperty("body", out var nested))
            {
                if (nested.ValueKind != JsonValueKind.Object)
                {
                    return new($"'{path}.body' must be a chat completions request object.", $"{path}.body", "invalid_type");
                }

                body = nested;
                bodyPath = $"{path}.body";
            }

            if (body.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True)
            {
                return new($"'{bodyPath}.stream' cannot be true: batch results are read later, not streamed.", $"{bodyPath}.stream", "unsupported_value");
            }

            var hasModel = body.TryGetProperty("model", out _);
            var chat = body;
            JsonDocument? withModel = null;
            if (!hasModel)
            {
                var copy = JsonNode.Parse(body.GetRawText())!.AsObject();
                copy["model"] = "auto";
                withModel = JsonDocument.Parse(copy.ToJsonString());
                chat = withModel.RootElement;
            }

            using (withModel)
            {
                if (!ChatRequestParser.TryParse(chat, out var parsed, out var error))
                {
                    var param = error!.Param is null ? bodyPath : $"{bodyPath}.{error.Param}";
                    return new($"{bodyPath}: {error.Message}", param, error.Code);
                }

                items.Add(new BatchItemRequest(id.GetString()!, parsed!.Messages, parsed.Parameters, hasModel ? parsed.Model : null));
            }
        }

        submission = new BatchJobSubmission(apiKey, items, notBefore);
        return null;
    }

    private static long Unix(DateTimeOffset at) => at.ToUnixTimeSeconds();

    private static BatchJobObject ToObject(BatchJobView job) => new(
        job.Id, "batch_job", job.Status, job.Pool, job.Tier, Unix(job.CreatedAt), job.NotBefore is { } nb ? Unix(nb) : null,
        job.FinishedAt is { } f ? Unix(f) : null,
        new BatchJobRequestCounts(job.Counts.Total, job.Counts.Queued, job.Counts.Running, job.Counts.Completed, job.Counts.Failed, job.Counts.Cancelled),
        job.CostUsd);

    private static BatchItemObject ToObject(BatchItemResult item) => new(
        item.CustomId, item.Status, item.Content, item.Model,
        new BatchItemUsage(item.Usage.InputTokens, item.Usage.OutputTokens, item.Usage.TotalTokens),
        item.CostUsd,
        item.ErrorCode is { } code ? new BatchItemError(code, item.ErrorMessage ?? "") : null,
        item.Attempts, item.RequestId);
}
