using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Connectors;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;

namespace MicroApps.Orleans.Runtime;

/// <summary>
/// The hosted runtime (see <see cref="IAppRuntimeGrain"/>): resolves what the caller's key reaches, builds the run's
/// context and hands the run to the template's runner. Stateless: a run's durable effects are its governed calls
/// (idempotent by request id) and the grains its runner calls (a conversation, a workflow).
/// </summary>
[StatelessWorker]
public sealed class AppRuntimeGrain(
    IEnumerable<ITemplateRunner> runners,
    IOptions<RuntimeOptions> options,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    TokenEstimator tokens,
    IConnectorGateway connectors,
    ILogger<AppRuntimeGrain> logger) : Grain, IAppRuntimeGrain
{
    private readonly IReadOnlyList<ITemplateRunner> _runners = [.. runners];

    public async Task<AppRunResult> RunAsync(string appId, AppRunRequest request)
    {
        var (setup, failure) = await RunSetup.PrepareAsync(GrainFactory, options.Value, appId, request);
        if (failure is not null)
        {
            return failure;
        }

        var runner = _runners.FirstOrDefault(r => string.Equals(r.Template, setup!.Template.Name, StringComparison.Ordinal));
        if (runner is null)
        {
            return AppRunResult.Failure(RunOutcome.Forbidden, request.RunId, "template_not_runnable",
                $"The template {setup!.Template.Ref} of app '{appId}' cannot be run by this platform.");
        }

        using var run = new RunContext(setup!, request.ApiKey, request.RunId, request.User ?? request.RunId, GrainFactory, time, tokens, connectors);
        var result = await runner.RunAsync(run, request);

        // A conversation runs the app's chains on each reply itself; a pending workflow has no final output yet.
        if (result.Outcome == RunOutcome.Completed && run.Chains.Count > 0 && runner.Template != BuiltIns.ChatAssistant)
        {
            var maxOutput = TemplateParameters.Integer(run.Parameters, "maxOutputTokens", 512);
            var (output, chainFailure) = await run.RunChainsAsync(result.Output, maxOutput);
            result = chainFailure ?? run.Complete(output, result.Details);
        }

        logger.LogDebug("Run {RunId} of {AppId} ({Template}): {Outcome} in {Steps} step(s)", request.RunId, appId, runner.Template, result.Outcome, result.Steps.Count);
        return result;
    }
}
