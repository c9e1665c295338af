using System.Globalization;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Connectors;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MicroApps.Orleans.Runtime;

/// <summary>
/// One conversation of a chat-assistant app (see <see cref="IConversationGrain"/>). Each message is answered with the
/// history trimmed oldest-first to fit the app's <c>maxHistoryTokens</c>, the model's context window and the run's
/// token limit; the turn is stored before the reply, and a retried message (same run id) gets the stored answer.
/// </summary>
public sealed class ConversationGrain(
    [PersistentState("conversation", "store")] IPersistentState<ConversationState> state,
    IOptions<RuntimeOptions> options,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    TokenEstimator tokens,
    IConnectorGateway connectors,
    ModelCatalog models) : Grain, IConversationGrain
{
    /// <summary>Answers remembered for retries.</summary>
    public const int RunsRemembered = 100;

    private ConversationState S => state.State;

    private string AppId => this.GetPrimaryKeyString().Split('/', 2)[0];

    private string ConversationId => this.GetPrimaryKeyString().Split('/', 2) is [_, var id] ? id : "";

    public async Task<AppRunResult> SendAsync(AppRunRequest request)
    {
        var runId = request.RunId ?? "";
        if (!ApiKeys.TryParse(request.ApiKey, out var keyApp, out _, out _) || keyApp != AppId)
        {
            // A key of another app learns nothing about this app's conversations.
            return NotFound(runId);
        }

        var start = request.Fields?.TryGetValue(ConversationIds.StartField, out var flag) == true && flag == "true";
        if (!start && !S.Exists)
        {
            return NotFound(runId);
        }

        var (setup, refused) = await RunSetup.PrepareAsync(GrainFactory, options.Value, AppId, request);
        if (refused is not null)
        {
            return refused;
        }

        if (setup!.Template.Name != BuiltIns.ChatAssistant)
        {
            return AppRunResult.Failure(RunOutcome.Forbidden, runId, "not_a_chat_app",
                $"App '{AppId}' runs the {setup.Template.Name} template, which has no conversations.");
        }

        if (S.Runs.TryGetValue(runId, out var answered))
        {
            return answered;
        }

        if (start && S.Exists)
        {
            return AppRunResult.Failure(RunOutcome.Conflict, runId, "conversation_exists", $"Conversation '{ConversationId}' already exists.");
        }

        using var run = new RunContext(setup, request.ApiKey, runId, request.User ?? runId, GrainFactory, time, tokens, connectors);
        var input = request.Input ?? "";
        if (start && string.IsNullOrWhiteSpace(input))
        {
            Open(run);
            return await RememberAsync(run.Complete(Greeting(run) ?? "", Details(0)));
        }

        if (string.IsNullOrWhiteSpace(input))
        {
            return run.Fail(RunOutcome.InvalidRequest, "missing_content", "content is required", "content");
        }

        var systemPrompt = TemplateParameters.Text(run.Parameters, "systemPrompt");
        var maxOutput = TemplateParameters.Integer(run.Parameters, "maxOutputTokens", 512);
        var maxHistory = TemplateParameters.Integer(run.Parameters, "maxHistoryTokens", 3000);
        var tier = TemplateParameters.Text(run.Parameters, "tier", "standard");

        // Starting a conversation with a message puts the greeting first, as a reader of the conversation saw it.
        var history = start ? Opening(run) : S.Messages;
        var system = new ChatTurn("system", systemPrompt);
        var user = new ChatTurn("user", input);
        var fixedTokens = run.EstimateCall([system, user], maxOutput);
        var budget = HistoryTrimmer.Budget(maxHistory, ContextWindow(tier), run.Limits.MaxTokens);
        if (HistoryTrimmer.MessagesToDrop([.. history.Select(m => m.Tokens)], fixedTokens, budget) is not { } drop)
        {
            return run.Fail(RunOutcome.InvalidRequest, "message_too_long",
                $"the message with the system prompt and an answer of up to {maxOutput} tokens needs about {fixedTokens} tokens, more than the {budget} a turn may use", "content");
        }

        var kept = history.Skip(drop).ToList();
        IReadOnlyList<ChatTurn> messages = [system, .. kept.Select(m => new ChatTurn(m.Role, m.Content)), user];
        var reply = await run.CallModelAsync("reply", messages, maxOutput);
        if (!reply.Ok)
        {
            return reply.Failure!;
        }

        var (output, chainFailure) = await run.RunChainsAsync(reply.Content, maxOutput);
        if (chainFailure is not null)
        {
            return chainFailure;
        }

        if (start)
        {
            Open(run);
        }

        var now = time.GetUtcNow();
        S.Messages = kept;
        S.TrimmedMessages += drop;
        S.Messages.Add(new ConversationMessage("user", input, now, reply.Result.RequestId, MessageTokens(user)));
        var assistant = new ConversationMessage("assistant", output, now, reply.Result.RequestId, MessageTokens(new ChatTurn("assistant", output)));
        S.Messages.Add(assistant);
        var overflow = S.Messages.Count - options.Value.Conversation.MaxMessages;
        if (overflow > 0)
        {
            S.Messages.RemoveRange(0, overflow);
            S.TrimmedMessages += overflow;
            drop += overflow;
        }

        return await RememberAsync(run.Complete(output, Details(drop)));
    }

    public async Task<ConversationView?> GetAsync(string apiKey)
    {
        if (!S.Exists || !ApiKeys.TryParse(apiKey, out var keyApp, out var keyId, out var secret) || keyApp != AppId)
        {
            return null;
        }

        if (await GrainFactory.GetGrain<IMicroAppGrain>(AppId).AuthenticateAsync(keyId, secret) is null)
        {
            return null;
        }

        return new ConversationView(ConversationId, AppId, [.. S.Messages], S.TrimmedMessages, S.TokensUsed, S.CostUsd);
    }

    private void Open(RunContext run)
    {
        S.Messages = Opening(run);
        S.Exists = true;
        S.AppId = AppId;
        S.CreatedAt = time.GetUtcNow();
    }

    private List<ConversationMessage> Opening(RunContext run) =>
        Greeting(run) is { } greeting
            ? [new ConversationMessage("assistant", greeting, time.GetUtcNow(), "", MessageTokens(new ChatTurn("assistant", greeting)))]
            : [];

    private static string? Greeting(RunContext run) =>
        TemplateParameters.Text(run.Parameters, "greeting") is { Length: > 0 } greeting ? greeting : null;

    private async Task<AppRunResult> RememberAsync(AppRunResult result)
    {
        // Plain lists and dictionaries: JSON grain storage records runtime types, and must be able to create them again.
        result = result with
        {
            Steps = result.Steps.ToList(),
            Details = result.Details is null ? null : new Dictionary<string, string>(result.Details),
        };
        S.TokensUsed += result.Usage.TotalTokens;
        S.CostUsd += result.CostUsd;
        S.Runs[result.RunId] = result;
        S.RunOrder.Add(result.RunId);
        while (S.RunOrder.Count > RunsRemembered)
        {
            S.Runs.Remove(S.RunOrder[0]);
            S.RunOrder.RemoveAt(0);
        }

        // Durable before the reply: a caller that saw the answer finds it in the history, and a retry is not charged.
        await state.WriteStateAsync();
        return result;
    }

    private Dictionary<string, string> Details(int trimmed) => new()
    {
        ["conversationId"] = ConversationId,
        ["trimmedMessages"] = trimmed.ToString(CultureInfo.InvariantCulture),
        ["historyMessages"] = S.Messages.Count.ToString(CultureInfo.InvariantCulture),
    };

    private int MessageTokens(ChatTurn turn) =>
        TokenEstimator.TokensPerMessage + tokens.CountText(turn.Role) + tokens.CountText(turn.Content);

    /// <summary>The smallest context window among the tier's models (the router may pick any of them); 0 when the tier is unknown here.</summary>
    private long ContextWindow(string tier) =>
        models.ModelsOf(tier) is { Count: > 0 } specs ? specs.Min(s => s.ContextWindow) : 0;

    private AppRunResult NotFound(string runId) =>
        AppRunResult.Failure(RunOutcome.NotFound, runId, "conversation_not_found", $"There is no conversation '{ConversationId}' of app '{AppId}' for this key.");
}
