namespace MicroApps.Orleans.Apps;

/// <summary>
/// Request-per-minute and token-per-day windows of one app, on UTC calendar boundaries.
/// Plain and single-threaded: the app grain owns one.
/// </summary>
public sealed class QuotaWindows
{
    private DateTimeOffset _minuteStart = DateTimeOffset.MinValue;
    private int _requestsThisMinute;

    public QuotaWindows(DateOnly tokensDay = default, long tokensToday = 0)
    {
        TokensDay = tokensDay;
        TokensToday = tokensToday;
    }

    public DateOnly TokensDay { get; private set; }

    public long TokensToday { get; private set; }

    public int RequestsThisMinute(DateTimeOffset now) => MinuteStart(now) == _minuteStart ? _requestsThisMinute : 0;

    public long TokensOn(DateTimeOffset now) => DateOnly.FromDateTime(now.UtcDateTime) == TokensDay ? TokensToday : 0;

    /// <summary>Counts one call of <paramref name="tokens"/> tokens if both quotas allow it.</summary>
    /// <returns>The refusal, or null when admitted.</returns>
    public (AdmissionOutcome Outcome, string Message, TimeSpan RetryAfter)? TryAdmit(DateTimeOffset now, long tokens, AppQuotas quotas)
    {
        var minute = MinuteStart(now);
        if (minute != _minuteStart)
        {
            _minuteStart = minute;
            _requestsThisMinute = 0;
        }

        var day = DateOnly.FromDateTime(now.UtcDateTime);
        if (day != TokensDay)
        {
            TokensDay = day;
            TokensToday = 0;
        }

        if (quotas.RequestsPerMinute > 0 && _requestsThisMinute >= quotas.RequestsPerMinute)
        {
            return (AdmissionOutcome.RequestRateExceeded,
                $"requests per minute quota of {quotas.RequestsPerMinute} reached",
                minute.AddMinutes(1) - now);
        }

        if (quotas.TokensPerDay > 0 && TokensToday + tokens > quotas.TokensPerDay)
        {
            return (AdmissionOutcome.TokenQuotaExceeded,
                $"tokens per day quota of {quotas.TokensPerDay} reached ({TokensToday} used, this call needs up to {tokens})",
                new DateTimeOffset(day.AddDays(1), TimeOnly.MinValue, TimeSpan.Zero) - now);
        }

        _requestsThisMinute++;
        TokensToday += tokens;
        return null;
    }

    /// <summary>Replaces an admitted estimate by the real usage, within the same day.</summary>
    public void Correct(DateTimeOffset now, long estimated, long actual)
    {
        if (DateOnly.FromDateTime(now.UtcDateTime) == TokensDay)
        {
            TokensToday = Math.Max(0, TokensToday + actual - estimated);
        }
    }

    private static DateTimeOffset MinuteStart(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        return new DateTimeOffset(utc.Year, utc.Month, utc.Day, utc.Hour, utc.Minute, 0, TimeSpan.Zero);
    }
}
