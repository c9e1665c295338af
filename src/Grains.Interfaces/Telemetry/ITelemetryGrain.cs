namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// Reads the trace store and joins business feedback to traces (key: 0; a stateless worker, so every silo answers
/// locally). Invalid queries and feedback throw <see cref="InvalidTelemetryRequestException"/> (an
/// <see cref="ArgumentException"/>) whose <see cref="InvalidTelemetryRequestException.Field"/> and <c>ParamName</c> name
/// the field as the admin API and the front door spell it, e.g. <c>pageSize</c>, <c>thumbs</c>, <c>continuationToken</c>.
/// </summary>
public interface ITelemetryGrain : IGrainWithIntegerKey
{
    /// <summary>
    /// A page of traces matching the query. The range is at most <see cref="TelemetryRules.MaxQueryRange"/> long and
    /// <c>To</c> is after <c>From</c>; page size 1 to 1000; an outcome filter is one of <c>TraceOutcomes.All</c>.
    /// </summary>
    Task<TracePage> QueryTracesAsync(TraceQuery query);

    /// <summary>The trace of one request of one app with its feedback, or null when there is none.</summary>
    Task<TraceRecord?> FindTraceAsync(string appId, string requestId);

    /// <summary>
    /// Text search over the redacted prompt store (case-insensitive substring of prompt or response; the text is
    /// required), newest first, paged like <see cref="QueryTracesAsync"/>.
    /// </summary>
    Task<PromptSamplePage> SearchPromptsAsync(PromptSearchQuery query);

    /// <summary>
    /// Joins feedback to the app's trace of the request (later feedback replaces earlier). Thumbs is <c>up</c> or
    /// <c>down</c>, a label at most 64 characters of <c>A-Z a-z 0-9 _ . -</c>, and at least one field is set.
    /// </summary>
    Task<FeedbackOutcome> RecordFeedbackAsync(string appId, string requestId, BizFeedback feedback);
}

/// <summary>
/// A trace query, prompt search or feedback the telemetry grain refuses. Unlike a plain <see cref="ArgumentException"/>,
/// whose <c>ParamName</c> does not cross the Orleans wire, it keeps the field it names.
/// </summary>
[GenerateSerializer, Alias("microapps.InvalidTelemetryRequestException")]
public sealed class InvalidTelemetryRequestException : ArgumentException
{
    public InvalidTelemetryRequestException(string field, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Field = field;
    }

    /// <summary>The refused field, e.g. <c>pageSize</c>.</summary>
    [Id(0)]
    public string Field { get; private set; }

    public override string? ParamName => Field;
}

/// <summary>
/// The limits the telemetry grain enforces, shared with the endpoints so both name the same fields: each
/// <c>Validate</c> returns field name (camelCase, as the admin API spells it) → what is wrong; empty when valid.
/// </summary>
public static class TelemetryRules
{
    /// <summary>Thumbs values.</summary>
    public static IReadOnlyList<string> Thumbs { get; } = ["up", "down"];

    /// <summary>Longest team, model, tier or prompt-version filter.</summary>
    public const int MaxFilterLength = 200;

    /// <summary>Longest time range one query or search may cover.</summary>
    public static readonly TimeSpan MaxQueryRange = TimeSpan.FromDays(31);

    /// <summary>Longest feedback label.</summary>
    public const int MaxLabelLength = 64;

    /// <summary>Longest search text.</summary>
    public const int MaxSearchTextLength = 200;

    /// <summary>Whether <paramref name="requestId"/> could name a governed call: non-blank, at most <see cref="Gateway.ChatRequestRules.MaxRequestIdLength"/> characters.</summary>
    public static bool IsValidRequestId(string? requestId) =>
        !string.IsNullOrWhiteSpace(requestId) && requestId.Length <= Gateway.ChatRequestRules.MaxRequestIdLength;

    /// <summary>Whether <paramref name="label"/> is 1-64 characters of letters, digits, '_', '.' and '-'.</summary>
    public static bool IsValidLabel(string? label) =>
        label is { Length: > 0 and <= MaxLabelLength } && label.All(c => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_' or '.' or '-');

    /// <summary>What is wrong with a trace query (see <see cref="ITelemetryGrain.QueryTracesAsync"/>).</summary>
    public static IReadOnlyDictionary<string, string> Validate(TraceQuery? query)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (query is null)
        {
            errors["query"] = "a query is required";
            return errors;
        }

        ValidateRange(query.From, query.To, errors);
        ValidatePageSize(query.PageSize, errors);
        if (query.AppId is not null && !Apps.ApiKeys.IsValidAppId(query.AppId))
        {
            errors["appId"] = "appId must be 3-40 characters of a-z, 0-9 and '-', not starting or ending with '-'";
        }

        if (query.Outcome is not null && !Gateway.TraceOutcomes.All.Contains(query.Outcome, StringComparer.Ordinal))
        {
            errors["outcome"] = $"outcome must be one of {string.Join(", ", Gateway.TraceOutcomes.All)}";
        }

        if (query.RequestId is not null && !IsValidRequestId(query.RequestId))
        {
            errors["requestId"] = $"requestId must be 1-{Gateway.ChatRequestRules.MaxRequestIdLength} characters";
        }

        foreach (var (field, value) in new[] { ("team", query.Team), ("model", query.Model), ("tier", query.Tier), ("promptVersion", query.PromptVersion) })
        {
            if (value is { Length: > MaxFilterLength })
            {
                errors[field] = $"{field} must be at most {MaxFilterLength} characters";
            }
        }

        return errors;
    }

    /// <summary>What is wrong with a prompt search (see <see cref="ITelemetryGrain.SearchPromptsAsync"/>); the text is field <c>q</c>.</summary>
    public static IReadOnlyDictionary<string, string> Validate(PromptSearchQuery? query)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (query is null)
        {
            errors["query"] = "a query is required";
            return errors;
        }

        if (string.IsNullOrWhiteSpace(query.Text) || query.Text.Length > MaxSearchTextLength)
        {
            errors["q"] = $"q is required: the text to find, 1-{MaxSearchTextLength} characters";
        }

        ValidateRange(query.From, query.To, errors);
        ValidatePageSize(query.PageSize, errors);
        if (query.AppId is not null && !Apps.ApiKeys.IsValidAppId(query.AppId))
        {
            errors["appId"] = "appId must be 3-40 characters of a-z, 0-9 and '-', not starting or ending with '-'";
        }

        if (query.Team is { Length: > MaxFilterLength })
        {
            errors["team"] = $"team must be at most {MaxFilterLength} characters";
        }

        return errors;
    }

    /// <summary>What is wrong with reported feedback (see <see cref="ITelemetryGrain.RecordFeedbackAsync"/>).</summary>
    public static IReadOnlyDictionary<string, string> Validate(BizFeedback? feedback)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (feedback is null || (feedback.Thumbs is null && feedback.Label is null && feedback.Converted is null && feedback.Value is null))
        {
            errors["feedback"] = "at least one of thumbs, label, converted or value is required";
            return errors;
        }

        if (feedback.Thumbs is not null && !Thumbs.Contains(feedback.Thumbs, StringComparer.Ordinal))
        {
            errors["thumbs"] = "thumbs must be 'up' or 'down'";
        }

        if (feedback.Label is not null && !IsValidLabel(feedback.Label))
        {
            errors["label"] = $"label must be 1-{MaxLabelLength} characters of A-Z, a-z, 0-9, '_', '.' and '-'";
        }

        if (feedback.Value is { } value && !double.IsFinite(value))
        {
            errors["value"] = "value must be a finite number";
        }

        return errors;
    }

    private static void ValidateRange(DateTimeOffset from, DateTimeOffset to, Dictionary<string, string> errors)
    {
        if (to <= from)
        {
            errors["to"] = "to must be after from";
        }
        else if (to - from > MaxQueryRange)
        {
            errors["from"] = $"from and to must be at most {MaxQueryRange.TotalDays:0} days apart";
        }
    }

    private static void ValidatePageSize(int pageSize, Dictionary<string, string> errors)
    {
        if (pageSize is < 1 or > TraceQuery.MaxPageSize)
        {
            errors["pageSize"] = $"pageSize must be 1 to {TraceQuery.MaxPageSize}";
        }
    }
}
