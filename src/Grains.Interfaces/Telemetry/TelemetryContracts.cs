using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// A filter over stored trace events. Every field but the time range is optional; fields combine with AND.
/// Results are newest hour first; within one hour the order is the store's (stable between pages).
/// </summary>
/// <param name="From">Inclusive start of the time range (UTC).</param>
/// <param name="To">Exclusive end of the time range (UTC).</param>
/// <param name="AppId">Only this app's events.</param>
/// <param name="Team">Only events of apps of this team.</param>
/// <param name="Model">Only events answered (or refused) for this model.</param>
/// <param name="Tier">Only events of this model tier.</param>
/// <param name="Outcome">Only events with this outcome (see <see cref="TraceOutcomes"/>).</param>
/// <param name="PromptVersion">Only events with this prompt version (for example <c>summary@3</c>).</param>
/// <param name="RequestId">Only the event of this request id.</param>
/// <param name="PageSize">1 to 1000 events per page.</param>
/// <param name="ContinuationToken">Opaque token of the previous page; null for the first page.</param>
[GenerateSerializer, Immutable, Alias("microapps.TraceQuery")]
public sealed record TraceQuery(
    [property: Id(0)] DateTimeOffset From,
    [property: Id(1)] DateTimeOffset To,
    [property: Id(2)] string? AppId = null,
    [property: Id(3)] string? Team = null,
    [property: Id(4)] string? Model = null,
    [property: Id(5)] string? Tier = null,
    [property: Id(6)] string? Outcome = null,
    [property: Id(7)] string? PromptVersion = null,
    [property: Id(8)] string? RequestId = null,
    [property: Id(9)] int PageSize = 100,
    [property: Id(10)] string? ContinuationToken = null)
{
    public const int MaxPageSize = 1000;

    /// <summary>Whether <paramref name="e"/> is in the range and passes every filter that is set.</summary>
    public bool Matches(TraceEvent e) =>
        e.Timestamp >= From && e.Timestamp < To
        && (AppId is null || e.AppId == AppId)
        && (Team is null || e.Team == Team)
        && (Model is null || e.Model == Model)
        && (Tier is null || e.ModelTier == Tier)
        && (Outcome is null || e.Outcome == Outcome)
        && (PromptVersion is null || e.PromptVersion == PromptVersion)
        && (RequestId is null || e.RequestId == RequestId);
}

/// <summary>One stored trace with the feedback the app reported for it.</summary>
[GenerateSerializer, Immutable, Alias("microapps.TraceRecord")]
public sealed record TraceRecord(
    [property: Id(0)] TraceEvent Event,
    [property: Id(1)] BizFeedback? Feedback);

/// <summary>A page of traces; <see cref="ContinuationToken"/> is null on the last page.</summary>
[GenerateSerializer, Immutable, Alias("microapps.TracePage")]
public sealed record TracePage(
    [property: Id(0)] IReadOnlyList<TraceRecord> Items,
    [property: Id(1)] string? ContinuationToken);

/// <summary>
/// Feedback or a business outcome an app reports for one of its requests. At least one field is set.
/// </summary>
/// <param name="Thumbs"><c>up</c> or <c>down</c>.</param>
/// <param name="Label">A short label of the app's choosing (at most 64 characters, no PII).</param>
/// <param name="Converted">Whether the call led to the business outcome the app tracks.</param>
/// <param name="Value">A numeric business value (for example revenue or a score).</param>
/// <param name="ReportedAt">When the platform received it.</param>
[GenerateSerializer, Immutable, Alias("microapps.BizFeedback")]
public sealed record BizFeedback(
    [property: Id(0)] string? Thumbs,
    [property: Id(1)] string? Label,
    [property: Id(2)] bool? Converted,
    [property: Id(3)] double? Value,
    [property: Id(4)] DateTimeOffset ReportedAt)
{
    /// <summary>The compact form written to <see cref="TraceEvent.BizMetric"/>, e.g. <c>thumbs=up;converted=true</c>.</summary>
    public string ToBizMetric() => string.Join(';', new[]
    {
        Thumbs is null ? null : $"thumbs={Thumbs}",
        Label is null ? null : $"label={Label}",
        Converted is null ? null : $"converted={(Converted.Value ? "true" : "false")}",
        Value is null ? null : $"value={Value.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)}",
    }.Where(p => p is not null));
}

/// <summary>What happened to reported feedback.</summary>
public enum FeedbackOutcome
{
    /// <summary>Joined to the request's trace (later feedback replaces earlier).</summary>
    Recorded = 0,

    /// <summary>The app has no trace with this request id.</summary>
    UnknownRequest = 1,
}

/// <summary>
/// A sampled prompt and response of an app that opted in (<c>AppManifest.PromptSampleShare</c>). Both texts are
/// redacted by the PII scanner before they are built; raw text never reaches this record.
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.PromptSample")]
public sealed record PromptSample(
    [property: Id(0)] string AppId,
    [property: Id(1)] string RequestId,
    [property: Id(2)] DateTimeOffset Timestamp,
    [property: Id(3)] string RedactedPrompt,
    [property: Id(4)] string RedactedResponse,
    [property: Id(5)] IReadOnlyList<string> PiiClasses,
    [property: Id(6)] string Team = "",
    [property: Id(7)] string Model = "");

/// <summary>Text search over the redacted prompt store: case-insensitive substring of prompt or response.</summary>
[GenerateSerializer, Immutable, Alias("microapps.PromptSearchQuery")]
public sealed record PromptSearchQuery(
    [property: Id(0)] string Text,
    [property: Id(1)] DateTimeOffset From,
    [property: Id(2)] DateTimeOffset To,
    [property: Id(3)] string? AppId = null,
    [property: Id(4)] string? Team = null,
    [property: Id(5)] int PageSize = 50,
    [property: Id(6)] string? ContinuationToken = null);

/// <summary>A page of prompt samples; <see cref="ContinuationToken"/> is null on the last page.</summary>
[GenerateSerializer, Immutable, Alias("microapps.PromptSamplePage")]
public sealed record PromptSamplePage(
    [property: Id(0)] IReadOnlyList<PromptSample> Items,
    [property: Id(1)] string? ContinuationToken);
