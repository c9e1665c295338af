using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Runtime;

/// <summary>The version of an app a key reaches, with its manifest: what the hosted runtime runs for that caller.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ServedManifest")]
public sealed record ServedManifest(
    [property: Id(0)] string AppId,
    [property: Id(1)] int Version,
    [property: Id(2)] ReleaseChannel Channel,
    [property: Id(3)] AppManifest Manifest);

/// <summary>A document a run reads through one of the app's declared connectors: its name in the manifest and the path or query.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ConnectorSource")]
public sealed record ConnectorSource(
    [property: Id(0)] string Connector,
    [property: Id(1)] string Path);

/// <summary>One run of an app's template, asked for by one of the app's callers with the app's key.</summary>
/// <param name="ApiKey">The app key (production or test); every model call of the run is governed under it.</param>
/// <param name="RunId">Caller's run id (the request id); model calls of the run use <c>run/{RunId}/{step}</c>, so a retried run is charged once.</param>
/// <param name="Input">The input text: the text to summarise, the request to approve, or the chat message.</param>
/// <param name="Source">A document to read through a connector instead of (or besides) <paramref name="Input"/>.</param>
/// <param name="Fields">Template-specific fields (e.g. the approvals bot's <c>requester</c>); null for none.</param>
/// <param name="User">The end user, when the app knows it: keeps them on one side of a canary split and is passed to the model calls.</param>
[GenerateSerializer, Immutable, Alias("microapps.AppRunRequest")]
public sealed record AppRunRequest(
    [property: Id(0)] string ApiKey,
    [property: Id(1)] string RunId,
    [property: Id(2)] string Input,
    [property: Id(3)] ConnectorSource? Source = null,
    [property: Id(4)] IReadOnlyDictionary<string, string>? Fields = null,
    [property: Id(5)] string? User = null);

/// <summary>How a run ended. The front door maps each to an HTTP status (OpenAI error JSON for failures).</summary>
public enum RunOutcome
{
    /// <summary>The run finished (200).</summary>
    Completed = 0,

    /// <summary>The run started a workflow that now waits for a person (approvals bot; 202).</summary>
    Pending = 1,

    /// <summary>The input is wrong; <c>ErrorParam</c> names the field (400).</summary>
    InvalidRequest = 2,

    /// <summary>Unknown, malformed or revoked key (401).</summary>
    Unauthorized = 3,

    /// <summary>The app may not run this: suspended, retired, not a hosted app, a policy block (403).</summary>
    Forbidden = 4,

    /// <summary>No such app, conversation or workflow for this key (404).</summary>
    NotFound = 5,

    /// <summary>A quota was hit (429 with Retry-After).</summary>
    QuotaExceeded = 6,

    /// <summary>The budget cannot cover a model call (429 with Retry-After).</summary>
    BudgetExceeded = 7,

    /// <summary>The run would pass its per-run token, step or time limit; nothing beyond it was called (422).</summary>
    LimitExceeded = 8,

    /// <summary>A connector call was refused before leaving the platform: not declared, or outside the egress allowlist (403, code <c>egress_refused</c>).</summary>
    ConnectorRefused = 9,

    /// <summary>A connector call failed: timeout, too large, not found, upstream error (502, or 404/413 where the code says so).</summary>
    ConnectorFailed = 10,

    /// <summary>Every model failed (502).</summary>
    BackendFailed = 11,

    /// <summary>The state does not allow it (a decided workflow decided again; 409).</summary>
    Conflict = 12,
}

/// <summary>One step of a run as the caller and the trace see it.</summary>
/// <param name="Kind"><c>model</c>, <c>connector</c> or <c>chain</c>.</param>
/// <param name="Name">What the step did (<c>part-1</c>, <c>combine</c>, <c>reply</c>, <c>read:docs</c>, a chain step's name).</param>
/// <param name="RequestId">The governed call's request id (model steps), else empty.</param>
/// <param name="Model">The model that answered (model steps), else empty.</param>
/// <param name="Usage">Tokens of the step.</param>
/// <param name="CostUsd">What the step was charged.</param>
/// <param name="Outcome">The governed call's trace outcome, or the connector result.</param>
[GenerateSerializer, Immutable, Alias("microapps.RunStep")]
public sealed record RunStep(
    [property: Id(0)] string Kind,
    [property: Id(1)] string Name,
    [property: Id(2)] string RequestId,
    [property: Id(3)] string Model,
    [property: Id(4)] TokenUsage Usage,
    [property: Id(5)] decimal CostUsd,
    [property: Id(6)] string Outcome);

/// <summary>The result of a run, successful or not.</summary>
/// <param name="Outcome">How it ended.</param>
/// <param name="RunId">The run id.</param>
/// <param name="Output">The answer: the summary, the reply, the drafted recommendation.</param>
/// <param name="Steps">Every step taken, in order.</param>
/// <param name="Usage">Tokens of all steps.</param>
/// <param name="CostUsd">What all steps were charged.</param>
/// <param name="ErrorCode">Machine-readable reason of a failure (<c>run_token_limit</c>, <c>egress_refused</c>, a governed-call code…).</param>
/// <param name="ErrorMessage">What was wrong, in one sentence.</param>
/// <param name="ErrorParam">The input field at fault, if any.</param>
/// <param name="RetryAfter">For quota and budget refusals.</param>
/// <param name="Details">Template-specific results (e.g. <c>workflowId</c>, <c>state</c>, <c>approver</c>, <c>conversationId</c>, <c>parts</c>).</param>
[GenerateSerializer, Immutable, Alias("microapps.AppRunResult")]
public sealed record AppRunResult(
    [property: Id(0)] RunOutcome Outcome,
    [property: Id(1)] string RunId,
    [property: Id(2)] string Output,
    [property: Id(3)] IReadOnlyList<RunStep> Steps,
    [property: Id(4)] TokenUsage Usage,
    [property: Id(5)] decimal CostUsd,
    [property: Id(6)] string? ErrorCode = null,
    [property: Id(7)] string? ErrorMessage = null,
    [property: Id(8)] string? ErrorParam = null,
    [property: Id(9)] TimeSpan? RetryAfter = null,
    [property: Id(10)] IReadOnlyDictionary<string, string>? Details = null)
{
    public bool IsSuccess => Outcome is RunOutcome.Completed or RunOutcome.Pending;

    public static AppRunResult Failure(RunOutcome outcome, string runId, string code, string message, string? param = null, TimeSpan? retryAfter = null,
        IReadOnlyList<RunStep>? steps = null) =>
        new(outcome, runId, "", steps ?? [], (steps ?? []).Aggregate(TokenUsage.Zero, (a, s) => new TokenUsage(a.InputTokens + s.Usage.InputTokens, a.OutputTokens + s.Usage.OutputTokens)),
            (steps ?? []).Sum(s => s.CostUsd), code, message, param, retryAfter);
}

/// <summary>
/// The hosted runtime (stateless worker, key 0): runs an app's template for a caller of the app, every model call
/// through the governed call under the caller's key, inside the run's token, step and time limits. There is no
/// arbitrary code: the template is the sandbox, and outbound calls go only through the app's catalog connectors.
/// </summary>
public interface IAppRuntimeGrain : IGrainWithIntegerKey
{
    /// <summary>Runs the template of <paramref name="appId"/> (summarizer, approvals bot; a chat assistant answers one turn of a new conversation).</summary>
    Task<AppRunResult> RunAsync(string appId, AppRunRequest request);
}

/// <summary>One message of a conversation.</summary>
[GenerateSerializer, Immutable, Alias("microapps.ConversationMessage")]
public sealed record ConversationMessage(
    [property: Id(0)] string Role,
    [property: Id(1)] string Content,
    [property: Id(2)] DateTimeOffset At,
    [property: Id(3)] string RequestId,
    [property: Id(4)] int Tokens);

/// <summary>A conversation as its app's callers see it: the kept history and how much was trimmed.</summary>
/// <param name="ConversationId">The id.</param>
/// <param name="AppId">The app it belongs to.</param>
/// <param name="Messages">The history kept, oldest first.</param>
/// <param name="TrimmedMessages">Messages dropped from the front to keep the history within the model's context and the app's token budget.</param>
/// <param name="TokensUsed">Tokens all of the conversation's model calls used.</param>
/// <param name="CostUsd">What they were charged.</param>
[GenerateSerializer, Immutable, Alias("microapps.ConversationView")]
public sealed record ConversationView(
    [property: Id(0)] string ConversationId,
    [property: Id(1)] string AppId,
    [property: Id(2)] IReadOnlyList<ConversationMessage> Messages,
    [property: Id(3)] int TrimmedMessages,
    [property: Id(4)] long TokensUsed,
    [property: Id(5)] decimal CostUsd);

/// <summary>
/// One conversation of a chat-assistant app (key <c>{appId}/{conversationId}</c>): its history, durable, trimmed to
/// the model's context within the app's token budget.
/// </summary>
public interface IConversationGrain : IGrainWithStringKey
{
    /// <summary>
    /// Adds the caller's message (<see cref="AppRunRequest.Input"/>) and answers it. Idempotent by
    /// <see cref="AppRunRequest.RunId"/>: a retried message returns the first answer and is charged once.
    /// </summary>
    Task<AppRunResult> SendAsync(AppRunRequest request);

    /// <summary>The conversation for a caller holding a usable key of its app; null when it does not exist or the key is not the app's.</summary>
    Task<ConversationView?> GetAsync(string apiKey);
}
