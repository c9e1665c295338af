using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Pii;

namespace MicroApps.Orleans.Caching;

/// <summary>Whether a call may use the near-duplicate cache, at which threshold, and what it is scoped by.</summary>
public static class NearDuplicatePolicy
{
    /// <summary>
    /// The threshold to use for this call, or null when the near-duplicate cache is off for it: off platform-wide, off
    /// for any call whose request had PII found (whatever the app says), else as the app sets it, else on only for
    /// apps that declare no PII data classes (a fuzzy match must never hand one person's answer to a look-alike request
    /// about another).
    /// </summary>
    public static double? ThresholdFor(AppProfile app, IReadOnlyList<string>? piiFound, NearDuplicateOptions options)
    {
        ArgumentNullException.ThrowIfNull(app);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled || piiFound is { Count: > 0 })
        {
            return null;
        }

        var settings = app.Savings?.NearDuplicate;
        var enabled = settings?.Enabled ?? !DeclaresPii(app);
        return enabled ? settings?.Threshold ?? options.DefaultThreshold : null;
    }

    /// <summary>True when the app declares any of the <see cref="PiiClasses"/> among its data classes.</summary>
    public static bool DeclaresPii(AppProfile app) =>
        (app.DataClasses ?? []).Any(declared => PiiClasses.All.Contains(declared?.Trim() ?? "", StringComparer.OrdinalIgnoreCase));

    /// <summary>
    /// The exact cache's key over everything but the conversation text: selection, parameters, prompt version, system
    /// messages verbatim and the roles of the other turns. Only requests with the same context are compared.
    /// </summary>
    public static string ContextKey(string appId, string selection, IReadOnlyList<ChatTurn> messages, ChatParameters parameters, string promptVersion)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var context = messages
            .Select(m => IsSystem(m) ? m : new ChatTurn(m.Role, ""))
            .ToArray();
        return CacheKey.Compute(appId, "near|" + selection, context, parameters, promptVersion);
    }

    /// <summary>The texts compared fuzzily: every turn but the system messages, in order.</summary>
    public static IReadOnlyList<string> ConversationText(IReadOnlyList<ChatTurn> messages) =>
        messages.Where(m => !IsSystem(m)).Select(m => m.Content ?? "").ToArray();

    private static bool IsSystem(ChatTurn turn) =>
        string.Equals(turn.Role?.Trim(), "system", StringComparison.OrdinalIgnoreCase) || string.Equals(turn.Role?.Trim(), "developer", StringComparison.OrdinalIgnoreCase);
}
