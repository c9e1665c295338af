using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Connectors;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;

namespace MicroApps.Orleans.Runtime;

/// <summary>
/// One run in progress (see <see cref="IRunContext"/>): every model call is a governed call under the caller's key,
/// checked against the run's step, token and time limits before it is made; connector calls go through the
/// <see cref="IConnectorGateway"/> only. Not thread-safe: a runner takes its steps one after another.
/// </summary>
public sealed class RunContext : IRunContext, IDisposable
{
    private readonly List<RunStep> _steps = [];
    private readonly HashSet<string> _stepNames = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _deadline;
    private readonly string _apiKey;
    private readonly string _stickyKey;
    private readonly TokenEstimator _tokens;
    private readonly IConnectorGateway _connectors;

    public RunContext(
        RunSetup setup,
        string apiKey,
        string runId,
        string stickyKey,
        IGrainFactory grains,
        TimeProvider time,
        TokenEstimator tokens,
        IConnectorGateway connectors)
    {
        AppId = setup.Served.AppId;
        RunId = runId;
        Served = setup.Served;
        Template = setup.Template;
        Parameters = setup.Parameters;
        Limits = setup.Limits;
        SharedPrompts = setup.SharedPrompts;
        Chains = setup.Chains;
        Grains = grains;
        Time = time;
        _apiKey = apiKey;
        _stickyKey = stickyKey;
        _tokens = tokens;
        _connectors = connectors;
        _deadline = new CancellationTokenSource(TimeSpan.FromSeconds(Math.Max(1, Limits.MaxSeconds)), time);
    }

    public string AppId { get; }

    public string RunId { get; }

    public ServedManifest Served { get; }

    public CatalogEntry Template { get; }

    public IReadOnlyDictionary<string, string> Parameters { get; }

    public RunLimits Limits { get; }

    public CancellationToken Cancellation => _deadline.Token;

    public IGrainFactory Grains { get; }

    public TimeProvider Time { get; }

    public IReadOnlyList<RunStep> Steps => _steps;

    public int TokensUsed { get; private set; }

    public IReadOnlyList<ChatTurn> SharedPrompts { get; }

    /// <summary>The app's chain components, run on the template's output by <see cref="RunChainsAsync"/>.</summary>
    public IReadOnlyList<CatalogEntry> Chains { get; }

    public decimal CostUsd => _steps.Sum(s => s.CostUsd);

    /// <summary>The governed request id of a step: <c>run/{RunId}/{step}</c>, shortened with a hash when it would pass the request-id limit.</summary>
    public string RequestIdOf(string step) => RunSetup.Fit($"run/{RunId}/{step}", ChatRequestRules.MaxRequestIdLength);

    /// <summary>Tokens a model call would be checked against the token limit with: its input (shared prompts included) plus its output cap.</summary>
    public int EstimateCall(IReadOnlyList<ChatTurn> messages, int maxOutputTokens) =>
        _tokens.CountMessages([.. SharedPrompts, .. messages]) + maxOutputTokens;

    public async Task<ModelStep> CallModelAsync(string step, IReadOnlyList<ChatTurn> messages, int maxOutputTokens, string? tier = null)
    {
        if (Refusal() is { } refused)
        {
            return new ModelStep(false, "", Refused(step), refused);
        }

        IReadOnlyList<ChatTurn> sent = [.. SharedPrompts, .. messages];
        var estimate = _tokens.CountMessages(sent) + maxOutputTokens;
        if ((long)TokensUsed + estimate > Limits.MaxTokens)
        {
            var failure = Fail(RunOutcome.LimitExceeded, RunLimitCodes.Tokens,
                $"step '{step}' needs about {estimate} tokens and the run has used {TokensUsed} of its {Limits.MaxTokens}; nothing more was called");
            return new ModelStep(false, "", Refused(step), failure);
        }

        if (!_stepNames.Add(step))
        {
            throw new InvalidOperationException($"step '{step}' was already taken in run {RunId}; step names are unique within a run");
        }

        var requestId = RequestIdOf(step);
        var model = tier ?? TemplateParameters.Text(Parameters, "tier", ModelCatalogOptions.AutoModel);
        if (string.IsNullOrWhiteSpace(model))
        {
            model = ModelCatalogOptions.AutoModel;
        }

        var request = new GovernedChatRequest(_apiKey, requestId, model, sent,
            new ChatParameters(null, null, maxOutputTokens, null, _stickyKey));
        GovernedChatResult result;
        try
        {
            result = await Grains.GetGrain<IGovernedCallGrain>(0).CompleteAsync(request).WaitAsync(Cancellation);
        }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
        {
            // The governed call goes on and settles by itself; the run stops here, at its deadline.
            _steps.Add(new RunStep("model", step, requestId, "", TokenUsage.Zero, 0m, TraceOutcomes.Error));
            var late = Fail(RunOutcome.LimitExceeded, RunLimitCodes.Time, $"the run passed its limit of {Limits.MaxSeconds} s during step '{step}'");
            return new ModelStep(false, "", GovernedChatResult.Failure(GovernedOutcome.BackendFailed, requestId, RunLimitCodes.Time, late.ErrorMessage!), late);
        }

        _steps.Add(new RunStep("model", step, requestId, result.Model, result.Usage, result.CostUsd, TraceOutcomes.Of(result.Outcome)));
        TokensUsed += result.Usage.TotalTokens;
        if (result.IsSuccess)
        {
            return new ModelStep(true, result.Content, result, null);
        }

        return new ModelStep(false, "", result, Fail(OutcomeOf(result.Outcome), result.ErrorCode ?? "model_call_failed",
            $"step '{step}': {result.ErrorMessage}", result.ErrorParam is null ? null : $"{step}.{result.ErrorParam}", result.RetryAfter));
    }

    public Task<ConnectorStep> ReadAsync(string connector, string path) =>
        ConnectAsync($"read:{connector}", connector, path, null, null);

    public Task<ConnectorStep> SendAsync(string connector, string jsonBody, string idempotencyKey) =>
        ConnectAsync($"send:{connector}", connector, "", jsonBody, idempotencyKey);

    private async Task<ConnectorStep> ConnectAsync(string name, string connector, string path, string? body, string? idempotencyKey)
    {
        if (Refusal() is { } refused)
        {
            return new ConnectorStep(false, "", "", refused);
        }

        var call = new ConnectorCall(AppId, Served.Manifest, connector, path, idempotencyKey);
        ConnectorResponse response;
        try
        {
            response = body is null
                ? await _connectors.ReadAsync(call, Cancellation)
                : await _connectors.SendAsync(call, body, Cancellation);
        }
        catch (OperationCanceledException) when (Cancellation.IsCancellationRequested)
        {
            _steps.Add(new RunStep("connector", name, "", "", TokenUsage.Zero, 0m, "connector_timeout"));
            return new ConnectorStep(false, "", "", Fail(RunOutcome.LimitExceeded, RunLimitCodes.Time,
                $"the run passed its limit of {Limits.MaxSeconds} s during step '{name}'"));
        }

        _steps.Add(new RunStep("connector", name, "", "", TokenUsage.Zero, 0m, response.Ok ? "ok" : response.ErrorCode ?? "connector_failed"));
        if (response.Ok)
        {
            return new ConnectorStep(true, response.Content, response.ContentType, null);
        }

        var outcome = response.Refused ? RunOutcome.ConnectorRefused : RunOutcome.ConnectorFailed;
        return new ConnectorStep(false, "", "", Fail(outcome, response.ErrorCode ?? "connector_failed",
            response.ErrorMessage ?? $"connector '{connector}' failed"));
    }

    /// <summary>
    /// Runs the app's chain components on <paramref name="output"/>, one model call per chain step (named
    /// <c>chain:{name}:{step}</c>), each on the previous step's output; the run's failure when a step fails.
    /// </summary>
    public async Task<(string Output, AppRunResult? Failure)> RunChainsAsync(string output, int maxOutputTokens)
    {
        foreach (var chain in Chains)
        {
            foreach (var chainStep in chain.Steps)
            {
                var prompt = CatalogComponents.Fill(chainStep.Prompt, Parameters);
                var result = await CallModelAsync($"chain:{chain.Name}:{chainStep.Name}",
                    [new ChatTurn("system", prompt), new ChatTurn("user", output)], maxOutputTokens);
                if (!result.Ok)
                {
                    return (output, result.Failure);
                }

                output = result.Content;
            }
        }

        return (output, null);
    }

    public AppRunResult Complete(string output, IReadOnlyDictionary<string, string>? details = null, RunOutcome outcome = RunOutcome.Completed) =>
        new(outcome, RunId, output, _steps.ToList(), Usage(), CostUsd, Details: details);

    public AppRunResult Fail(RunOutcome outcome, string code, string message, string? param = null) =>
        Fail(outcome, code, message, param, null);

    private AppRunResult Fail(RunOutcome outcome, string code, string message, string? param, TimeSpan? retryAfter) =>
        new(outcome, RunId, "", _steps.ToList(), Usage(), CostUsd, code, message, param, retryAfter);

    public void Dispose() => _deadline.Dispose();

    /// <summary>The run outcome of a governed call's failure.</summary>
    public static RunOutcome OutcomeOf(GovernedOutcome outcome) => outcome switch
    {
        GovernedOutcome.Unauthorized => RunOutcome.Unauthorized,
        GovernedOutcome.Forbidden => RunOutcome.Forbidden,
        GovernedOutcome.QuotaExceeded => RunOutcome.QuotaExceeded,
        GovernedOutcome.BudgetExceeded => RunOutcome.BudgetExceeded,
        GovernedOutcome.InvalidRequest or GovernedOutcome.UnknownModel => RunOutcome.InvalidRequest,
        _ => RunOutcome.BackendFailed,
    };

    private AppRunResult? Refusal()
    {
        if (Cancellation.IsCancellationRequested)
        {
            return Fail(RunOutcome.LimitExceeded, RunLimitCodes.Time, $"the run passed its limit of {Limits.MaxSeconds} s; nothing more was called");
        }

        return _steps.Count + 1 > Limits.MaxSteps
            ? Fail(RunOutcome.LimitExceeded, RunLimitCodes.Steps, $"the run has taken its {Limits.MaxSteps} step(s); nothing more was called")
            : null;
    }

    private GovernedChatResult Refused(string step) =>
        GovernedChatResult.Failure(GovernedOutcome.InvalidRequest, RequestIdOf(step), "run_limit", "refused by the run's limits");

    private TokenUsage Usage() => new(_steps.Sum(s => s.Usage.InputTokens), _steps.Sum(s => s.Usage.OutputTokens));
}

/// <summary>Error codes of runs refused by their limits.</summary>
public static class RunLimitCodes
{
    public const string Tokens = "run_token_limit";
    public const string Steps = "run_step_limit";
    public const string Time = "run_time_limit";
}
