using Microsoft.Extensions.DependencyInjection;
using System.Text;
using MicroApps.Orleans.Backends;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// The terminal step: tries the candidates in order, reporting each outcome to the tier grain, and
/// charges by the usage the backend reports (by our own count when it reports none). Once a streamed
/// answer has started reaching the caller there is no failover: the caller cannot take back what it saw.
/// </summary>
public sealed class BackendStep(IModelBackends backends, IGrainFactory grains, TokenEstimator tokens, [FromKeyedServices(PlatformClock.Key)] TimeProvider time, ILogger<BackendStep> logger) : IGovernedCallStep
{
    public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        var tier = grains.GetGrain<IModelTierGrain>(context.Tier ?? "");
        var messages = context.Messages.Select(m => new ChatMessage(new ChatRole(m.Role.ToLowerInvariant()), m.Content)).ToList();
        var failures = new List<string>();
        foreach (var candidate in context.Candidates)
        {
            context.Attempts.Add(candidate.Name);
            var started = time.GetTimestamp();
            var attempt = new Attempt();
            try
            {
                var client = backends.GetClient(candidate.Backend, candidate.Name);
                var chatOptions = Options(context, candidate);
                if (context.IsStreaming)
                {
                    await StreamAsync(context, client, messages, chatOptions, attempt);
                }
                else
                {
                    var response = await client.GetResponseAsync(messages, chatOptions, CancellationToken.None);
                    attempt.Text.Append(response.Text);
                    attempt.Usage = response.Usage;
                    attempt.FinishReason = response.FinishReason;
                }
            }
            catch (OperationCanceledException) when (context.CallAborted.IsCancellationRequested)
            {
                // The caller stopped reading: charge what the model already produced, then unwind.
                Charge(context, candidate, attempt);
                context.Decisions.Add($"backend:{candidate.Name}:cancelled-by-caller");
                throw;
            }
            catch (Exception ex)
            {
                await tier.ReportOutcomeAsync(candidate.Name, false, time.GetElapsedTime(started).TotalMilliseconds);
                logger.LogWarning(ex, "Model {Model} on backend {Backend} failed for request {RequestId}", candidate.Name, candidate.Backend, context.RequestId);
                context.Decisions.Add($"backend:{candidate.Name}:failed");
                failures.Add($"{candidate.Name}: {ex.GetType().Name}");
                if (attempt.Emitted)
                {
                    Charge(context, candidate, attempt);
                    context.Fail(GovernedOutcome.BackendFailed, "backend_failed", $"Model '{candidate.Name}' failed while streaming its answer.");
                    return;
                }

                continue;
            }

            await tier.ReportOutcomeAsync(candidate.Name, true, time.GetElapsedTime(started).TotalMilliseconds);
            Charge(context, candidate, attempt);
            context.Decisions.Add($"backend:{candidate.Name}:ok");
            context.Result = new GovernedChatResult(
                GovernedOutcome.Completed, context.RequestId, null, null, null, null,
                candidate.Name, context.Tier ?? "", attempt.Text.ToString(), attempt.FinishReason?.Value ?? "stop",
                context.Usage, context.ActualCostUsd ?? 0m, time.GetUtcNow());
            return;
        }

        context.Fail(
            GovernedOutcome.BackendFailed,
            "backend_unavailable",
            failures.Count == 0
                ? $"Tier '{context.Tier}' has no model to try."
                : $"Every model of tier '{context.Tier}' failed ({string.Join("; ", failures)}).");
    }

    private static ChatOptions Options(GovernedCallContext context, ModelSpec candidate)
    {
        var parameters = context.Request.Parameters;
        return new ChatOptions
        {
            ModelId = candidate.Name,

            // The reservation covered exactly this many output tokens, so the model may not produce more.
            MaxOutputTokens = context.ReservedOutputTokens,
            Temperature = parameters.Temperature,
            TopP = parameters.TopP,
            StopSequences = parameters.Stop is { Count: > 0 } stop ? [.. stop] : null,
        };
    }

    private static async Task StreamAsync(GovernedCallContext context, IChatClient client, List<ChatMessage> messages, ChatOptions chatOptions, Attempt attempt)
    {
        await foreach (var update in client.GetStreamingResponseAsync(messages, chatOptions, context.CallAborted))
        {
            var text = update.Text;
            if (!string.IsNullOrEmpty(text))
            {
                attempt.Text.Append(text);
                attempt.Emitted = true;
                await context.WriteDeltaAsync(text, chatOptions.ModelId ?? "");
            }

            foreach (var usage in update.Contents.OfType<UsageContent>())
            {
                attempt.Usage = usage.Details;
            }

            attempt.FinishReason = update.FinishReason ?? attempt.FinishReason;
        }
    }

    private void Charge(GovernedCallContext context, ModelSpec candidate, Attempt attempt)
    {
        var input = ToInt(attempt.Usage?.InputTokenCount) ?? context.InputTokens;
        var output = ToInt(attempt.Usage?.OutputTokenCount) ?? tokens.CountText(attempt.Text.ToString());
        context.Usage = new TokenUsage(input, output);
        context.ActualCostUsd = PriceCalculator.Cost(candidate, input, output);
        context.ServedModel = candidate.Name;
    }

    private static int? ToInt(long? value) => value is { } v ? (int)Math.Clamp(v, 0, int.MaxValue) : null;

    private sealed class Attempt
    {
        public StringBuilder Text { get; } = new();

        public UsageDetails? Usage { get; set; }

        public ChatFinishReason? FinishReason { get; set; }

        public bool Emitted { get; set; }
    }
}
