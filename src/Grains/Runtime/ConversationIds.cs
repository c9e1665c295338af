using System.Security.Cryptography;
using System.Text;

namespace MicroApps.Orleans.Runtime;

/// <summary>Conversation ids and grain keys.</summary>
public static class ConversationIds
{
    /// <summary>Field of <see cref="AppRunRequest.Fields"/> that asks <see cref="IConversationGrain.SendAsync"/> to start the conversation.</summary>
    public const string StartField = "startConversation";

    public const int MaxLength = 64;

    /// <summary>The id of the conversation a run starts: derived from the run id, so a retried start reaches the same conversation.</summary>
    public static string ForRun(string appId, string runId) =>
        "c" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{appId}/{runId}")))[..24];

    public static string GrainKey(string appId, string conversationId) => $"{appId}/{conversationId}";

    /// <summary>Ids of 1-64 letters, digits, '-' and '_'.</summary>
    public static bool IsValid(string? conversationId) =>
        conversationId is { Length: > 0 and <= MaxLength } && conversationId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_');
}
