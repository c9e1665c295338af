using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Runtime;

namespace MicroApps.Orleans.GrainTests.Approvals;

/// <summary>
/// A run context for calling a template runner directly: the model step answers <see cref="ModelAnswer"/> (or fails with
/// <see cref="ModelFailure"/>) and is recorded; connectors are not used by the approvals bot's run.
/// </summary>
internal sealed class TestRunContext(IGrainFactory grains, TimeProvider time, string appId, string runId, AppManifest manifest, int version = 1) : IRunContext
{
    private readonly List<RunStep> _steps = [];

    public string ModelAnswer { get; init; } = "APPROVE\nWithin the travel limit.";

    public AppRunResult? ModelFailure { get; init; }

    public List<(string Step, IReadOnlyList<ChatTurn> Messages, int MaxOutputTokens, string? Tier)> ModelCalls { get; } = [];

    public string AppId => appId;

    public string RunId => runId;

    public ServedManifest Served { get; } = new(appId, version, ReleaseChannel.Published, manifest);

    public CatalogEntry Template => BuiltInCatalog.ApprovalsBot;

    public IReadOnlyDictionary<string, string> Parameters { get; } = TemplateParameters.WithDefaults(BuiltInCatalog.ApprovalsBot.Parameters, manifest.Parameters);

    public RunLimits Limits => BuiltInCatalog.DefaultLimits(BuiltIns.ApprovalsBot);

    public CancellationToken Cancellation => CancellationToken.None;

    public IGrainFactory Grains => grains;

    public TimeProvider Time => time;

    public IReadOnlyList<RunStep> Steps => _steps;

    public int TokensUsed => _steps.Sum(s => s.Usage.TotalTokens);

    public Task<ModelStep> CallModelAsync(string step, IReadOnlyList<ChatTurn> messages, int maxOutputTokens, string? tier = null)
    {
        ModelCalls.Add((step, messages, maxOutputTokens, tier));
        var requestId = $"run/{RunId}/{step}";
        if (ModelFailure is { } failure)
        {
            return Task.FromResult(new ModelStep(false, "", GovernedChatResult.Failure(GovernedOutcome.BudgetExceeded, requestId, "budget_exceeded", "no budget"), failure));
        }

        var usage = new TokenUsage(50, 20);
        _steps.Add(new RunStep("model", step, requestId, "test-model", usage, 0.01m, "success"));
        var result = new GovernedChatResult(GovernedOutcome.Completed, requestId, null, null, null, null, "test-model", "standard", ModelAnswer, "stop", usage, 0.01m, time.GetUtcNow());
        return Task.FromResult(new ModelStep(true, ModelAnswer, result, null));
    }

    public Task<ConnectorStep> ReadAsync(string connector, string path) => throw new InvalidOperationException("the approvals bot reads no connector");

    public Task<ConnectorStep> SendAsync(string connector, string jsonBody, string idempotencyKey) =>
        throw new InvalidOperationException("the approvals bot's run sends nothing; its workflow notifies");

    public AppRunResult Complete(string output, IReadOnlyDictionary<string, string>? details = null, RunOutcome outcome = RunOutcome.Completed) =>
        new(outcome, RunId, output, _steps.ToArray(), new TokenUsage(_steps.Sum(s => s.Usage.InputTokens), _steps.Sum(s => s.Usage.OutputTokens)),
            _steps.Sum(s => s.CostUsd), Details: details);

    public AppRunResult Fail(RunOutcome outcome, string code, string message, string? param = null) =>
        AppRunResult.Failure(outcome, RunId, code, message, param, steps: _steps.ToArray());
}
