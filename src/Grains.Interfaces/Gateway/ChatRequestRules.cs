namespace MicroApps.Orleans.Gateway;

/// <summary>
/// What a chat request may carry. One definition for the governed call (which must hold it for .NET
/// callers too) and the HTTP front door (which checks it first to name the JSON field).
/// </summary>
public static class ChatRequestRules
{
    /// <summary>Longest request id accepted; it becomes part of a budget reservation id.</summary>
    public const int MaxRequestIdLength = 128;

    public const int MaxStopSequences = 4;

    public const double MinTemperature = 0;

    public const double MaxTemperature = 2;

    public const double MinTopP = 0;

    public const double MaxTopP = 1;

    /// <summary>Message roles, spelled as OpenAI spells them.</summary>
    public static IReadOnlySet<string> Roles { get; } = new HashSet<string>(StringComparer.Ordinal)
    {
        "system", "developer", "user", "assistant", "tool",
    };

    public static string RolesText { get; } = string.Join(", ", Roles.Select(r => $"'{r}'"));
}
