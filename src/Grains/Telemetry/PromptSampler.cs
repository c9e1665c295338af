using System.Text;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Pii;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// Decides whether a call's prompt and response go to the searchable prompt store, and redacts them with the PII
/// scanner before they leave this class. Only apps that opted in are sampled.
/// </summary>
/// <remarks>
/// The choice is a pure function of (app id, request id) and the app's share, so a retried request is sampled the
/// same way on every silo, and a share of 0.3 samples the same 30% of request ids whenever it is asked.
/// </remarks>
public static class PromptSampler
{
    /// <summary>
    /// Longest redacted prompt or response kept, in characters. Longer texts are cut (after redaction, so a cut
    /// never exposes the part of a finding the scanner would have masked) and end with <see cref="TruncatedMarker"/>.
    /// </summary>
    public const int MaxTextLength = 16_000;

    public const string TruncatedMarker = "…[truncated]";

    /// <summary>The redacted sample of this call, or null when the app did not opt in or the call is not sampled.</summary>
    public static PromptSample? Capture(GovernedCallContext context)
    {
        ArgumentNullException.ThrowIfNull(context);

        // Only an admitted call has an app profile; refusals before admission (bad key, unknown app) are never sampled.
        if (context.App is not { } app || !IsSampled(app.AppId, context.RequestId, app.PromptSampleShare))
        {
            return null;
        }

        return Build(
            app.AppId,
            context.RequestId,
            context.Time.GetUtcNow(),
            context.Request.Messages ?? [],
            context.Result?.Content,
            app.Team,
            context.ServedModel ?? context.Request.Model ?? "");
    }

    /// <summary>
    /// Whether the request is in the sampled share: a hash of (app id, request id) mapped to [0, 1) is below
    /// <paramref name="share"/>. 0 (or anything not above 0, NaN included) never samples; 1 or more always does.
    /// </summary>
    public static bool IsSampled(string appId, string requestId, double share)
    {
        if (!(share > 0))
        {
            return false;
        }

        if (share >= 1)
        {
            return true;
        }

        return Position(appId, requestId) < share;
    }

    /// <summary>Where the request falls in [0, 1): the first 53 bits of SHA-256 over the length-prefixed ids.</summary>
    public static double Position(string appId, string requestId)
    {
        ArgumentNullException.ThrowIfNull(appId);
        ArgumentNullException.ThrowIfNull(requestId);

        // Length prefixes keep ("a-b", "c") and ("a", "b-c") apart.
        return StableDraw.Position($"{appId.Length}:{appId}|{requestId.Length}:{requestId}");
    }

    /// <summary>
    /// The sample of a call whose messages were <paramref name="messages"/> (as the caller sent them) and whose answer
    /// was <paramref name="response"/>: both role-prefixed/plain texts redacted, with the PII classes found in either.
    /// </summary>
    public static PromptSample Build(
        string appId,
        string requestId,
        DateTimeOffset timestamp,
        IReadOnlyList<ChatTurn> messages,
        string? response,
        string team,
        string model)
    {
        var prompt = PromptText(messages);
        var answer = response ?? "";
        var scanner = PiiScanner.Default;
        var promptFindings = scanner.Scan(prompt);
        var responseFindings = scanner.Scan(answer);
        return new PromptSample(
            appId,
            requestId,
            timestamp,
            Cut(scanner.Redact(prompt, promptFindings)),
            Cut(scanner.Redact(answer, responseFindings)),
            PiiScanner.ClassesOf([promptFindings, responseFindings]),
            team ?? "",
            model ?? "");
    }

    /// <summary>The conversation as one text, one <c>role: content</c> line per message.</summary>
    public static string PromptText(IReadOnlyList<ChatTurn> messages)
    {
        var builder = new StringBuilder();
        foreach (var message in messages)
        {
            if (message is null)
            {
                continue;
            }

            if (builder.Length > 0)
            {
                builder.Append('\n');
            }

            builder.Append(string.IsNullOrWhiteSpace(message.Role) ? "user" : message.Role.Trim()).Append(": ").Append(message.Content);
        }

        return builder.ToString();
    }

    private static string Cut(string text) =>
        text.Length <= MaxTextLength ? text : string.Concat(text.AsSpan(0, MaxTextLength - TruncatedMarker.Length), TruncatedMarker);
}
