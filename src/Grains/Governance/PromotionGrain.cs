using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Prompts;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Governance;

/// <summary>
/// Runs promotions of one app (key: app id): submits the version, runs every gate even after one failed (so
/// the author sees everything at once) and records the results on the app grain, which decides the state.
/// Stateless: the app grain holds the version's state and gates; one submission per app runs at a time.
/// </summary>
public sealed class PromotionGrain(
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    IOptions<PromotionGateOptions> options,
    ModelCatalog catalog,
    TokenEstimator tokens,
    ILogger<PromotionGrain> logger) : Grain, IPromotionGrain
{
    private const string GateHolder = "promotion";

    private string AppId => this.GetPrimaryKeyString();

    public async Task<SubmissionResult> SubmitAsync(int version, string actor)
    {
        var app = GrainFactory.GetGrain<IMicroAppGrain>(AppId);
        _ = await app.GetAsync() ?? throw new KeyNotFoundException($"app '{AppId}' does not exist");
        var current = await app.GetVersionAsync(version) ?? throw new KeyNotFoundException($"app '{AppId}' has no version {version}");

        // A run interrupted after the submit but before its gates were recorded resumes instead of being refused.
        var submitted = IsInterruptedSubmission(current) ? current : await app.SubmitAsync(version, actor);
        var submission = Math.Max(1, submitted.History.Count(t => t.To == VersionState.Submitted));
        var manifest = submitted.Manifest;

        var dataAccess = Guard(GateNames.DataAccess, () => DataAccessGate.Evaluate(manifest, options.Value.EffectiveRestrictedDataClasses, time.GetUtcNow()));
        var prompts = await LoadPromptsAsync(manifest);
        var pii = Guard(GateNames.PiiScan, () => PiiScanGate.Evaluate(manifest, prompts, time.GetUtcNow()));
        var (regression, report) = await RunRegressionTestsAsync(version, submission, manifest, prompts);
        var cost = await GuardAsync(GateNames.CostEstimate, async () =>
        {
            var budget = await GrainFactory.GetGrain<IBudgetGrain>(AppManifestRules.EffectiveBudgetId(AppId, manifest)).GetAsync();
            return CostEstimateGate.Evaluate(report.CompletedCallCosts, manifest.ExpectedCallsPerMonth, budget, time.GetUtcNow());
        });
        var (policy, needsApprover) = await EvaluatePolicyAsync(manifest);

        IReadOnlyList<GateResult> gates = [dataAccess, pii, regression, cost, policy];
        var recorded = await app.RecordGatesAsync(version, gates, needsApprover);
        var outcome = recorded.State switch
        {
            VersionState.Approved => SubmissionOutcome.AutoApproved,
            VersionState.Submitted => SubmissionOutcome.AwaitingApproval,
            _ => SubmissionOutcome.ReturnedToDraft,
        };
        logger.LogInformation("Promotion of {AppId} v{Version} by {Actor}: {Outcome} ({Failed} gate(s) failed)", AppId, version, actor, outcome, gates.Count(g => !g.Passed));
        return new SubmissionResult(AppId, recorded, gates, outcome, needsApprover, report.Runs);
    }

    // The app grain clears a version's gates when it is submitted and records them once: a submitted version
    // with no gates and no approver pending is one whose run stopped before RecordGatesAsync.
    private static bool IsInterruptedSubmission(AppVersionInfo version) =>
        version.State == VersionState.Submitted && !version.NeedsApprover && version.Gates.Count == 0;

    private async Task<IReadOnlyList<(PromptPin Pin, PromptVersionInfo? Prompt)>> LoadPromptsAsync(AppManifest manifest)
    {
        var pins = manifest.Prompts ?? [];
        var loaded = await Task.WhenAll(pins.Select(async pin =>
            (pin, PromptNames.IsValid(pin.Name) && pin.Version >= 1
                ? await GrainFactory.GetGrain<IPromptGrain>(pin.Name).GetAsync(pin.Version)
                : null)));
        return loaded;
    }

    private async Task<(GateResult Gate, RegressionReport Report)> RunRegressionTestsAsync(
        int version, int submission, AppManifest manifest, IReadOnlyList<(PromptPin Pin, PromptVersionInfo? Prompt)> prompts)
    {
        var empty = new RegressionReport([]);
        var missing = prompts.Where(p => p.Prompt is null).Select(p => p.Pin.ToString()).ToList();
        if (missing.Count > 0)
        {
            // Without the app's own prompts the answers would say nothing about the app, and still cost money.
            return (RegressionTestRunner.NotRun($"pinned prompt(s) not in the registry: {string.Join(", ", missing)}", time.GetUtcNow()), empty);
        }

        if (manifest.Tests is null || manifest.Tests.Count == 0)
        {
            return (new GateResult(GateNames.RegressionTests, false, RegressionTestRunner.NoTests, time.GetUtcNow()), empty);
        }

        var app = GrainFactory.GetGrain<IMicroAppGrain>(AppId);
        IssuedKey key;
        try
        {
            key = await app.IssueScopedKeyAsync(KeyKind.Gate, GateHolder, $"regression gate v{version} #{submission}", version);
        }
        catch (Exception ex)
        {
            return (RegressionTestRunner.NotRun($"no gate key could be issued: {ex.Message}", time.GetUtcNow()), empty);
        }

        try
        {
            var gateway = GrainFactory.GetGrain<IGovernedCallGrain>(0);
            var texts = prompts.Select(p => p.Prompt!.Text).ToList();
            var report = await RegressionTestRunner.RunAsync(
                manifest.Tests,
                texts,
                RegressionTestRunner.ThroughTemplate(GrainFactory, AppId, manifest, key.ApiKey, version, submission, time) ?? (async (test, messages) =>
                {
                    var model = string.IsNullOrWhiteSpace(test.Model) ? ModelCatalogOptions.AutoModel : test.Model.Trim();
                    var request = new GovernedChatRequest(key.ApiKey, RegressionTestRunner.RequestId(version, test.Name, submission), model, messages, ChatParameters.None);
                    return WithEstimatedUsage(await gateway.CompleteAsync(request), messages);
                }),
                options.Value.RegressionTestParallelism);
            await RecordQualityEvidenceAsync(version, manifest, texts, report);
            return (RegressionTestRunner.ToGate(report, time.GetUtcNow()), report);
        }
        finally
        {
            try
            {
                await app.RevokeKeyAsync(key.KeyId);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not revoke gate key {KeyId} of {AppId}", key.KeyId, AppId);
            }
        }
    }

    /// <summary>
    /// Each test's result is evidence of how well the model that answered does on the app's query type (see
    /// <see cref="Savings.QualityEvidenceFrom.Regression"/>). Evidence is a by-product: failing to record it never fails the gate.
    /// </summary>
    private async Task RecordQualityEvidenceAsync(int version, AppManifest manifest, IReadOnlyList<string> promptTexts, RegressionReport report)
    {
        var tests = manifest.Tests ?? [];
        var now = time.GetUtcNow();
        for (var i = 0; i < report.Runs.Count && i < tests.Count; i++)
        {
            if (tests[i] is not { } test)
            {
                continue;
            }

            var queryType = Savings.QualityEvidenceFrom.QueryTypeOf(manifest, RegressionTestRunner.Messages(promptTexts, test));
            if (Savings.QualityEvidenceFrom.Regression(AppId, version, report.Runs[i], queryType, now) is not { } evidence)
            {
                continue;
            }

            try
            {
                await GrainFactory.GetGrain<Savings.IModelQualityGrain>(evidence.QueryType).RecordAsync(evidence);
            }
            catch (Exception ex)
            {
                logger.LogWarning(ex, "Could not record regression evidence {EvidenceId}", evidence.EvidenceId);
            }
        }
    }

    /// <summary>
    /// A cached answer reports no usage and costs nothing, which would make max_tokens and max_cost_usd pass
    /// vacuously and the cost estimate $0: re-estimate its tokens and price them at the answering model's rates.
    /// </summary>
    private GovernedChatResult WithEstimatedUsage(GovernedChatResult result, IReadOnlyList<ChatTurn> messages)
    {
        if (result.Outcome != GovernedOutcome.CacheHit)
        {
            return result;
        }

        var usage = new TokenUsage(tokens.CountMessages(messages), tokens.CountText(result.Content));
        var spec = catalog.Resolve(result.Model, "")?.Candidates.FirstOrDefault();
        var cost = spec is null ? 0m : PriceCalculator.Cost(spec, usage.InputTokens, usage.OutputTokens);
        return result with { Usage = usage, CostUsd = cost };
    }

    private async Task<(GateResult Gate, bool NeedsApprover)> EvaluatePolicyAsync(AppManifest manifest)
    {
        PolicyDecision? decision = null;
        string? error = null;
        try
        {
            decision = await GrainFactory.GetGrain<IPolicySetGrain>(PolicySetCache.PolicySetKey).EvaluateAsync(PolicyGate.FactsOf(AppId, manifest));
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Policy evaluation for the promotion of {AppId} failed; an approver will be required", AppId);
            error = ex.Message;
        }

        return PolicyGate.Evaluate(decision, error, time.GetUtcNow());
    }

    // A gate that throws must not leave the version stuck in Submitted: it fails, naming why.
    private GateResult Guard(string gate, Func<GateResult> evaluate)
    {
        try
        {
            return evaluate();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Gate {Gate} of {AppId} could not run", gate, AppId);
            return new GateResult(gate, false, $"the gate could not run: {ex.Message}", time.GetUtcNow());
        }
    }

    private async Task<GateResult> GuardAsync(string gate, Func<Task<GateResult>> evaluate)
    {
        try
        {
            return await evaluate();
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Gate {Gate} of {AppId} could not run", gate, AppId);
            return new GateResult(gate, false, $"the gate could not run: {ex.Message}", time.GetUtcNow());
        }
    }
}
