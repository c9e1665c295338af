using Microsoft.Extensions.DependencyInjection;
using System.Security.Cryptography;
using System.Text;
using MicroApps.Orleans.Caching;
using MicroApps.Orleans.Telemetry;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Writes one <see cref="TraceEvent"/> and the metrics for every call, whatever its outcome. It is
/// registered first so it wraps every other step: refusals by any later step are traced too.
/// The prompt appears only as a SHA-256 hash of the normalised messages (and, for apps that opted in, as a
/// redacted <see cref="PromptSample"/>). Every sink is awaited before the call is answered: the durable sink
/// (<see cref="TraceWriter"/>) returns once the event is stored or its write timeout passed, so an answered call's
/// event survives a silo crash.
/// </summary>
public sealed class TraceStep(IEnumerable<ITraceSink> sinks, GatewayMetrics metrics, [FromKeyedServices(PlatformClock.Key)] TimeProvider time, ILogger<TraceStep> logger) : IGovernedCallStep
{
    private readonly ITraceSink[] _sinks = sinks.ToArray();

    public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        var started = time.GetTimestamp();
        Exception? error = null;
        try
        {
            await next(context);
        }
        catch (Exception ex)
        {
            error = ex;
            throw;
        }
        finally
        {
            var traceEvent = new TraceEvent(
                context.AppId ?? "",
                context.RequestId,
                context.ServedModel ?? context.Request.Model ?? "",
                context.Tier ?? "",
                context.Usage.InputTokens,
                context.Usage.OutputTokens,
                time.GetElapsedTime(started).TotalMilliseconds,
                context.App?.PromptVersion ?? "",
                context.EstimatedCostUsd,
                context.CacheHit ? "cache" : $"{context.Tier}:{string.Join(">", context.Attempts)}",
                context.Result is { } result ? TraceOutcomes.Of(result.Outcome) : TraceOutcomes.Error,
                null,
                context.App?.Team ?? "",
                PromptHash(context.Messages),
                context.CacheHit,
                context.ActualCostUsd ?? 0m,
                time.GetUtcNow(),
                context.Decisions.ToArray(),
                context.Policy?.Summary,
                context.Policy?.Matches.Select(PolicyStep.Describe).ToArray(),
                context.PiiFound,
                context.Policy?.PolicyVersion ?? context.PolicySet?.Version ?? 0,
                context.Result?.ErrorCode ?? (error is null ? null : error is OperationCanceledException ? "cancelled" : "gateway_error"),
                context.QueryType,
                context.BaselineModel is { } baseline ? PriceCalculator.Cost(baseline, context.Usage.InputTokens, context.Usage.OutputTokens) : null,
                SavingOf(context),
                context.RouteReason);
            try
            {
                metrics.Record(traceEvent);
                var sample = PromptSampler.Capture(context);
                foreach (var sink in _sinks)
                {
                    await sink.RecordAsync(traceEvent, sample);
                }
            }
            catch (Exception ex)
            {
                // Telemetry must never fail a call that has already been answered and charged.
                logger.LogError(ex, "Recording the trace of request {RequestId} failed", context.RequestId);
            }
        }
    }

    /// <summary>
    /// Why the call cost less than its baseline: what a savings step recorded, else an exact cache hit, else none.
    /// Refused calls have no saving.
    /// </summary>
    public static string? SavingOf(GovernedCallContext context) =>
        context.Result is not { IsSuccess: true } ? null
        : context.Saving ?? (context.CacheHit ? Savings.SavingKinds.Cache : Savings.SavingKinds.None);

    /// <summary>SHA-256 over the normalised messages (role and whitespace-collapsed content), lower-case hex.</summary>
    public static string PromptHash(IReadOnlyList<ChatTurn>? messages)
    {
        var builder = new StringBuilder();
        foreach (var message in messages ?? [])
        {
            var content = CacheKey.Normalize(message?.Content);
            var role = message?.Role?.Trim().ToLowerInvariant() ?? "";
            builder.Append(role.Length).Append(':').Append(role).Append('|').Append(content.Length).Append(':').Append(content).Append('|');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(builder.ToString())));
    }
}
