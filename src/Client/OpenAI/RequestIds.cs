namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>The request id of a call: the caller's <c>X-Request-Id</c> when valid, else a new one.</summary>
public static class RequestIds
{
    public const string Header = "X-Request-Id";
    public const int MaxLength = Gateway.ChatRequestRules.MaxRequestIdLength;

    /// <summary>Ids of at most 128 characters of letters, digits and <c>. _ : -</c>, safe in headers, logs and grain keys.</summary>
    public static bool IsValid(ReadOnlySpan<char> id)
    {
        if (id.IsEmpty || id.Length > MaxLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    public static string New() => Guid.NewGuid().ToString("N");
}
