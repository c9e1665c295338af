using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Savings;

/// <summary>
/// Asks a judge model, through the governed call (so the judge is governed, traced and charged to the platform app
/// whose key <c>Savings:Judge:ApiKey</c> is), to grade the candidate answer against the reference from 0 to 10.
/// Any failure — a refused or failed call, an answer without a score — yields no evidence rather than a guess.
/// </summary>
public sealed partial class JudgeScorer(IGrainFactory grains, IOptions<JudgeOptions> options, ILogger<JudgeScorer> logger) : IShadowScorer
{
    public const string ScorerName = "judge";

    /// <summary>Longest piece of request or answer put into a judge prompt, in characters.</summary>
    public const int MaxQuotedLength = 4_000;

    public string Name => ScorerName;

    public async Task<double?> ScoreAsync(ShadowComparison comparison, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var o = options.Value;
        if (string.IsNullOrWhiteSpace(o.ApiKey) || string.IsNullOrWhiteSpace(o.Model))
        {
            return null;
        }

        var request = new GovernedChatRequest(
            o.ApiKey,
            RequestId(comparison.EvaluationId),
            o.Model,
            Prompt(comparison),
            new ChatParameters(0f, null, Math.Max(1, o.MaxOutputTokens), null, null));
        try
        {
            var result = await grains.GetGrain<IGovernedCallGrain>(0).CompleteAsync(request).WaitAsync(cancellationToken);
            if (!result.IsSuccess)
            {
                logger.LogInformation("Judge call for {Evaluation} ended {Outcome} ({Code}); no evidence recorded", comparison.EvaluationId, result.Outcome, result.ErrorCode);
                return null;
            }

            var score = ParseScore(result.Content);
            if (score is null)
            {
                logger.LogInformation("Judge answer for {Evaluation} holds no score from 0 to 10; no evidence recorded", comparison.EvaluationId);
            }

            return score / 10d;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning(ex, "Judge call for {Evaluation} failed; no evidence recorded", comparison.EvaluationId);
            return null;
        }
    }

    /// <summary>
    /// The judge conversation. The instructions come first and the candidate answer last, so the last number of a
    /// model that merely repeats its input (such as the test upstream) is the candidate's own.
    /// </summary>
    public static IReadOnlyList<ChatTurn> Prompt(ShadowComparison comparison)
    {
        var request = comparison.Messages.LastOrDefault(m => string.Equals(m.Role, "user", StringComparison.OrdinalIgnoreCase))?.Content ?? "";
        var text = new StringBuilder()
            .Append("Grade the CANDIDATE answer against the REFERENCE answer to the same request (task type: ")
            .Append(comparison.QueryType)
            .Append("). Reply with one number from 0 (wrong or unrelated) to 10 (as good as the reference) and nothing else.\n\n")
            .Append("REQUEST:\n").Append(Cut(request)).Append("\n\n")
            .Append("REFERENCE ANSWER:\n").Append(Cut(comparison.ReferenceAnswer)).Append("\n\n")
            .Append("CANDIDATE ANSWER:\n").Append(Cut(comparison.CandidateAnswer))
            .ToString();
        return
        [
            new ChatTurn("system", "You are a strict grader of model answers. You answer with a single number."),
            new ChatTurn("user", text),
        ];
    }

    /// <summary>
    /// The score in a judge's answer, 0 to 10: the number before <c>/10</c> when it writes one, else the last number;
    /// null when there is none or it is out of range.
    /// </summary>
    public static double? ParseScore(string? answer)
    {
        if (string.IsNullOrWhiteSpace(answer))
        {
            return null;
        }

        var outOfTen = OutOfTen().Matches(answer);
        var match = outOfTen.Count > 0 ? outOfTen[^1].Groups[1] : Number().Matches(answer) is { Count: > 0 } numbers ? numbers[^1].Groups[0] : null;
        if (match is null || !double.TryParse(match.Value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var score))
        {
            return null;
        }

        return score is >= 0 and <= 10 ? score : null;
    }

    /// <summary>One id per evaluation, so a retried judge call is charged once; short enough for any request-id limit.</summary>
    public static string RequestId(string evaluationId) =>
        "judge-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(evaluationId)))[..32];

    private static string Cut(string? text)
    {
        text ??= "";
        return text.Length <= MaxQuotedLength ? text : $"{text[..(MaxQuotedLength / 2)]} … {text[^(MaxQuotedLength / 2)..]}";
    }

    [GeneratedRegex(@"(\d+(?:\.\d+)?)\s*/\s*10(?![\d.])")]
    private static partial Regex OutOfTen();

    [GeneratedRegex(@"\d+(?:\.\d+)?")]
    private static partial Regex Number();
}
