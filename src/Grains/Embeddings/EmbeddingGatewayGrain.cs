using System.Security.Cryptography;
using System.Text;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Caching;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Pii;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Savings;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace MicroApps.Orleans.Embeddings;

/// <summary>
/// The governed embeddings call, in the order of the chat pipeline's decisions: key and shape checks, admission by the
/// app grain (lifecycle and quotas, counting the inputs' tokens), a PII scan per input, the embedding cache, a budget
/// reservation for the misses only (<c>{appId}/{requestId}</c>), the per-silo batcher, the settle, and one trace event.
/// A fully cached request reaches neither the budget nor a backend and costs $0. Stateless and reentrant: the
/// batcher (a per-silo singleton) is where concurrent callers meet.
/// </summary>
[StatelessWorker]
[Reentrant]
public sealed class EmbeddingGatewayGrain(
    IGrainFactory grains,
    EmbeddingModels models,
    EmbeddingBatcher batcher,
    TokenEstimator tokens,
    PolicySetCache policies,
    IEnumerable<ITraceSink> sinks,
    GatewayMetrics metrics,
    IOptions<EmbeddingOptions> options,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    ILogger<EmbeddingGatewayGrain> logger) : Grain, IEmbeddingGatewayGrain
{
    private readonly ITraceSink[] _sinks = sinks.ToArray();

    public async Task<GovernedEmbeddingResult> EmbedAsync(GovernedEmbeddingRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var started = time.GetTimestamp();
        var call = new Call(
            request with { Inputs = request.Inputs ?? [], Model = request.Model ?? "" },
            string.IsNullOrWhiteSpace(request.RequestId) ? Guid.NewGuid().ToString("N") : request.RequestId.Trim());
        try
        {
            await RunAsync(call);
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Embedding call {RequestId} of app {AppId} failed", call.RequestId, call.AppId);
            call.Fail(GovernedOutcome.BackendFailed, "gateway_error", $"The governed embedding call failed: {ex.GetType().Name}.");
        }

        await TraceAsync(call, started);
        return call.Result!;
    }

    private async Task RunAsync(Call call)
    {
        var request = call.Request;
        if (!ApiKeys.TryParse(request.ApiKey, out var appId, out var keyId, out var secret))
        {
            call.Fail(GovernedOutcome.Unauthorized, "invalid_api_key", AppAdmission.MalformedKeyMessage);
            return;
        }

        call.AppId = appId;
        if (Validate(call) is { } invalid)
        {
            call.Fail(invalid.Outcome, invalid.Code, invalid.Message, invalid.Param);
            return;
        }

        call.Counted = request.Inputs.Select(tokens.CountText).ToArray();
        long estimate = call.Counted.Sum();
        var policySet = await policies.GetAsync();
        call.PolicySet = policySet;
        call.StickyKey = string.IsNullOrWhiteSpace(request.User) ? call.RequestId : request.User.Trim();
        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var admission = await app.AdmitAsync(new AdmissionRequest(keyId, secret, estimate, call.StickyKey, policySet.QuotasFor(appId)));
        call.Decisions.Add($"admit:{admission.Outcome}");
        if (!admission.IsAdmitted || admission.Profile is null)
        {
            var (outcome, code, message, retryAfter) = AppAdmission.Refusal(admission);
            call.Fail(outcome, code, message, retryAfter: retryAfter);
            return;
        }

        call.App = admission.Profile;
        try
        {
            await ServeAsync(call);
        }
        finally
        {
            // What the backend really processed: nothing for cache hits.
            await AppAdmission.RecordUsageAsync(app, admission.Profile, estimate, call.BilledTokens);
        }
    }

    private async Task ServeAsync(Call call)
    {
        var request = call.Request;
        var model = call.Model!;
        var appId = call.AppId!;
        IReadOnlyList<string> inputs = request.Inputs;

        // PII per input: an input with PII never enters the shared scope, even when the request marked it public.
        var findings = inputs.Select(i => PiiScanner.Default.Scan(i)).ToArray();
        call.PiiFound = PiiScanner.ClassesOf(findings);
        call.Decisions.Add(call.PiiFound.Count == 0 ? "pii:none" : $"pii:{string.Join(",", call.PiiFound)}");

        // The policies see an embeddings call as tier "embeddings" on the model's external flag. A block refuses it;
        // a redact masks the PII before the text leaves (the masked text is what is embedded and cached, per app);
        // a route has no meaning here, as embeddings have no tiers.
        var decision = call.PolicySet!.Evaluate(new PolicyFacts(
            appId, call.App!.Team, call.App.Audience.ToString().ToLowerInvariant(), call.App.DataClasses, call.PiiFound,
            EmbeddingModelSpec.Tier, model.External, call.Counted.Sum(), PriceCalculator.Cost(model.AsModelSpec(), call.Counted.Sum(), 0),
            call.App.PromptVersion, call.StickyKey));
        call.Policy = decision;
        call.Decisions.Add($"policy:v{decision.PolicyVersion}:{decision.Summary}");
        if (decision.Blocked)
        {
            var blocker = decision.BlockedBy!;
            var message = string.IsNullOrWhiteSpace(blocker.Description) ? blocker.PolicyId : $"{blocker.PolicyId}: {blocker.Description}";
            call.Fail(GovernedOutcome.Forbidden, "policy_blocked", $"Blocked by policy {message}");
            return;
        }

        if (decision.Redact && call.PiiFound.Count > 0)
        {
            inputs = inputs.Select((input, i) => findings[i].Count == 0 ? input : PiiScanner.Default.Redact(input, findings[i])).ToArray();
            call.Counted = inputs.Select(tokens.CountText).ToArray();
            call.Decisions.Add("policy:redacted");
        }

        // Identical inputs in one request are embedded (and charged) once.
        var slots = new int[inputs.Count];
        var unique = new List<(EmbeddingCacheKey Key, string Input, int Counted)>();
        var index = new Dictionary<EmbeddingCacheKey, int>();
        var publicInputs = 0;
        for (var i = 0; i < inputs.Count; i++)
        {
            var scope = EmbeddingCacheKeys.ScopeOf(appId, request.PublicContent, findings[i].Count > 0);
            publicInputs += scope == EmbeddingCacheKeys.PublicScope ? 1 : 0;
            var key = new EmbeddingCacheKey(scope, EmbeddingCacheKeys.Compute(model.Name, request.Dimensions, inputs[i]));
            if (!index.TryGetValue(key, out var slot))
            {
                slot = unique.Count;
                index[key] = slot;
                unique.Add((key, inputs[i], call.Counted[i]));
            }

            slots[i] = slot;
        }

        if (request.PublicContent)
        {
            call.Decisions.Add($"scope:public={publicInputs}/{inputs.Count}");
        }

        var vectors = new float[]?[unique.Count];
        var settings = options.Value;
        var caching = settings.CacheTtl > TimeSpan.Zero;
        if (caching)
        {
            await LookUpAsync(unique.Select(u => u.Key).ToArray(), vectors, settings.CacheShards);
        }

        var misses = Enumerable.Range(0, unique.Count).Where(s => vectors[s] is null).ToArray();
        call.CachedInputs = slots.Count(s => vectors[s] is not null);
        call.CachedTokens = Enumerable.Range(0, unique.Count).Where(s => vectors[s] is not null).Sum(s => unique[s].Counted);
        call.Decisions.Add($"cache:hits={unique.Count - misses.Length}/{unique.Count}");
        if (misses.Length == 0)
        {
            call.ActualCostUsd = 0m;
            call.Succeed(GovernedOutcome.CacheHit, slots.Select(s => vectors[s]!).ToArray());
            return;
        }

        // The reservation leaves a tenth of headroom: the backend's tokenizer may count a little more than ours.
        var reserveTokens = misses.Sum(s => unique[s].Counted + unique[s].Counted / 10 + 1);
        var spec = model.AsModelSpec();
        call.EstimatedCostUsd = PriceCalculator.Cost(spec, reserveTokens, 0);
        var budgetId = call.App!.BudgetId;
        var reservationId = $"{appId}/{call.RequestId}";
        IBudgetGrain? budget = null;
        if (call.EstimatedCostUsd > 0m)
        {
            budget = grains.GetGrain<IBudgetGrain>(budgetId);
            var reservation = await budget.ReserveAsync(reservationId, call.EstimatedCostUsd);
            if (!reservation.IsGranted)
            {
                RefuseBudget(call, budgetId, reservation);
                return;
            }

            call.Decisions.Add($"budget:{budgetId}:reserved={call.EstimatedCostUsd}");
        }
        else
        {
            call.Decisions.Add("budget:free");
        }

        EmbeddingBatchResult embedded;
        try
        {
            embedded = await batcher.EmbedAsync(model, request.Dimensions, misses.Select(s => unique[s].Input).ToArray());
            call.BilledTokens = embedded.Tokens;
            call.ActualCostUsd = PriceCalculator.Cost(spec, embedded.Tokens, 0);
        }
        catch (EmbeddingBackendException ex)
        {
            call.Fail(GovernedOutcome.BackendFailed, "backend_failed", ex.Message);
            return;
        }
        finally
        {
            if (budget is not null)
            {
                await CloseAsync(call, budget, budgetId, reservationId);
            }
        }

        for (var m = 0; m < misses.Length; m++)
        {
            vectors[misses[m]] = embedded.Vectors[m];
        }

        if (caching)
        {
            await StoreAsync(misses.Select(s => new EmbeddingCacheEntry(unique[s].Key, vectors[s]!)).ToArray(), settings);
        }

        call.Succeed(GovernedOutcome.Completed, slots.Select(s => vectors[s]!).ToArray());
    }

    private async Task LookUpAsync(EmbeddingCacheKey[] keys, float[]?[] vectors, int shards)
    {
        try
        {
            var byShard = Enumerable.Range(0, keys.Length).GroupBy(i => CacheKey.ShardFor(keys[i].Key, shards));
            await Task.WhenAll(byShard.Select(async group =>
            {
                var positions = group.ToArray();
                var found = await grains.GetGrain<IEmbeddingCacheShardGrain>(group.Key).GetManyAsync(positions.Select(p => keys[p]).ToArray());
                for (var i = 0; i < positions.Length; i++)
                {
                    vectors[positions[i]] = found[i];
                }
            }));
        }
        catch (Exception ex)
        {
            // The cache only ever saves a call; when it cannot be read the inputs are embedded.
            logger.LogWarning(ex, "Embedding cache lookup failed; embedding every input");
            Array.Clear(vectors);
        }
    }

    private async Task StoreAsync(EmbeddingCacheEntry[] entries, EmbeddingOptions settings)
    {
        try
        {
            await Task.WhenAll(entries
                .GroupBy(e => CacheKey.ShardFor(e.Key.Key, settings.CacheShards))
                .Select(group => grains.GetGrain<IEmbeddingCacheShardGrain>(group.Key).PutManyAsync(group.ToArray(), settings.CacheTtl)));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Storing {Count} embeddings in the cache failed", entries.Length);
        }
    }

    private async Task CloseAsync(Call call, IBudgetGrain budget, string budgetId, string reservationId)
    {
        try
        {
            if (call.ActualCostUsd is { } actual)
            {
                var settled = await budget.SettleAsync(reservationId, actual);
                call.Decisions.Add($"budget:settled={settled.ChargedUsd}:{settled.Outcome}");
            }
            else
            {
                await budget.ReleaseAsync(reservationId);
                call.Decisions.Add("budget:released");
            }
        }
        catch (Exception ex)
        {
            // The reservation stays until its TTL releases it; the spend it stood for is then not charged.
            logger.LogError(ex, "Could not close reservation {ReservationId} on budget {BudgetId}", reservationId, budgetId);
            call.Decisions.Add("budget:close-failed");
        }
    }

    private (GovernedOutcome Outcome, string Code, string Message, string Param)? Validate(Call call)
    {
        var request = call.Request;
        if (call.RequestId.Length > ChatRequestRules.MaxRequestIdLength)
        {
            return (GovernedOutcome.InvalidRequest, "invalid_request", $"The request id is longer than {ChatRequestRules.MaxRequestIdLength} characters.", "request_id");
        }

        if (request.Inputs.Count == 0)
        {
            return (GovernedOutcome.InvalidRequest, "invalid_request", "input must be a non-empty string or a non-empty array of strings.", "input");
        }

        if (request.Inputs.Count > EmbeddingRequestRules.MaxInputs)
        {
            return (GovernedOutcome.InvalidRequest, "invalid_request", $"input holds at most {EmbeddingRequestRules.MaxInputs} items, got {request.Inputs.Count}.", "input");
        }

        for (var i = 0; i < request.Inputs.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(request.Inputs[i]))
            {
                return (GovernedOutcome.InvalidRequest, "invalid_request", $"input[{i}] is empty; every input must contain text.", "input");
            }
        }

        if (string.IsNullOrWhiteSpace(request.Model))
        {
            return (GovernedOutcome.InvalidRequest, "invalid_request", "model is required: name one of the embedding models.", "model");
        }

        call.Model = models.Find(request.Model);
        if (call.Model is null)
        {
            var known = models.Names.Count == 0 ? "none are configured" : "configured: " + string.Join(", ", models.Names);
            return (GovernedOutcome.UnknownModel, "model_not_found", $"The embedding model '{request.Model}' does not exist ({known}).", "model");
        }

        if (request.Dimensions is { } dimensions && (dimensions < 1 || (call.Model.Dimensions > 0 && dimensions > call.Model.Dimensions)))
        {
            var most = call.Model.Dimensions > 0 ? $"between 1 and {call.Model.Dimensions}" : "positive";
            return (GovernedOutcome.InvalidRequest, "invalid_request", $"dimensions must be {most} for model '{call.Model.Name}', got {dimensions}.", "dimensions");
        }

        return null;
    }

    /// <summary>Budget refusals as in the chat pipeline, except that embeddings never degrade: there is no cheaper tier.</summary>
    private static void RefuseBudget(Call call, string budgetId, ReservationResult reservation)
    {
        var reason = string.IsNullOrEmpty(reservation.Reason) ? null : reservation.Reason;
        switch (reservation.Outcome)
        {
            case ReservationOutcome.AlreadyClosed:
                call.Fail(GovernedOutcome.InvalidRequest, "duplicate_request_id", $"Request id '{call.RequestId}' was already completed; use a new id for a new call.", "request_id");
                break;
            case ReservationOutcome.NotConfigured:
                call.Fail(GovernedOutcome.BudgetExceeded, "budget_not_configured", reason ?? $"Budget '{budgetId}' has no limit set, so nothing may be spent.", retryAfter: reservation.RetryAfter);
                break;
            case ReservationOutcome.SoftShutdown:
                call.Fail(GovernedOutcome.BudgetExceeded, "budget_soft_shutdown", reason ?? $"Budget '{budgetId}' reached 100% and is shut down.", retryAfter: reservation.RetryAfter);
                break;
            default:
                call.Fail(GovernedOutcome.BudgetExceeded, "budget_exceeded", reason ?? $"Budget '{budgetId}' cannot cover the estimated ${call.EstimatedCostUsd}.", retryAfter: reservation.RetryAfter);
                break;
        }

        call.Decisions.Add($"budget:{budgetId}:refused:{reservation.Outcome}");
    }

    private async Task TraceAsync(Call call, long started)
    {
        try
        {
            var result = call.Result!;
            var success = result.IsSuccess;
            var model = call.Model;
            var traceEvent = new TraceEvent(
                call.AppId ?? "",
                call.RequestId,
                model?.Name ?? call.Request.Model,
                EmbeddingModelSpec.Tier,
                call.BilledTokens,
                0,
                time.GetElapsedTime(started).TotalMilliseconds,
                call.App?.PromptVersion ?? "",
                call.EstimatedCostUsd,
                result.Outcome == GovernedOutcome.CacheHit ? "cache" : $"{EmbeddingModelSpec.Tier}:{model?.Name}",
                TraceOutcomes.Of(result.Outcome),
                null,
                call.App?.Team ?? "",
                InputsHash(call.Request.Inputs),
                result.Outcome == GovernedOutcome.CacheHit,
                call.ActualCostUsd ?? 0m,
                time.GetUtcNow(),
                call.Decisions.ToArray(),
                Policy: call.Policy?.Summary,
                PolicyMatches: call.Policy?.Matches.Select(PolicyStep.Describe).ToArray(),
                PiiClasses: call.PiiFound,
                PolicyVersion: call.Policy?.PolicyVersion ?? call.PolicySet?.Version ?? 0,
                ErrorCode: result.ErrorCode,
                BaselineCostUsd: success && model is not null ? PriceCalculator.Cost(model.AsModelSpec(), call.BilledTokens + call.CachedTokens, 0) : null,
                Saving: success ? (call.CachedInputs > 0 ? SavingKinds.Cache : SavingKinds.None) : null,
                RouteReason: success ? $"embedding model '{model?.Name}' as requested; {call.CachedInputs}/{call.Request.Inputs.Count} inputs from the cache" : null);
            metrics.Record(traceEvent);
            foreach (var sink in _sinks)
            {
                await sink.RecordAsync(traceEvent);
            }
        }
        catch (Exception ex)
        {
            // Telemetry must never fail a call that has already been answered and charged.
            logger.LogError(ex, "Recording the trace of embedding request {RequestId} failed", call.RequestId);
        }
    }

    /// <summary>SHA-256 over the normalised inputs, lower-case hex: the trace's prompt hash (never the text).</summary>
    public static string InputsHash(IReadOnlyList<string> inputs)
    {
        var builder = new StringBuilder();
        foreach (var input in inputs)
        {
            var text = CacheKey.Normalize(input);
            builder.Append(text.Length).Append(':').Append(text).Append('|');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())));
    }

    /// <summary>What one embeddings call has decided so far.</summary>
    private sealed class Call(GovernedEmbeddingRequest request, string requestId)
    {
        public GovernedEmbeddingRequest Request { get; } = request;

        public string RequestId { get; } = requestId;

        public string? AppId { get; set; }

        public AppProfile? App { get; set; }

        public EmbeddingModelSpec? Model { get; set; }

        public int[] Counted { get; set; } = [];

        public CompiledPolicySet? PolicySet { get; set; }

        public PolicyDecision? Policy { get; set; }

        public string StickyKey { get; set; } = "";

        public IReadOnlyList<string>? PiiFound { get; set; }

        public int CachedInputs { get; set; }

        public int CachedTokens { get; set; }

        public int BilledTokens { get; set; }

        public decimal EstimatedCostUsd { get; set; }

        public decimal? ActualCostUsd { get; set; }

        public List<string> Decisions { get; } = [];

        public GovernedEmbeddingResult? Result { get; private set; }

        public void Fail(GovernedOutcome outcome, string code, string message, string? param = null, TimeSpan? retryAfter = null)
        {
            Result = GovernedEmbeddingResult.Failure(outcome, RequestId, code, message, param, retryAfter);
        }

        public void Succeed(GovernedOutcome outcome, IReadOnlyList<float[]> vectors) =>
            Result = new GovernedEmbeddingResult(outcome, RequestId, Model!.Name, vectors, BilledTokens, ActualCostUsd ?? 0m, CachedInputs);
    }
}
