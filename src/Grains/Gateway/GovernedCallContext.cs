using System.Threading.Channels;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Pii;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Tiers;

namespace MicroApps.Orleans.Gateway;

/// <summary>Runs the rest of the governed-call pipeline.</summary>
public delegate ValueTask GovernedCallDelegate(GovernedCallContext context);

/// <summary>
/// One step of the governed call, in the style of ASP.NET Core middleware: it may act before and after
/// <c>next</c>, or end the call by setting <see cref="GovernedCallContext.Result"/> and not calling <c>next</c>.
/// Steps are singletons registered in DI in the order they run (see
/// <see cref="MicroAppsGrainsServiceCollectionExtensions.AddGovernedCallStep{TStep}"/>), so a policy or PII step
/// is inserted without touching the others.
/// </summary>
public interface IGovernedCallStep
{
    ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next);
}

/// <summary>Everything one governed call has learned so far; steps read what earlier steps decided.</summary>
public sealed class GovernedCallContext
{
    private readonly ChannelWriter<GovernedChatChunk>? _deltas;

    public GovernedCallContext(GovernedChatRequest request, string requestId, TimeProvider time, ChannelWriter<GovernedChatChunk>? deltas, CancellationToken callAborted)
    {
        Request = request;
        RequestId = requestId;
        Time = time;
        _deltas = deltas;
        CallAborted = callAborted;
        StartedAt = time.GetUtcNow();
        Messages = request.Messages ?? [];
        RequestedModel = request.Model;
    }

    public GovernedChatRequest Request { get; }

    /// <summary>The caller's request id, or a generated one when the caller gave none.</summary>
    public string RequestId { get; }

    public TimeProvider Time { get; }

    public DateTimeOffset StartedAt { get; }

    /// <summary>Signalled when a streaming caller stops reading; non-streaming calls are never aborted.</summary>
    public CancellationToken CallAborted { get; }

    public bool IsStreaming => _deltas is not null;

    /// <summary>
    /// The messages as the cache and the model see them: the request's, unless a policy had them redacted.
    /// Steps after the policy step read these, never <see cref="GovernedChatRequest.Messages"/>.
    /// </summary>
    public IReadOnlyList<ChatTurn> Messages { get; set; }

    /// <summary>The model or tier to resolve: the request's, unless a policy routed the call to another tier.</summary>
    public string? RequestedModel { get; set; }

    /// <summary>
    /// The catalog's resolution of <see cref="RequestedModel"/> when an earlier step already made it (the policy step,
    /// unless it routed the call elsewhere); null means the route step resolves it.
    /// </summary>
    public ModelResolution? Resolution { get; set; }

    /// <summary>True when <see cref="RequestedModel"/> was set by a route or sample policy (the org's choice, not the app's).</summary>
    public bool TierChosenByPolicy { get; set; }

    /// <summary>The policy set version this call is governed by (read once, before admission, for its quotas).</summary>
    public CompiledPolicySet? PolicySet { get; set; }

    /// <summary>PII classes found in the messages (class names only); null until the PII scan ran.</summary>
    public IReadOnlyList<string>? PiiFound { get; set; }

    /// <summary>
    /// The PII scan's findings, one list per entry of <see cref="Messages"/> as the scan saw them, so a redaction
    /// masks them without scanning again; null until the PII scan ran.
    /// </summary>
    public IReadOnlyList<IReadOnlyList<PiiFinding>>? PiiFindings { get; set; }

    /// <summary>The policy decision for this call; null until the policy step ran.</summary>
    public PolicyDecision? Policy { get; set; }

    /// <summary>App id parsed from the key (set before admission, so refusals are traced to the app).</summary>
    public string? AppId { get; set; }

    /// <summary>The admitted app; set once admission succeeded.</summary>
    public AppProfile? App { get; set; }

    /// <summary>Prompt tokens as counted before the call.</summary>
    public int InputTokens { get; set; }

    /// <summary>Output tokens reserved and passed to the model as its limit.</summary>
    public int ReservedOutputTokens { get; set; }

    public string? Tier { get; set; }

    /// <summary>Models to try, in order, each able to hold the input and reserved output.</summary>
    public IReadOnlyList<ModelSpec> Candidates { get; set; } = [];

    /// <summary>What the caller's model string selected: the model name when pinned, else <c>tier:{name}</c>.</summary>
    public string? Selection { get; set; }

    /// <summary>Cost reserved on the budget before the call (highest-priced candidate).</summary>
    public decimal EstimatedCostUsd { get; set; }

    /// <summary>
    /// What the call really cost once a model produced tokens (0 for a cache hit). Null means nothing ran
    /// that can be charged, so the reservation is released rather than settled.
    /// </summary>
    public decimal? ActualCostUsd { get; set; }

    public TokenUsage Usage { get; set; } = TokenUsage.Zero;

    /// <summary>The model that answered (or whose answer was cached).</summary>
    public string? ServedModel { get; set; }

    public bool CacheHit { get; set; }

    /// <summary>The call's query type (<see cref="Savings.QueryTypes"/>); null until the savings router classified it.</summary>
    public string? QueryType { get; set; }

    /// <summary>
    /// The first model of the route the app asked for, before any saving moved the call (set by the route step); the
    /// trace prices the call's tokens on it as <see cref="TraceEvent.BaselineCostUsd"/>.
    /// </summary>
    public ModelSpec? BaselineModel { get; set; }

    /// <summary>Why the call costs less than on <see cref="BaselineModel"/> (<see cref="Savings.SavingKinds"/>); null: none, or a cache hit.</summary>
    public string? Saving { get; set; }

    /// <summary>The savings router's explanation of its choice, for the trace; null when it did not run.</summary>
    public string? RouteReason { get; set; }

    /// <summary>Models tried, in order, for the trace's route.</summary>
    public List<string> Attempts { get; } = [];

    /// <summary>Each step's decision, in order, for the trace.</summary>
    public List<string> Decisions { get; } = [];

    /// <summary>Free-form data for steps added later.</summary>
    public Dictionary<string, object?> Items { get; } = [];

    /// <summary>The answer; the first step to set it ends the call.</summary>
    public GovernedChatResult? Result { get; set; }

    /// <summary>Ends the call with a refusal or failure.</summary>
    public void Fail(GovernedOutcome outcome, string code, string message, string? param = null, TimeSpan? retryAfter = null)
    {
        Result = GovernedChatResult.Failure(outcome, RequestId, code, message, param, retryAfter) with
        {
            Model = ServedModel ?? "",
            Tier = Tier ?? "",
            Usage = Usage,
            CostUsd = ActualCostUsd ?? 0m,
            Created = Time.GetUtcNow(),
        };
        Decisions.Add($"refused:{code}");
    }

    /// <summary>Sends a piece of the answer, made by <paramref name="model"/>, to a streaming caller; a no-op for non-streaming calls.</summary>
    public ValueTask WriteDeltaAsync(string delta, string model)
    {
        if (_deltas is null || string.IsNullOrEmpty(delta))
        {
            return ValueTask.CompletedTask;
        }

        return _deltas.WriteAsync(new GovernedChatChunk(delta, null, model, Tier), CancellationToken.None);
    }
}
