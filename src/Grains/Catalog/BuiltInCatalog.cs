namespace MicroApps.Orleans.Catalog;

/// <summary>
/// The templates and connectors that come with the platform: vetted, certified, owned by the platform team. The hosted
/// runtime implements each template; its parameters here are what a non-developer fills in.
/// </summary>
public static class BuiltInCatalog
{
    public const string Owner = "platform-team";
    public const string Publisher = "platform";

    private static readonly DateTimeOffset Published = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);

    public static CatalogEntry ChatAssistant { get; } = Template(BuiltIns.ChatAssistant, "1.0.0",
        "A multi-turn assistant: each conversation keeps its history, trimmed to the model's context within the app's token budget.",
        ["chat", "assistant", "conversation"],
        [
            new("systemPrompt", ParameterKind.Text, true, null, "What the assistant is for and how it should answer.", 1, 8000),
            new("tier", ParameterKind.Tier, false, "standard", "The model tier it answers with."),
            new("maxHistoryTokens", ParameterKind.Integer, false, "3000", "Tokens of earlier messages sent with each new one; older messages are dropped first.", 100, 100_000),
            new("maxOutputTokens", ParameterKind.Integer, false, "512", "Longest answer, in tokens.", 16, 4096),
            new("greeting", ParameterKind.Text, false, null, "First message shown in a new conversation.", null, 1000),
        ]);

    public static CatalogEntry Summarizer { get; } = Template(BuiltIns.Summarizer, "1.0.0",
        "Summarises text, or a document read through a connector; long inputs are split, summarised in parts, then combined.",
        ["summarize", "summarise", "documents", "text"],
        [
            new("instructions", ParameterKind.Text, false, "Summarise the text in a few sentences, keeping names, numbers and decisions.", "How to summarise.", 1, 4000),
            new("tier", ParameterKind.Tier, false, "standard", "The model tier it summarises with."),
            new("chunkTokens", ParameterKind.Integer, false, "1500", "Size of each part a long input is split into, in tokens.", 100, 50_000),
            new("maxOutputTokens", ParameterKind.Integer, false, "300", "Longest summary (and part summary), in tokens.", 16, 4096),
            new("source", ParameterKind.Text, false, null, "The app's connector a run reads from when it gives a path but no connector.", null, 64),
        ]);

    public static CatalogEntry ApprovalsBot { get; } = Template(BuiltIns.ApprovalsBot, "1.0.0",
        "A request comes in, the model drafts a recommendation, a named person approves or rejects it, and the requester is notified.",
        ["approvals", "workflow", "requests"],
        [
            new("instructions", ParameterKind.Text, true, null, "How requests should be judged (the rules the recommendation follows).", 1, 8000),
            new("tier", ParameterKind.Tier, false, "standard", "The model tier that drafts recommendations."),
            new("approvers", ParameterKind.List, true, null, "Who may decide (admin principal names).", 1, 20),
            new("escalateTo", ParameterKind.List, false, null, "Who decides when the approvers do not in time.", null, 20),
            new("decisionTimeout", ParameterKind.Duration, false, "2d", "How long the approvers have to decide.", 1, 90 * 86400),
            new("escalationTimeout", ParameterKind.Duration, false, "1d", "How long the escalation has before the request times out.", 1, 90 * 86400),
            new("notify", ParameterKind.Text, false, null, "The app's webhook connector the requester is notified through.", null, 64),
        ]);

    public static CatalogEntry HttpJson { get; } = Connector(BuiltIns.HttpJson, "1.0.0",
        "Reads JSON from (or posts JSON to) an HTTP API under a base URL, on allowlisted hosts only, with a timeout and a size cap.",
        ["http", "rest", "json", "api"],
        [
            new("baseUrl", ParameterKind.Url, true, null, "Where the API is; its host must be the connector's host and in the app's egress allowlist."),
            new("timeoutSeconds", ParameterKind.Integer, false, "10", "How long one call may take.", 1, 60),
            new("maxBytes", ParameterKind.Integer, false, "1048576", "Largest response read.", 1, 10 * 1024 * 1024),
        ]);

    public static CatalogEntry AzureBlob { get; } = Connector(BuiltIns.AzureBlob, "1.0.0",
        "Reads files (CSV, JSON, text) from a container in Azure Blob storage.",
        ["files", "blob", "azure", "csv", "json"],
        [
            new("container", ParameterKind.Text, true, null, "The blob container to read from.", 3, 63),
            new("account", ParameterKind.Text, false, "default", "The storage account, by its name under Connectors:AzureBlob:Accounts (default: the platform's storage).", 1, 64),
            new("maxBytes", ParameterKind.Integer, false, "1048576", "Largest file read.", 1, 10 * 1024 * 1024),
        ]);

    public static CatalogEntry Webhook { get; } = Connector(BuiltIns.Webhook, "1.0.0",
        "Posts a JSON notification to a URL on an allowlisted host, retried with backoff.",
        ["webhook", "notify", "http"],
        [
            new("url", ParameterKind.Url, true, null, "Where notifications go; its host must be the connector's host and in the app's egress allowlist."),
            new("timeoutSeconds", ParameterKind.Integer, false, "10", "How long one attempt may take.", 1, 60),
        ]);

    /// <summary>Every built-in entry.</summary>
    public static IReadOnlyList<CatalogEntry> All { get; } = [ChatAssistant, Summarizer, ApprovalsBot, HttpJson, AzureBlob, Webhook];

    /// <summary>Per-run limits a template gets when the manifest gives none.</summary>
    public static RunLimits DefaultLimits(string template) => template switch
    {
        BuiltIns.ChatAssistant => new RunLimits(MaxTokens: 8_000, MaxSteps: 2, MaxSeconds: 60),
        BuiltIns.Summarizer => new RunLimits(MaxTokens: 40_000, MaxSteps: 24, MaxSeconds: 180),
        BuiltIns.ApprovalsBot => new RunLimits(MaxTokens: 6_000, MaxSteps: 4, MaxSeconds: 60),
        _ => new RunLimits(MaxTokens: 8_000, MaxSteps: 4, MaxSeconds: 60),
    };

    private static CatalogEntry Template(string name, string version, string description, string[] tags, ParameterSpec[] parameters) =>
        new(CatalogKind.Template, name, version, Owner, description, tags, Certified: true, SafeUpgrade: false, parameters, "", [], Published, Publisher);

    private static CatalogEntry Connector(string name, string version, string description, string[] tags, ParameterSpec[] parameters) =>
        new(CatalogKind.Connector, name, version, Owner, description, tags, Certified: true, SafeUpgrade: false, parameters, "", [], Published, Publisher);
}
