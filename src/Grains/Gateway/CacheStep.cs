using System.Globalization;
using MicroApps.Orleans.Caching;
using MicroApps.Orleans.Savings;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Response cache, scoped to the app: the exact cache, then the near-duplicate cache where the app allows it, and
/// single-flight for identical calls in flight at once. Only requests whose temperature is unset or 0 are cached: a
/// caller who sets a temperature above 0 is asking for varied answers, and serving one stored answer would quietly
/// defeat that. A hit, near hit or shared flight costs $0 and never reaches a backend.
/// </summary>
/// <remarks>
/// Decisions written to the trace: <c>cache:bypass</c>, <c>cache:hit</c>, <c>cache:single-flight</c> (answered by an
/// identical call that was in flight), <c>cache:near-hit:{similarity}</c>, <c>cache:miss</c>. Streaming calls never wait
/// on another call (their caller is reading as the tokens come): they look up and fill the caches but do not join or
/// lead a flight.
/// </remarks>
public sealed class CacheStep(
    IGrainFactory grains,
    IOptions<GatewayOptions> options,
    IOptions<NearDuplicateOptions> nearOptions,
    IOptions<SingleFlightOptions> flightOptions) : IGovernedCallStep
{
    public static bool IsCacheable(ChatParameters parameters) => parameters.Temperature is null or 0f;

    public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        var app = context.App ?? throw new InvalidOperationException("CacheStep runs after admission.");
        var settings = options.Value;
        if (!IsCacheable(context.Request.Parameters) || settings.CacheTtl <= TimeSpan.Zero)
        {
            context.Decisions.Add("cache:bypass");
            await next(context);
            return;
        }

        // The effective output limit is part of the key: a different default changes the answer.
        var parameters = context.Request.Parameters with { MaxTokens = context.ReservedOutputTokens };
        var selection = context.Selection ?? "";
        var key = CacheKey.Compute(app.AppId, selection, context.Messages, parameters, app.PromptVersion);
        var shard = grains.GetGrain<ICacheShardGrain>(CacheKey.ShardFor(key, settings.CacheShards));
        var flight = flightOptions.Value;
        var leader = false;
        if (context.IsStreaming || !flight.Enabled)
        {
            if (await shard.GetAsync(key, app.AppId) is { } cached)
            {
                Serve(context, cached, "cache:hit", SavingKinds.Cache);
                return;
            }
        }
        else
        {
            var found = await shard.GetOrJoinAsync(key, app.AppId, context.RequestId, flight.MaxWait);
            switch (found.Role)
            {
                case FlightRole.Hit when found.Completion is { } cached:
                    Serve(context, cached, "cache:hit", SavingKinds.Cache);
                    return;
                case FlightRole.Joined when found.Completion is { } shared:
                    Serve(context, shared, "cache:single-flight", SavingKinds.Cache);
                    return;
                case FlightRole.Lead:
                    leader = true;
                    break;
                default:
                    // Released: the identical call failed or took too long; this call goes to the backend itself.
                    context.Decisions.Add("cache:single-flight-released");
                    break;
            }
        }

        var threshold = NearDuplicatePolicy.ThresholdFor(app, context.PiiFound, nearOptions.Value);
        string? nearContext = null;
        NearDuplicateSketch? sketch = null;
        try
        {
            if (threshold is { } minimum)
            {
                nearContext = NearDuplicatePolicy.ContextKey(app.AppId, selection, context.Messages, parameters, app.PromptVersion);
                sketch = NearDuplicateSketcher.Sketch(NearDuplicatePolicy.ConversationText(context.Messages));
                if (sketch.IsComparable
                    && await grains.GetGrain<INearDuplicateCacheGrain>(app.AppId).FindAsync(nearContext, sketch, minimum) is { } near)
                {
                    Serve(context, near.Completion, "cache:near-hit:" + near.Similarity.ToString("0.00", CultureInfo.InvariantCulture), SavingKinds.NearDuplicate);
                    return;
                }
            }

            context.Decisions.Add("cache:miss");
            await next(context);
        }
        finally
        {
            // A leader that did not put an answer releases its waiters, whatever happened (a near hit, a failure, an
            // exception): they call the backend themselves rather than wait out their whole wait.
            if (leader && context.Result is not { Outcome: GovernedOutcome.Completed })
            {
                await shard.AbandonAsync(key, app.AppId, context.RequestId);
            }
        }

        if (context.Result is { Outcome: GovernedOutcome.Completed } result)
        {
            var completion = new CachedCompletion(result.Model, result.Tier, result.Content, result.FinishReason, result.Usage.InputTokens, result.Usage.OutputTokens, result.Created);

            // The exact put also answers any identical calls waiting on this one.
            await shard.PutAsync(key, app.AppId, completion, settings.CacheTtl);
            if (nearContext is not null && sketch is { IsComparable: true })
            {
                await grains.GetGrain<INearDuplicateCacheGrain>(app.AppId).PutAsync(nearContext, sketch, completion, settings.CacheTtl);
            }
        }
    }

    private static void Serve(GovernedCallContext context, CachedCompletion cached, string decision, string saving)
    {
        context.CacheHit = true;
        context.ActualCostUsd = 0m;
        context.ServedModel = cached.Model;
        context.Saving = saving;

        // The trace records the tokens the cached answer stands for, so the cost dashboard can price what the hit
        // saved; the caller is charged none of them (quotas and the answer's usage count a hit as zero).
        context.Usage = new TokenUsage(cached.InputTokens, cached.OutputTokens);
        context.Decisions.Add(decision);

        // A streaming caller gets the cached answer whole, in the final element, so it learns
        // before any text that this was a cache hit at no cost.
        context.Result = new GovernedChatResult(
            GovernedOutcome.CacheHit, context.RequestId, null, null, null, null,
            cached.Model, cached.Tier, cached.Content, cached.FinishReason, TokenUsage.Zero, 0m, context.Time.GetUtcNow());
    }
}
