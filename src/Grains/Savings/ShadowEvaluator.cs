using System.Collections.Concurrent;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Backends;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Savings;

/// <summary>Counters of one silo's shadow evaluator since it started.</summary>
/// <param name="Considered">Calls offered to the evaluator.</param>
/// <param name="Picked">Eligible calls the share picked.</param>
/// <param name="Dropped">Picked calls dropped because <see cref="ShadowOptions.MaxConcurrent"/> evaluations were already running.</param>
/// <param name="Skipped">Picked calls with no model to compare against (or none it may be sent to).</param>
/// <param name="Refused">Shadow calls the platform budget refused.</param>
/// <param name="Failed">Shadow calls or evaluations that failed.</param>
/// <param name="NoEvidence">Evaluations whose scorer could not tell.</param>
/// <param name="Recorded">Evaluations recorded as quality evidence.</param>
public sealed record ShadowStats(long Considered, long Picked, long Dropped, long Skipped, long Refused, long Failed, long NoEvidence, long Recorded);

/// <summary>
/// Shadow evaluations: a share (<see cref="ShadowOptions.Share"/>, picked by a stable hash of app and request id) of
/// completed, not cached, live calls is answered a second time in the background. A call served by the app's
/// baseline model is shadowed by the cheaper allowed model with the fewest samples for the call's query type; a call
/// a cheaper model served is shadowed by the baseline. The baseline's answer is the reference, the configured scorer
/// scores the cheaper model's answer against it, and the score is recorded as evidence about the cheaper model
/// (<c>shadow/{appId}/{requestId}</c>). Shadow calls are reserved and settled on the platform budget
/// (<see cref="ShadowOptions.BudgetId"/>) under the same id, never on the app's; a refusal skips the evaluation.
/// </summary>
/// <remarks>
/// <see cref="Consider"/> only decides and starts a thread-pool task, so the caller's answer is never delayed.
/// At most <see cref="ShadowOptions.MaxConcurrent"/> evaluations run per silo; beyond that picks are dropped and
/// counted. Calls of test and gate keys, calls routed by a policy, calls whose PII was not redacted, and the judge's
/// own calls are never shadowed, and a call served by an internal model is never sent to an external one.
/// </remarks>
public sealed class ShadowEvaluator : IShadowEvaluator
{
    private readonly IGrainFactory _grains;
    private readonly IModelBackends _backends;
    private readonly ModelCatalog _catalog;
    private readonly ShadowScorers _scorers;
    private readonly IOptions<ShadowOptions> _options;
    private readonly TokenEstimator _tokens;
    private readonly TimeProvider _time;
    private readonly ILogger<ShadowEvaluator> _logger;
    private readonly string? _judgeAppId;
    private readonly ConcurrentDictionary<string, Task> _running = new(StringComparer.Ordinal);
    private int _runningCount;
    private long _considered, _picked, _dropped, _skipped, _refused, _failed, _noEvidence, _recorded;

    public ShadowEvaluator(
        IGrainFactory grains,
        IModelBackends backends,
        ModelCatalog catalog,
        ShadowScorers scorers,
        IOptions<ShadowOptions> options,
        IOptions<JudgeOptions> judge,
        TokenEstimator tokens,
        [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
        ILogger<ShadowEvaluator> logger)
    {
        _grains = grains;
        _backends = backends;
        _catalog = catalog;
        _scorers = scorers;
        _options = options;
        _tokens = tokens;
        _time = time;
        _logger = logger;
        _judgeAppId = ApiKeys.TryParse(judge.Value.ApiKey, out var appId, out _, out _) ? appId : null;
    }

    public ShadowStats Stats => new(
        Interlocked.Read(ref _considered), Interlocked.Read(ref _picked), Interlocked.Read(ref _dropped), Interlocked.Read(ref _skipped),
        Interlocked.Read(ref _refused), Interlocked.Read(ref _failed), Interlocked.Read(ref _noEvidence), Interlocked.Read(ref _recorded));

    /// <summary>Completes when no evaluation is running (for tests and orderly shutdown; evaluations started meanwhile are awaited too).</summary>
    public async Task WhenIdleAsync()
    {
        while (!_running.IsEmpty)
        {
            await Task.WhenAll(_running.Values);
        }
    }

    /// <summary>The evaluation id (and platform-budget reservation id) of a call.</summary>
    public static string EvaluationId(string appId, string requestId) => $"shadow/{appId}/{requestId}";

    /// <summary>True when the call falls in the shadowed <paramref name="share"/>: a stable hash of app and request id in [0, 1).</summary>
    public static bool IsPicked(string appId, string requestId, double share)
    {
        if (share <= 0)
        {
            return false;
        }

        if (share >= 1)
        {
            return true;
        }

        return StableDraw.Position($"shadow\n{appId}\n{requestId}") < share;
    }

    public void Consider(GovernedCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        Interlocked.Increment(ref _considered);
        var options = _options.Value;
        if (options.Share <= 0 || Eligible(context) is not { } job || !IsPicked(job.AppId, job.RequestId, options.Share))
        {
            return;
        }

        Interlocked.Increment(ref _picked);
        if (Interlocked.Increment(ref _runningCount) > options.MaxConcurrent)
        {
            Interlocked.Decrement(ref _runningCount);
            Interlocked.Increment(ref _dropped);
            return;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        if (!_running.TryAdd(job.EvaluationId, done.Task))
        {
            // The same request considered twice (a retried call): one evaluation is enough.
            Interlocked.Decrement(ref _runningCount);
            return;
        }

        // Task.Run leaves the grain's scheduler: the evaluation must not hold up the activation that served the call.
        _ = Task.Run(async () =>
        {
            try
            {
                await RunAsync(job, options);
            }
            catch (Exception ex)
            {
                Interlocked.Increment(ref _failed);
                _logger.LogWarning(ex, "Shadow evaluation {Evaluation} failed", job.EvaluationId);
            }
            finally
            {
                _running.TryRemove(job.EvaluationId, out _);
                Interlocked.Decrement(ref _runningCount);
                done.TrySetResult();
            }
        });
    }

    private Job? Eligible(GovernedCallContext context)
    {
        if (context.Result is not { Outcome: GovernedOutcome.Completed } result || context.CacheHit
            || context.App is not { } app || context.BaselineModel is not { } baseline
            || app.Channel == ReleaseChannel.Test || string.Equals(app.AppId, _judgeAppId, StringComparison.Ordinal)
            || context.TierChosenByPolicy
            || (context.PiiFound is { Count: > 0 } && context.Policy?.Redact != true))
        {
            return null;
        }

        var queryType = QueryTypes.Parse(context.QueryType) ?? QueryTypes.Parse(app.Savings?.Task);
        if (queryType is null || FindModel(result.Model) is not { } served)
        {
            return null;
        }

        return new Job(
            app.AppId, context.RequestId, EvaluationId(app.AppId, context.RequestId), queryType, [.. context.Messages], context.Request.Parameters,
            context.InputTokens, context.ReservedOutputTokens, served, result.Content, baseline, app.AllowedTiers);
    }

    private async Task RunAsync(Job job, ShadowOptions options)
    {
        var servedIsReference = string.Equals(job.Served.Name, job.Baseline.Name, StringComparison.OrdinalIgnoreCase);
        var shadow = servedIsReference ? await CheaperModelAsync(job) : job.Baseline;
        if (shadow is null || (!job.Served.External && shadow.External))
        {
            Interlocked.Increment(ref _skipped);
            return;
        }

        var budget = _grains.GetGrain<IBudgetGrain>(options.BudgetId);
        var reservation = await budget.ReserveAsync(job.EvaluationId, PriceCalculator.Cost(shadow, job.InputTokens, job.MaxOutputTokens));
        if (!reservation.IsGranted)
        {
            Interlocked.Increment(ref _refused);
            _logger.LogDebug("Platform budget {Budget} refused shadow call {Evaluation}: {Reason}", options.BudgetId, job.EvaluationId, reservation.Reason);
            return;
        }

        using var timeout = new CancellationTokenSource(options.CallTimeout);
        string answer;
        decimal cost;
        try
        {
            var messages = job.Messages.Select(m => new ChatMessage(new ChatRole(m.Role.ToLowerInvariant()), m.Content)).ToList();
            var response = await _backends.GetClient(shadow.Backend, shadow.Name).GetResponseAsync(messages, new ChatOptions
            {
                ModelId = shadow.Name,
                MaxOutputTokens = job.MaxOutputTokens,
                Temperature = job.Parameters.Temperature,
                TopP = job.Parameters.TopP,
                StopSequences = job.Parameters.Stop is { Count: > 0 } stop ? [.. stop] : null,
            }, timeout.Token);
            answer = response.Text;
            var input = ToInt(response.Usage?.InputTokenCount) ?? job.InputTokens;
            var output = ToInt(response.Usage?.OutputTokenCount) ?? _tokens.CountText(answer);
            cost = PriceCalculator.Cost(shadow, input, output);
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _failed);
            _logger.LogInformation(ex, "Shadow call {Evaluation} to {Model} failed", job.EvaluationId, shadow.Name);
            await budget.ReleaseAsync(job.EvaluationId);
            return;
        }

        await budget.SettleAsync(job.EvaluationId, cost);

        var comparison = servedIsReference
            ? new ShadowComparison(job.QueryType, job.Messages, job.Served.Name, job.ServedAnswer, shadow.Name, answer, job.EvaluationId)
            : new ShadowComparison(job.QueryType, job.Messages, shadow.Name, answer, job.Served.Name, job.ServedAnswer, job.EvaluationId);
        var score = _scorers.For(job.QueryType) is { } scorer ? await scorer.ScoreAsync(comparison, timeout.Token) : null;
        if (score is not { } s || !double.IsFinite(s))
        {
            Interlocked.Increment(ref _noEvidence);
            return;
        }

        await _grains.GetGrain<IModelQualityGrain>(job.QueryType).RecordAsync(new QualityEvidence(
            job.EvaluationId, comparison.CandidateModel, job.QueryType, QualitySources.Shadow, Math.Clamp(s, 0d, 1d), _time.GetUtcNow()));
        Interlocked.Increment(ref _recorded);
    }

    /// <summary>
    /// The model cheaper than the baseline, in a tier the app may use and able to hold the call, with the fewest samples
    /// for the query type (then the cheapest): evidence goes where it is missing.
    /// </summary>
    private async Task<ModelSpec?> CheaperModelAsync(Job job)
    {
        var needed = (long)job.InputTokens + job.MaxOutputTokens;
        var cheaper = job.AllowedTiers
            .SelectMany(_catalog.ModelsOf)
            .Where(m => Price(m) < Price(job.Baseline) && needed <= m.ContextWindow
                        && !string.Equals(m.Name, job.Baseline.Name, StringComparison.OrdinalIgnoreCase))
            .DistinctBy(m => m.Name, StringComparer.OrdinalIgnoreCase)
            .ToList();
        if (cheaper.Count == 0)
        {
            return null;
        }

        var samples = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);
        try
        {
            var table = await _grains.GetGrain<IModelQualityGrain>(job.QueryType).GetAsync();
            foreach (var model in table.Models)
            {
                samples[model.Model] = model.Samples;
            }
        }
        catch (Exception ex)
        {
            // Without the table every candidate counts as unsampled; the cheapest is tried.
            _logger.LogDebug(ex, "Quality table of {QueryType} unavailable for shadow model choice", job.QueryType);
        }

        return cheaper
            .OrderBy(m => samples.GetValueOrDefault(m.Name))
            .ThenBy(Price)
            .ThenBy(m => m.Name, StringComparer.Ordinal)
            .First();
    }

    private ModelSpec? FindModel(string? name) =>
        string.IsNullOrEmpty(name)
            ? null
            : _catalog.TierNames.SelectMany(_catalog.ModelsOf).FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase));

    private static decimal Price(ModelSpec model) => model.InputPricePer1K + model.OutputPricePer1K;

    private static int? ToInt(long? value) => value is { } v ? (int)Math.Clamp(v, 0, int.MaxValue) : null;

    private sealed record Job(
        string AppId,
        string RequestId,
        string EvaluationId,
        string QueryType,
        IReadOnlyList<ChatTurn> Messages,
        ChatParameters Parameters,
        int InputTokens,
        int MaxOutputTokens,
        ModelSpec Served,
        string ServedAnswer,
        ModelSpec Baseline,
        IReadOnlyList<string> AllowedTiers);
}
