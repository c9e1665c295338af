namespace MicroApps.Orleans.Runtime;

/// <summary>
/// Decides how much of a conversation's history goes with a new message: the oldest messages are dropped first,
/// until the system prompt, the kept history, the new message and the answer's token cap fit the budget (the
/// smaller of the app's <c>maxHistoryTokens</c>, the model's context window and the run's token limit).
/// </summary>
public static class HistoryTrimmer
{
    /// <summary>
    /// How many of the oldest messages to drop, given each history message's tokens (oldest first) and the tokens
    /// every call carries anyway (<paramref name="fixedTokens"/>: system prompt, new message, framing and the output
    /// cap); null when even an empty history does not fit.
    /// </summary>
    public static int? MessagesToDrop(IReadOnlyList<int> historyTokens, long fixedTokens, long budget)
    {
        if (fixedTokens > budget)
        {
            return null;
        }

        var kept = historyTokens.Sum(t => (long)t);
        var drop = 0;
        while (drop < historyTokens.Count && fixedTokens + kept > budget)
        {
            kept -= historyTokens[drop];
            drop++;
        }

        return drop;
    }

    /// <summary>The budget a conversation turn must fit: the smallest of the given limits (non-positive ones are ignored).</summary>
    public static long Budget(params long[] limits)
    {
        var positive = limits.Where(l => l > 0).ToList();
        return positive.Count == 0 ? long.MaxValue : positive.Min();
    }
}
