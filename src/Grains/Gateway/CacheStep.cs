using MicroApps.Orleans.Caching;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Exact-match response cache, scoped to the app. Only requests whose temperature is unset or 0 are
/// cached: a caller who sets a temperature above 0 is asking for varied answers, and serving one stored
/// answer would quietly defeat that. A hit costs $0 and never reaches a backend.
/// </summary>
public sealed class CacheStep(IGrainFactory grains, IOptions<GatewayOptions> options) : IGovernedCallStep
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
        var key = CacheKey.Compute(app.AppId, context.Selection ?? "", context.Messages, parameters, app.PromptVersion);
        var shard = grains.GetGrain<ICacheShardGrain>(CacheKey.ShardFor(key, settings.CacheShards));
        var cached = await shard.GetAsync(key, app.AppId);
        if (cached is not null)
        {
            context.CacheHit = true;
            context.ActualCostUsd = 0m;
            context.ServedModel = cached.Model;

            // The trace records the tokens the cached answer stands for, so the cost dashboard can price what the hit
            // saved; the caller is charged none of them (quotas and the answer's usage count a hit as zero).
            context.Usage = new TokenUsage(cached.InputTokens, cached.OutputTokens);
            context.Decisions.Add("cache:hit");

            // A streaming caller gets the cached answer whole, in the final element, so it learns
            // before any text that this was a cache hit at no cost.
            context.Result = new GovernedChatResult(
                GovernedOutcome.CacheHit, context.RequestId, null, null, null, null,
                cached.Model, cached.Tier, cached.Content, cached.FinishReason, TokenUsage.Zero, 0m, context.Time.GetUtcNow());
            return;
        }

        context.Decisions.Add("cache:miss");
        await next(context);
        if (context.Result is { Outcome: GovernedOutcome.Completed } result)
        {
            var completion = new CachedCompletion(result.Model, result.Tier, result.Content, result.FinishReason, result.Usage.InputTokens, result.Usage.OutputTokens, result.Created);
            await shard.PutAsync(key, app.AppId, completion, settings.CacheTtl);
        }
    }
}
