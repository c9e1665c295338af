using MicroApps.Orleans.Catalog;

namespace MicroApps.Orleans.Runtime;

/// <summary>
/// The <c>chat-assistant</c> template run as a single run: it starts a new conversation (its id derived from the run
/// id, so a retried run reaches the same one) and answers the input as its first message. Later messages go to the
/// conversation itself (<see cref="IConversationGrain"/>).
/// </summary>
public sealed class ChatAssistantRunner : ITemplateRunner
{
    public string Template => BuiltIns.ChatAssistant;

    public Task<AppRunResult> RunAsync(IRunContext run, AppRunRequest request)
    {
        var fields = new Dictionary<string, string>(request.Fields ?? new Dictionary<string, string>(), StringComparer.Ordinal)
        {
            [ConversationIds.StartField] = "true",
        };
        var conversationId = ConversationIds.ForRun(run.AppId, run.RunId);
        return run.Grains.GetGrain<IConversationGrain>(ConversationIds.GrainKey(run.AppId, conversationId))
            .SendAsync(request with { Fields = fields });
    }
}
