using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Batch;

/// <summary>The values of <see cref="BatchJobView.Status"/>.</summary>
public static class BatchJobStatuses
{
    /// <summary>Accepted and waiting for the pool (its not-before time, the off-peak window or a free slot).</summary>
    public const string Queued = "queued";

    /// <summary>The pool has started at least one item.</summary>
    public const string Running = "running";

    /// <summary>Every item completed or failed.</summary>
    public const string Completed = "completed";

    /// <summary>Cancelled by the app; items that had not started are cancelled, items already running finish.</summary>
    public const string Cancelled = "cancelled";
}

/// <summary>The values of <see cref="BatchItemResult.Status"/>.</summary>
public static class BatchItemStatuses
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Completed = "completed";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    /// <summary>True for a status an item never leaves.</summary>
    public static bool IsFinal(string status) => status is Completed or Failed or Cancelled;
}

/// <summary>What a batch job may carry; the front door and the job grain check the same limits.</summary>
public static class BatchJobRules
{
    /// <summary>Longest <c>custom_id</c>: it becomes part of the governed call's request id <c>batch/{jobId}/{custom_id}</c>.</summary>
    public const int MaxCustomIdLength = 64;

    /// <summary>The pool the front door submits to; the only one configuration describes.</summary>
    public const string DefaultPool = "default";

    /// <summary>Custom ids: 1–64 characters of letters, digits and <c>- _ . :</c>.</summary>
    public static bool IsValidCustomId(string? customId) =>
        customId is { Length: > 0 and <= MaxCustomIdLength }
        && customId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or ':');

    /// <summary>Job ids as the platform issues them: <c>batch_</c> and 32 lower-case hex digits.</summary>
    public static bool IsValidJobId(string? jobId) =>
        jobId is { Length: 38 } && jobId.StartsWith("batch_", StringComparison.Ordinal) && jobId[6..].All(char.IsAsciiHexDigitLower);

    public static string NewJobId() => $"batch_{Guid.NewGuid():N}";

    /// <summary>The governed call's request id of an item's attempt; a repeat of one attempt is charged once.</summary>
    public static string RequestId(string jobId, string customId, int attempt) =>
        attempt <= 1 ? $"batch/{jobId}/{customId}" : $"batch/{jobId}/{customId}/{attempt}";
}

/// <summary>One request of a batch job: a chat completion the pool runs later.</summary>
/// <param name="CustomId">The caller's id for the item, unique within the job.</param>
/// <param name="Messages">The conversation, at least one message.</param>
/// <param name="Parameters">Sampling parameters (max tokens, temperature…).</param>
/// <param name="Model">Null, empty or <c>auto</c> for the pool's tier; otherwise the pool's tier name or a model of it.</param>
[GenerateSerializer, Immutable, Alias("microapps.BatchItemRequest")]
public sealed record BatchItemRequest(
    [property: Id(0)] string CustomId,
    [property: Id(1)] IReadOnlyList<ChatTurn> Messages,
    [property: Id(2)] ChatParameters Parameters,
    [property: Id(3)] string? Model = null);

/// <summary>A batch job as an app submits it.</summary>
/// <param name="ApiKey">The app's key; the job runs under its own key issued for the job, never under this one.</param>
/// <param name="Requests">The items, at least one.</param>
/// <param name="NotBefore">The job waits until this time (and the pool's off-peak window) before any item runs.</param>
/// <param name="Pool">The pool that runs the job; <see cref="BatchJobRules.DefaultPool"/> unless a host configured others.</param>
[GenerateSerializer, Immutable, Alias("microapps.BatchJobSubmission")]
public sealed record BatchJobSubmission(
    [property: Id(0)] string ApiKey,
    [property: Id(1)] IReadOnlyList<BatchItemRequest> Requests,
    [property: Id(2)] DateTimeOffset? NotBefore = null,
    [property: Id(3)] string Pool = BatchJobRules.DefaultPool);

/// <summary>How many items are in each state.</summary>
[GenerateSerializer, Immutable, Alias("microapps.BatchJobCounts")]
public sealed record BatchJobCounts(
    [property: Id(0)] int Total,
    [property: Id(1)] int Queued,
    [property: Id(2)] int Running,
    [property: Id(3)] int Completed,
    [property: Id(4)] int Failed,
    [property: Id(5)] int Cancelled);

/// <summary>A batch job's status, counts and cost so far.</summary>
[GenerateSerializer, Immutable, Alias("microapps.BatchJobView")]
public sealed record BatchJobView(
    [property: Id(0)] string Id,
    [property: Id(1)] string AppId,
    [property: Id(2)] string Status,
    [property: Id(3)] string Pool,
    [property: Id(4)] string Tier,
    [property: Id(5)] DateTimeOffset CreatedAt,
    [property: Id(6)] DateTimeOffset? NotBefore,
    [property: Id(7)] DateTimeOffset? FinishedAt,
    [property: Id(8)] BatchJobCounts Counts,
    [property: Id(9)] decimal CostUsd);

/// <summary>The result of one item. <see cref="Content"/> is null unless it completed with the answer kept.</summary>
/// <param name="CustomId">The caller's id of the item.</param>
/// <param name="Status">One of <see cref="BatchItemStatuses"/>.</param>
/// <param name="Content">The model's answer.</param>
/// <param name="Model">The model that answered.</param>
/// <param name="Usage">Tokens of the call.</param>
/// <param name="CostUsd">What the call was charged.</param>
/// <param name="ErrorCode">Why it failed (or, for a completed item, why its answer is missing).</param>
/// <param name="ErrorMessage">The explanation of <paramref name="ErrorCode"/>.</param>
/// <param name="Attempts">Governed calls made for the item (a retry after a backend failure is a new attempt and request id).</param>
/// <param name="RequestId">The governed call's request id of the item's last attempt, as its trace shows it.</param>
[GenerateSerializer, Immutable, Alias("microapps.BatchItemResult")]
public sealed record BatchItemResult(
    [property: Id(0)] string CustomId,
    [property: Id(1)] string Status,
    [property: Id(2)] string? Content,
    [property: Id(3)] string? Model,
    [property: Id(4)] TokenUsage Usage,
    [property: Id(5)] decimal CostUsd,
    [property: Id(6)] string? ErrorCode,
    [property: Id(7)] string? ErrorMessage,
    [property: Id(8)] int Attempts,
    [property: Id(9)] string RequestId);

/// <summary>How a batch job call ended; the front door maps each to an HTTP status.</summary>
public enum BatchReplyOutcome
{
    /// <summary>Done (202 for a submission, 200 otherwise).</summary>
    Ok = 0,

    /// <summary>The submission is malformed; <see cref="BatchJobReply.ErrorParam"/> names the field (400).</summary>
    Invalid = 1,

    /// <summary>Unknown, malformed or revoked key, or the app may not call (401).</summary>
    Unauthorized = 2,

    /// <summary>No such job for this app (404): another app's job is not found either.</summary>
    NotFound = 3,

    /// <summary>The job id is already taken by a different submission (409).</summary>
    Conflict = 4,
}

/// <summary>Answer of <see cref="IBatchJobGrain"/>: the job (and its results when asked) or why not.</summary>
[GenerateSerializer, Immutable, Alias("microapps.BatchJobReply")]
public sealed record BatchJobReply(
    [property: Id(0)] BatchReplyOutcome Outcome,
    [property: Id(1)] BatchJobView? Job,
    [property: Id(2)] IReadOnlyList<BatchItemResult>? Results = null,
    [property: Id(3)] string? ErrorCode = null,
    [property: Id(4)] string? ErrorMessage = null,
    [property: Id(5)] string? ErrorParam = null)
{
    public static BatchJobReply Refused(BatchReplyOutcome outcome, string code, string message, string? param = null) =>
        new(outcome, null, null, code, message, param);
}

/// <summary>One item handed to the pool: the governed call to make for one attempt.</summary>
[GenerateSerializer, Immutable, Alias("microapps.BatchWorkItem")]
public sealed record BatchWorkItem(
    [property: Id(0)] string JobId,
    [property: Id(1)] string CustomId,
    [property: Id(2)] int Attempt,
    [property: Id(3)] GovernedChatRequest Request);

/// <summary>Answer of <see cref="IBatchJobGrain.ClaimAsync"/>.</summary>
/// <param name="Items">Items to run now (at most what was asked for).</param>
/// <param name="Finished">The job has nothing left to run and nothing running: the pool drops it.</param>
[GenerateSerializer, Immutable, Alias("microapps.BatchClaim")]
public sealed record BatchClaim(
    [property: Id(0)] IReadOnlyList<BatchWorkItem> Items,
    [property: Id(1)] bool Finished);

/// <summary>The pool as an operator sees it.</summary>
/// <param name="Pool">The pool's name.</param>
/// <param name="Tier">The tier its items run on.</param>
/// <param name="QueuedJobs">Job ids on the queue, oldest first.</param>
/// <param name="Running">Items of this activation whose governed call is under way.</param>
/// <param name="MaxConcurrent">The bound on <paramref name="Running"/>.</param>
/// <param name="WindowOpen">True inside the off-peak window (or when the pool has none).</param>
/// <param name="Fills">Times this activation looked for work (timer ticks and finished items), for operators and tests.</param>
[GenerateSerializer, Immutable, Alias("microapps.BatchPoolStatus")]
public sealed record BatchPoolStatus(
    [property: Id(0)] string Pool,
    [property: Id(1)] string Tier,
    [property: Id(2)] IReadOnlyList<string> QueuedJobs,
    [property: Id(3)] int Running,
    [property: Id(4)] int MaxConcurrent,
    [property: Id(5)] bool WindowOpen,
    [property: Id(6)] long Fills = 0);

/// <summary>
/// One batch job (key: job id): its items, each item's result, and the job's own key. Every method that an app calls
/// takes the app's key and answers <see cref="BatchReplyOutcome.NotFound"/> for another app's job.
/// </summary>
public interface IBatchJobGrain : IGrainWithStringKey
{
    /// <summary>
    /// Checks and stores the job, issues the job's own key and queues the job on its pool. Repeating the same
    /// submission for the same job id answers the job again (a retried submission queues it once).
    /// </summary>
    Task<BatchJobReply> SubmitAsync(BatchJobSubmission submission);

    /// <summary>Status, counts and cost so far.</summary>
    Task<BatchJobReply> GetAsync(string apiKey);

    /// <summary>The job with every item's result.</summary>
    Task<BatchJobReply> GetResultsAsync(string apiKey);

    /// <summary>Cancels the items that have not started; items already running finish and are charged.</summary>
    Task<BatchJobReply> CancelAsync(string apiKey);

    /// <summary>
    /// For the pool: up to <paramref name="max"/> items to run now. <paramref name="poolEpoch"/> identifies the pool's
    /// activation; items claimed by an earlier activation (one that died) are handed out again.
    /// </summary>
    Task<BatchClaim> ClaimAsync(Guid poolEpoch, int max);

    /// <summary>For the pool: the answer of an item's governed call (idempotent by custom id and attempt).</summary>
    Task RecordAsync(Guid poolEpoch, string customId, int attempt, GovernedChatResult result);

    /// <summary>For the pool: the governed call of an item's attempt failed without an answer (the cluster, not the model).</summary>
    Task ReleaseAsync(Guid poolEpoch, string customId, int attempt, string reason);
}

/// <summary>
/// A batch pool (key: pool name): the durable queue of job ids, run with bounded concurrency, inside the pool's
/// off-peak window, on the pool's tier. A reminder brings it back after a silo restart.
/// </summary>
public interface IBatchPoolGrain : IGrainWithStringKey
{
    /// <summary>Adds a job to the queue (once) and starts the pool.</summary>
    Task EnqueueAsync(string jobId);

    /// <summary>The queue, the items running and whether the window is open.</summary>
    Task<BatchPoolStatus> GetStatusAsync();
}
