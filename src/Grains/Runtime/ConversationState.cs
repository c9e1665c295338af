namespace MicroApps.Orleans.Runtime;

/// <summary>Stored state of one conversation. Never renumber the ids: stored state depends on them.</summary>
[GenerateSerializer, Alias("microapps.ConversationState")]
public sealed class ConversationState
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public string AppId { get; set; } = "";
    [Id(2)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The history kept, oldest first.</summary>
    [Id(3)] public List<ConversationMessage> Messages { get; set; } = [];

    /// <summary>Messages dropped from the front over the conversation's life.</summary>
    [Id(4)] public int TrimmedMessages { get; set; }

    [Id(5)] public long TokensUsed { get; set; }
    [Id(6)] public decimal CostUsd { get; set; }

    /// <summary>The answers of the most recent runs by run id, so a retried message returns its first answer uncharged.</summary>
    [Id(7)] public Dictionary<string, AppRunResult> Runs { get; set; } = [];

    /// <summary>The run ids of <see cref="Runs"/>, oldest first (the oldest is forgotten past the bound).</summary>
    [Id(8)] public List<string> RunOrder { get; set; } = [];
}
