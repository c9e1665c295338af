using System.Security.Cryptography;
using System.Text;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Batch;

/// <summary>
/// One batch job: its items and each item's result, durable before every reply. The pool claims items and records
/// their governed calls' answers here; which items are running is memory only, so after a crash every unfinished item
/// is queued again under the same attempt (the same request id), and a call that had completed answers
/// <c>duplicate_request_id</c> instead of charging twice.
/// </summary>
/// <remarks>
/// The job runs under its own production key of the app, issued at submission and revoked when the job ends; the
/// caller's key is never stored. That key is a secret kept in the grain state until then (docs/savings-batch.md).
/// </remarks>
public sealed class BatchJobGrain(
    [PersistentState("batchjob", "store")] IPersistentState<BatchJobState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    IOptionsMonitor<BatchPoolOptions> pools,
    ModelCatalog catalog,
    ILogger<BatchJobGrain> logger) : Grain, IBatchJobGrain
{
    // Items handed to the pool activation named by _epoch and not yet recorded.
    private readonly HashSet<string> _running = new(StringComparer.Ordinal);
    private Guid _epoch;

    private BatchJobState S => state.State;

    private string JobId => this.GetPrimaryKeyString();

    private BatchPoolOptions PoolOptions => OptionsOf(pools, S.Pool);

    internal static BatchPoolOptions OptionsOf(IOptionsMonitor<BatchPoolOptions> pools, string pool) =>
        pools.Get(pool == BatchJobRules.DefaultPool ? Options.DefaultName : pool);

    public async Task<BatchJobReply> SubmitAsync(BatchJobSubmission submission)
    {
        ArgumentNullException.ThrowIfNull(submission);
        if (!BatchJobRules.IsValidJobId(JobId))
        {
            return BatchJobReply.Refused(BatchReplyOutcome.Invalid, "invalid_job_id", $"'{JobId}' is not a batch job id (batch_ and 32 hex digits).", "id");
        }

        var (appId, profile) = await AuthenticateAsync(submission.ApiKey);
        if (profile is null)
        {
            return Unauthorized();
        }

        var pool = string.IsNullOrWhiteSpace(submission.Pool) ? BatchJobRules.DefaultPool : submission.Pool.Trim();
        var options = OptionsOf(pools, pool);
        var items = submission.Requests ?? [];
        if (Validate(items, options, profile) is { } invalid)
        {
            return invalid;
        }

        var hash = Hash(appId!, pool, submission.NotBefore, items);
        if (S.Exists)
        {
            if (S.AppId != appId || S.SubmissionHash != hash)
            {
                return BatchJobReply.Refused(BatchReplyOutcome.Conflict, "job_id_taken", $"Batch job '{JobId}' already exists with a different submission.", "id");
            }

            // A retried submission: finish what the first may not have (queuing it), answer the same job.
            await EnsureEnqueuedAsync();
            return Reply(false);
        }

        // The job's own key: revocable on its own and never the caller's key, which is not stored.
        var key = await GrainFactory.GetGrain<IMicroAppGrain>(appId!).IssueKeyAsync($"batch job {JobId}");
        S.Exists = true;
        S.AppId = appId!;
        S.Pool = pool;
        S.Tier = catalog.Resolve(options.Tier, options.Tier)?.Tier ?? options.Tier;
        S.Status = BatchJobStatuses.Queued;
        S.CreatedAt = time.GetUtcNow();
        S.NotBefore = submission.NotBefore;
        S.JobKey = key.ApiKey;
        S.JobKeyId = key.KeyId;
        S.SubmissionHash = hash;
        S.Items = [.. items.Select(i => new BatchItemState { Request = Normalise(i) })];
        await state.WriteStateAsync();
        await EnsureEnqueuedAsync();
        logger.LogInformation("Batch job {JobId} of app {AppId}: {Items} items queued on pool {Pool} (tier {Tier})", JobId, appId, S.Items.Count, pool, S.Tier);
        return Reply(false);
    }

    public async Task<BatchJobReply> GetAsync(string apiKey) => await OwnJobAsync(apiKey) ?? Reply(false);

    public async Task<BatchJobReply> GetResultsAsync(string apiKey) => await OwnJobAsync(apiKey) ?? Reply(true);

    public async Task<BatchJobReply> CancelAsync(string apiKey)
    {
        if (await OwnJobAsync(apiKey) is { } refused)
        {
            return refused;
        }

        if (S.Status is BatchJobStatuses.Completed or BatchJobStatuses.Cancelled)
        {
            return Reply(false);
        }

        S.Status = BatchJobStatuses.Cancelled;
        foreach (var item in S.Items.Where(i => !BatchItemStatuses.IsFinal(i.Status) && !_running.Contains(i.Request.CustomId)))
        {
            item.Status = BatchItemStatuses.Cancelled;
        }

        await FinishIfDoneAsync();
        await state.WriteStateAsync();
        logger.LogInformation("Batch job {JobId} of app {AppId} cancelled; {Running} items still running", JobId, S.AppId, _running.Count);
        return Reply(false);
    }

    public async Task<BatchClaim> ClaimAsync(Guid poolEpoch, int max)
    {
        if (!S.Exists)
        {
            return new BatchClaim([], Finished: true);
        }

        if (poolEpoch != _epoch)
        {
            // A new pool activation: the one that claimed these items is gone, so they run again under the same attempt.
            _running.Clear();
            _epoch = poolEpoch;
        }

        if (S.Status is BatchJobStatuses.Completed or BatchJobStatuses.Cancelled)
        {
            if (_running.Count == 0)
            {
                await FinishIfDoneAsync();
                return new BatchClaim([], Finished: S.KeyRevoked || S.JobKey is null);
            }

            return new BatchClaim([], Finished: false);
        }

        var now = time.GetUtcNow();
        if (S.NotBefore is { } notBefore && now < notBefore)
        {
            return new BatchClaim([], Finished: false);
        }

        var claimed = new List<BatchWorkItem>();
        foreach (var item in S.Items)
        {
            if (claimed.Count >= max)
            {
                break;
            }

            if (item.Status != BatchItemStatuses.Queued || _running.Contains(item.Request.CustomId) || item.RetryAt > now)
            {
                continue;
            }

            _running.Add(item.Request.CustomId);
            claimed.Add(new BatchWorkItem(JobId, item.Request.CustomId, item.Attempt, GovernedRequest(item)));
        }

        if (claimed.Count > 0 && S.Status == BatchJobStatuses.Queued)
        {
            S.Status = BatchJobStatuses.Running;
            await state.WriteStateAsync();
        }

        return new BatchClaim(claimed, Finished: false);
    }

    public async Task RecordAsync(Guid poolEpoch, string customId, int attempt, GovernedChatResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var item = Find(customId);
        if (item is null || BatchItemStatuses.IsFinal(item.Status) || item.Attempt != attempt)
        {
            // A repeat of an answer already recorded, or of an attempt already superseded.
            return;
        }

        _running.Remove(customId);
        var now = time.GetUtcNow();
        var options = PoolOptions;
        switch (result.Outcome)
        {
            case GovernedOutcome.Completed or GovernedOutcome.CacheHit:
                Complete(item, result.Content, result.Model, result.Usage, result.CostUsd, null, null);
                break;

            case GovernedOutcome.InvalidRequest when result.ErrorCode == "duplicate_request_id":
                // This attempt's request id was closed before: settled by a call whose answer a crash lost, or released.
                var charged = await ChargedForAsync(BatchJobRules.RequestId(JobId, customId, attempt));
                if (charged is { } cost)
                {
                    Complete(item, null, null, TokenUsage.Zero, cost, "result_not_kept",
                        "The call completed and was charged before a restart, but its answer was not recorded; it was not run (or charged) again.");
                }
                else
                {
                    NextAttempt(item, options, "backend_failed", "An earlier attempt was released without an answer.");
                }

                break;

            case GovernedOutcome.QuotaExceeded:
                Defer(item, now, result.RetryAfter ?? TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
                break;

            case GovernedOutcome.BudgetExceeded when result.ErrorCode == "budget_exceeded" && (result.RetryAfter ?? TimeSpan.MaxValue) <= options.MaxBudgetWait:
                Defer(item, now, result.RetryAfter!.Value, options.MaxBudgetWait);
                break;

            case GovernedOutcome.BackendFailed:
                NextAttempt(item, options, result.ErrorCode ?? "backend_failed", result.ErrorMessage ?? "The model failed.");
                break;

            default:
                Fail(item, result.ErrorCode ?? result.Outcome.ToString(), result.ErrorMessage ?? "The call was refused.");
                break;
        }

        if (S.Status == BatchJobStatuses.Cancelled && item.Status == BatchItemStatuses.Queued)
        {
            item.Status = BatchItemStatuses.Cancelled;
        }

        await FinishIfDoneAsync();
        await state.WriteStateAsync();
    }

    public Task ReleaseAsync(Guid poolEpoch, string customId, int attempt, string reason)
    {
        // Nothing is known about the call, so the item runs again under the same attempt: charged once either way.
        if (Find(customId) is { } item && item.Attempt == attempt)
        {
            _running.Remove(customId);
            logger.LogWarning("Batch job {JobId} item {CustomId} attempt {Attempt} got no answer ({Reason}); it will run again", JobId, customId, attempt, reason);
        }

        return Task.CompletedTask;
    }

    private BatchItemState? Find(string customId) => S.Items.Find(i => i.Request.CustomId == customId);

    private static void Complete(BatchItemState item, string? content, string? model, TokenUsage usage, decimal cost, string? code, string? message)
    {
        item.Status = BatchItemStatuses.Completed;
        item.Content = content;
        item.Model = model;
        item.Usage = usage;
        item.CostUsd = cost;
        item.ErrorCode = code;
        item.ErrorMessage = message;
        item.RetryAt = null;
    }

    private static void Fail(BatchItemState item, string code, string message)
    {
        item.Status = BatchItemStatuses.Failed;
        item.ErrorCode = code;
        item.ErrorMessage = message;
        item.RetryAt = null;
    }

    private static void NextAttempt(BatchItemState item, BatchPoolOptions options, string code, string message)
    {
        if (item.Attempt >= options.MaxAttempts)
        {
            Fail(item, code, $"{message} (after {item.Attempt} attempts)");
            return;
        }

        // The failed attempt's reservation was released and its request id closed: the next attempt needs its own.
        item.Attempt++;
        item.ErrorCode = code;
        item.ErrorMessage = message;
    }

    private static void Defer(BatchItemState item, DateTimeOffset now, TimeSpan wait, TimeSpan longest)
    {
        item.Deferrals++;
        item.RetryAt = now + TimeSpan.FromTicks(Math.Clamp(wait.Ticks, TimeSpan.FromSeconds(1).Ticks, Math.Max(longest.Ticks, TimeSpan.FromSeconds(1).Ticks)));
    }

    /// <summary>What the app's budget charged for a closed request id, or null when it was released (or is unknown).</summary>
    private async Task<decimal?> ChargedForAsync(string requestId)
    {
        var app = await GrainFactory.GetGrain<IMicroAppGrain>(S.AppId).GetAsync();
        if (app is null)
        {
            return null;
        }

        // The reservation is closed (that is what duplicate_request_id says), so settling it again changes nothing:
        // the budget answers what it charged, or that it only released it.
        var settled = await GrainFactory.GetGrain<IBudgetGrain>(app.EffectiveBudgetId).SettleAsync($"{S.AppId}/{requestId}", 0m);
        return settled.Outcome == SettleOutcome.AlreadySettled ? settled.ChargedUsd : null;
    }

    /// <summary>Marks the job completed when every item is final, and revokes its key once nothing runs any more.</summary>
    private async Task FinishIfDoneAsync()
    {
        if (S.Status is BatchJobStatuses.Queued or BatchJobStatuses.Running && S.Items.All(i => BatchItemStatuses.IsFinal(i.Status)))
        {
            S.Status = BatchJobStatuses.Completed;
        }

        if (S.Status is not (BatchJobStatuses.Completed or BatchJobStatuses.Cancelled) || _running.Count > 0)
        {
            return;
        }

        S.FinishedAt ??= time.GetUtcNow();
        if (S.JobKey is null)
        {
            return;
        }

        try
        {
            await GrainFactory.GetGrain<IMicroAppGrain>(S.AppId).RevokeKeyAsync(S.JobKeyId);
            S.JobKey = null;
            S.KeyRevoked = true;
        }
        catch (Exception ex)
        {
            // Tried again the next time the pool claims from the job (it keeps the job until the key is revoked).
            logger.LogWarning(ex, "Batch job {JobId} could not revoke its key {KeyId} yet", JobId, S.JobKeyId);
        }
    }

    private async Task EnsureEnqueuedAsync()
    {
        if (S.Enqueued)
        {
            return;
        }

        await GrainFactory.GetGrain<IBatchPoolGrain>(S.Pool).EnqueueAsync(JobId);
        S.Enqueued = true;
        await state.WriteStateAsync();
    }

    private GovernedChatRequest GovernedRequest(BatchItemState item)
    {
        var model = string.IsNullOrWhiteSpace(item.Request.Model) || item.Request.Model == "auto" ? S.Tier : item.Request.Model;
        return new GovernedChatRequest(S.JobKey ?? "", BatchJobRules.RequestId(JobId, item.Request.CustomId, item.Attempt), model,
            item.Request.Messages, item.Request.Parameters);
    }

    private async Task<(string? AppId, AppProfile? Profile)> AuthenticateAsync(string? apiKey)
    {
        if (!ApiKeys.TryParse(apiKey, out var appId, out var keyId, out var secret))
        {
            return (null, null);
        }

        return (appId, await GrainFactory.GetGrain<IMicroAppGrain>(appId).AuthenticateAsync(keyId, secret));
    }

    /// <summary>Null when the key's app owns this job; otherwise the refusal (another app's job is not found).</summary>
    private async Task<BatchJobReply?> OwnJobAsync(string apiKey)
    {
        var (appId, profile) = await AuthenticateAsync(apiKey);
        if (profile is null)
        {
            return Unauthorized();
        }

        return S.Exists && S.AppId == appId
            ? null
            : BatchJobReply.Refused(BatchReplyOutcome.NotFound, "batch_job_not_found", $"This app has no batch job '{JobId}'.", "id");
    }

    private static BatchJobReply Unauthorized() =>
        BatchJobReply.Refused(BatchReplyOutcome.Unauthorized, "invalid_api_key", "The API key is unknown, malformed or revoked, or its app may not call.");

    private BatchJobReply? Validate(IReadOnlyList<BatchItemRequest> items, BatchPoolOptions options, AppProfile profile)
    {
        var tier = catalog.Resolve(options.Tier, options.Tier)?.Tier;
        if (tier is null || catalog.ModelsOf(tier).Count == 0)
        {
            return Invalid($"The batch pool's tier '{options.Tier}' has no models configured.", "model", "pool_tier_unavailable");
        }

        if (!profile.AllowedTiers.Contains(tier, StringComparer.OrdinalIgnoreCase))
        {
            return Invalid($"Batch jobs run on tier '{tier}', which app '{profile.AppId}' may not use (allowed: {string.Join(", ", profile.AllowedTiers)}).",
                "model", "tier_not_allowed");
        }

        if (items.Count == 0)
        {
            return Invalid("'requests' must hold at least one request.", "requests", "missing_required_parameter");
        }

        if (items.Count > options.MaxItemsPerJob)
        {
            return Invalid($"'requests' holds {items.Count} requests; a batch job takes at most {options.MaxItemsPerJob}.", "requests", "too_many_requests");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            var path = $"requests[{i}]";
            if (item is null)
            {
                return Invalid($"'{path}' must be a request object.", path, "invalid_type");
            }

            if (!BatchJobRules.IsValidCustomId(item.CustomId))
            {
                return Invalid($"'{path}.custom_id' must be 1–{BatchJobRules.MaxCustomIdLength} characters of letters, digits, '-', '_', '.' or ':'.",
                    $"{path}.custom_id", "invalid_custom_id");
            }

            if (!seen.Add(item.CustomId))
            {
                return Invalid($"'{path}.custom_id' '{item.CustomId}' is used by an earlier request of the job; custom ids must be unique.",
                    $"{path}.custom_id", "duplicate_custom_id");
            }

            if (item.Messages is not { Count: > 0 })
            {
                return Invalid($"'{path}.messages' must be a non-empty array of messages.", $"{path}.messages", "missing_required_parameter");
            }

            for (var m = 0; m < item.Messages.Count; m++)
            {
                var turn = item.Messages[m];
                if (turn is null || !ChatRequestRules.Roles.Contains(turn.Role ?? ""))
                {
                    return Invalid($"'{path}.messages[{m}].role' must be one of {ChatRequestRules.RolesText}.", $"{path}.messages[{m}].role", "invalid_value");
                }

                if (turn.Content is null)
                {
                    return Invalid($"'{path}.messages[{m}].content' is required.", $"{path}.messages[{m}].content", "missing_required_parameter");
                }
            }

            if (item.Parameters?.MaxTokens is <= 0)
            {
                return Invalid($"'{path}.max_tokens' must be a positive integer.", $"{path}.max_tokens", "invalid_value");
            }

            var model = item.Model?.Trim();
            if (!string.IsNullOrEmpty(model) && model != "auto"
                && !string.Equals(model, tier, StringComparison.OrdinalIgnoreCase)
                && !catalog.ModelsOf(tier).Any(spec => string.Equals(spec.Name, model, StringComparison.OrdinalIgnoreCase)))
            {
                return Invalid($"'{path}.model' is '{model}', but batch jobs run on tier '{tier}': leave it out, or name the tier or one of its models "
                    + $"({string.Join(", ", catalog.ModelsOf(tier).Select(s => s.Name))}).", $"{path}.model", "model_not_in_pool");
            }
        }

        return null;
    }

    private static BatchJobReply Invalid(string message, string param, string code) =>
        BatchJobReply.Refused(BatchReplyOutcome.Invalid, code, message, param);

    private static BatchItemRequest Normalise(BatchItemRequest item) =>
        item with { Parameters = item.Parameters ?? ChatParameters.None, Model = string.IsNullOrWhiteSpace(item.Model) ? null : item.Model.Trim() };

    private static string Hash(string appId, string pool, DateTimeOffset? notBefore, IReadOnlyList<BatchItemRequest> items)
    {
        var text = new StringBuilder().Append(appId).Append('\n').Append(pool).Append('\n').Append(notBefore?.ToUnixTimeMilliseconds()).Append('\n');
        foreach (var item in items)
        {
            text.Append(item.CustomId).Append('\u001f').Append(item.Model).Append('\u001f').Append(item.Parameters?.MaxTokens).Append('\u001f')
                .Append(item.Parameters?.Temperature).Append('\u001f').Append(item.Parameters?.TopP).Append('\u001f');
            foreach (var turn in item.Messages)
            {
                text.Append(turn.Role).Append('\u001e').Append(turn.Content).Append('\u001e');
            }

            text.Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())));
    }

    private BatchJobReply Reply(bool withResults)
    {
        var counts = new BatchJobCounts(
            S.Items.Count,
            S.Items.Count(i => i.Status == BatchItemStatuses.Queued && !_running.Contains(i.Request.CustomId)),
            S.Items.Count(i => i.Status == BatchItemStatuses.Queued && _running.Contains(i.Request.CustomId)),
            S.Items.Count(i => i.Status == BatchItemStatuses.Completed),
            S.Items.Count(i => i.Status == BatchItemStatuses.Failed),
            S.Items.Count(i => i.Status == BatchItemStatuses.Cancelled));
        var view = new BatchJobView(JobId, S.AppId, S.Status, S.Pool, S.Tier, S.CreatedAt, S.NotBefore, S.FinishedAt, counts, S.Items.Sum(i => i.CostUsd));
        IReadOnlyList<BatchItemResult>? results = withResults
            ? [.. S.Items.Select(i => new BatchItemResult(
                i.Request.CustomId,
                i.Status == BatchItemStatuses.Queued && _running.Contains(i.Request.CustomId) ? BatchItemStatuses.Running : i.Status,
                i.Content, i.Model, i.Usage, i.CostUsd, i.ErrorCode, i.ErrorMessage, i.Attempt,
                BatchJobRules.RequestId(JobId, i.Request.CustomId, i.Attempt)))]
            : null;
        return new BatchJobReply(BatchReplyOutcome.Ok, view, results);
    }
}
