using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Runtime;

/// <summary>
/// Runs one catalog template. The runtime grain resolves the caller's key to the served manifest, resolves the
/// template (safe patches applied), builds the <see cref="IRunContext"/> with the run's limits and hands the run to the
/// runner registered for that template name. A runner has no other way out of the platform than the context.
/// </summary>
public interface ITemplateRunner
{
    /// <summary>The template name it runs (<see cref="BuiltIns"/>).</summary>
    string Template { get; }

    Task<AppRunResult> RunAsync(IRunContext run, AppRunRequest request);
}

/// <summary>The result of one model step: the governed call's answer, or the run failure to return as is.</summary>
public sealed record ModelStep(bool Ok, string Content, GovernedChatResult Result, AppRunResult? Failure);

/// <summary>The result of one connector step: what was read or sent, or the run failure to return as is.</summary>
public sealed record ConnectorStep(bool Ok, string Content, string ContentType, AppRunResult? Failure);

/// <summary>
/// One run in progress: what it runs for, its limits, and the only calls a template may make. Every model call is a
/// governed call under the caller's key with request id <c>run/{RunId}/{step}</c>; a call that could take the run past
/// its token or step limit, or past its deadline, is not made and the step fails with <see cref="RunOutcome.LimitExceeded"/>.
/// </summary>
public interface IRunContext
{
    string AppId { get; }

    string RunId { get; }

    /// <summary>The version the caller's key reaches, and its manifest.</summary>
    ServedManifest Served { get; }

    /// <summary>The template as resolved (a safe patch may be newer than the pinned version).</summary>
    CatalogEntry Template { get; }

    /// <summary>The manifest's parameters with the template's defaults filled in.</summary>
    IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>The run's limits (manifest, else template defaults; capped by the platform).</summary>
    RunLimits Limits { get; }

    /// <summary>Cancelled at the run's deadline.</summary>
    CancellationToken Cancellation { get; }

    IGrainFactory Grains { get; }

    TimeProvider Time { get; }

    /// <summary>Steps taken so far, in order.</summary>
    IReadOnlyList<RunStep> Steps { get; }

    /// <summary>Tokens used so far by the run's model steps.</summary>
    int TokensUsed { get; }

    /// <summary>
    /// The app's shared prompt components (system messages, placeholders filled) that <see cref="CallModelAsync"/>
    /// puts before the messages of every model call; runners count them when they plan a run's tokens.
    /// </summary>
    IReadOnlyList<ChatTurn> SharedPrompts => [];

    /// <summary>
    /// A governed model call named <paramref name="step"/> (unique within the run), on <paramref name="tier"/> (default:
    /// the template's <c>tier</c> parameter), answering in at most <paramref name="maxOutputTokens"/> tokens.
    /// </summary>
    Task<ModelStep> CallModelAsync(string step, IReadOnlyList<ChatTurn> messages, int maxOutputTokens, string? tier = null);

    /// <summary>Reads through one of the app's connectors (counts as a step).</summary>
    Task<ConnectorStep> ReadAsync(string connector, string path);

    /// <summary>Posts JSON through one of the app's connectors (counts as a step).</summary>
    Task<ConnectorStep> SendAsync(string connector, string jsonBody, string idempotencyKey);

    /// <summary>The run's result with its steps, usage and cost.</summary>
    AppRunResult Complete(string output, IReadOnlyDictionary<string, string>? details = null, RunOutcome outcome = RunOutcome.Completed);

    /// <summary>A failed run with the steps taken so far.</summary>
    AppRunResult Fail(RunOutcome outcome, string code, string message, string? param = null);
}
