using MessagePack;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// The MessagePack forms of what the Azure Table trace store keeps. Our own DTOs, so the Orleans contract records
/// carry no storage attributes; keys are positions and are never renumbered or reused (stored data depends on them).
/// </summary>
internal static class TracePayloads
{
    private static readonly MessagePackSerializerOptions Plain =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData);

    // Prompt samples and event segments repeat themselves: LZ4 shrinks them several times over, far below the entity limit.
    private static readonly MessagePackSerializerOptions Compressed = Plain.WithCompression(MessagePackCompression.Lz4BlockArray);

    public static byte[] Serialize(TraceEvent e) => MessagePackSerializer.Serialize(ToDto(e), Plain);

    public static TraceEvent DeserializeEvent(ReadOnlyMemory<byte> bytes) => FromDto(MessagePackSerializer.Deserialize<TraceEventDto>(bytes, Plain));

    /// <summary>
    /// A segment: the events of one (app, hour) partition written by one store call, as one LZ4-compressed MessagePack
    /// array of <see cref="TraceEventDto"/>. Events of one app repeat most of their strings, so a segment shrinks
    /// several times over, and one table entity carries what used to be one entity per event.
    /// </summary>
    public static byte[] SerializeSegment(IReadOnlyList<TraceEvent> events)
    {
        var dtos = new TraceEventDto[events.Count];
        for (var i = 0; i < dtos.Length; i++)
        {
            dtos[i] = ToDto(events[i]);
        }

        return MessagePackSerializer.Serialize(dtos, Compressed);
    }

    public static IReadOnlyList<TraceEvent> DeserializeSegment(ReadOnlyMemory<byte> bytes)
    {
        var dtos = MessagePackSerializer.Deserialize<TraceEventDto[]>(bytes, Compressed) ?? [];
        var events = new TraceEvent[dtos.Length];
        for (var i = 0; i < dtos.Length; i++)
        {
            events[i] = FromDto(dtos[i]);
        }

        return events;
    }

    private static TraceEventDto ToDto(TraceEvent e) => new()
    {
        AppId = e.AppId,
        RequestId = e.RequestId,
        Model = e.Model,
        ModelTier = e.ModelTier,
        TokensIn = e.TokensIn,
        TokensOut = e.TokensOut,
        LatencyMs = e.LatencyMs,
        PromptVersion = e.PromptVersion,
        CostEstimateUsd = e.CostEstimateUsd,
        Route = e.Route,
        Outcome = e.Outcome,
        BizMetric = e.BizMetric,
        Team = e.Team,
        PromptHash = e.PromptHash,
        CacheHit = e.CacheHit,
        CostActualUsd = e.CostActualUsd,
        TimestampUtcTicks = e.Timestamp.UtcTicks,
        Decisions = [.. e.Decisions ?? []],
        Policy = e.Policy,
        PolicyMatches = e.PolicyMatches?.ToArray(),
        PiiClasses = e.PiiClasses?.ToArray(),
        PolicyVersion = e.PolicyVersion,
        ErrorCode = e.ErrorCode,
        QueryType = e.QueryType,
        BaselineCostUsd = e.BaselineCostUsd,
        Saving = e.Saving,
        RouteReason = e.RouteReason,
    };

    private static TraceEvent FromDto(TraceEventDto d) =>
        new(d.AppId ?? "", d.RequestId ?? "", d.Model ?? "", d.ModelTier ?? "", d.TokensIn, d.TokensOut, d.LatencyMs,
            d.PromptVersion ?? "", d.CostEstimateUsd, d.Route ?? "", d.Outcome ?? "", d.BizMetric, d.Team ?? "", d.PromptHash ?? "", d.CacheHit,
            d.CostActualUsd, new DateTimeOffset(d.TimestampUtcTicks, TimeSpan.Zero), d.Decisions ?? [], d.Policy, d.PolicyMatches, d.PiiClasses,
            d.PolicyVersion, d.ErrorCode, d.QueryType, d.BaselineCostUsd, d.Saving, d.RouteReason);

    public static byte[] Serialize(BizFeedback f) => MessagePackSerializer.Serialize(new FeedbackDto
    {
        Thumbs = f.Thumbs,
        Label = f.Label,
        Converted = f.Converted,
        Value = f.Value,
        ReportedAtUtcTicks = f.ReportedAt.UtcTicks,
    }, Plain);

    public static BizFeedback DeserializeFeedback(ReadOnlyMemory<byte> bytes)
    {
        var d = MessagePackSerializer.Deserialize<FeedbackDto>(bytes, Plain);
        return new BizFeedback(d.Thumbs, d.Label, d.Converted, d.Value, new DateTimeOffset(d.ReportedAtUtcTicks, TimeSpan.Zero));
    }

    public static byte[] Serialize(PromptSample s) => MessagePackSerializer.Serialize(new PromptSampleDto
    {
        AppId = s.AppId,
        RequestId = s.RequestId,
        TimestampUtcTicks = s.Timestamp.UtcTicks,
        RedactedPrompt = s.RedactedPrompt,
        RedactedResponse = s.RedactedResponse,
        PiiClasses = [.. s.PiiClasses ?? []],
        Team = s.Team,
        Model = s.Model,
    }, Compressed);

    public static PromptSample DeserializeSample(ReadOnlyMemory<byte> bytes)
    {
        var d = MessagePackSerializer.Deserialize<PromptSampleDto>(bytes, Compressed);
        return new PromptSample(d.AppId ?? "", d.RequestId ?? "", new DateTimeOffset(d.TimestampUtcTicks, TimeSpan.Zero),
            d.RedactedPrompt ?? "", d.RedactedResponse ?? "", d.PiiClasses ?? [], d.Team ?? "", d.Model ?? "");
    }
}

[MessagePackObject]
public sealed class TraceEventDto
{
    [Key(0)] public string? AppId { get; set; }
    [Key(1)] public string? RequestId { get; set; }
    [Key(2)] public string? Model { get; set; }
    [Key(3)] public string? ModelTier { get; set; }
    [Key(4)] public int TokensIn { get; set; }
    [Key(5)] public int TokensOut { get; set; }
    [Key(6)] public double LatencyMs { get; set; }
    [Key(7)] public string? PromptVersion { get; set; }
    [Key(8)] public decimal CostEstimateUsd { get; set; }
    [Key(9)] public string? Route { get; set; }
    [Key(10)] public string? Outcome { get; set; }
    [Key(11)] public string? BizMetric { get; set; }
    [Key(12)] public string? Team { get; set; }
    [Key(13)] public string? PromptHash { get; set; }
    [Key(14)] public bool CacheHit { get; set; }
    [Key(15)] public decimal CostActualUsd { get; set; }
    [Key(16)] public long TimestampUtcTicks { get; set; }
    [Key(17)] public string[]? Decisions { get; set; }
    [Key(18)] public string? Policy { get; set; }
    [Key(19)] public string[]? PolicyMatches { get; set; }
    [Key(20)] public string[]? PiiClasses { get; set; }
    [Key(21)] public int PolicyVersion { get; set; }
    [Key(22)] public string? ErrorCode { get; set; }
    [Key(23)] public string? QueryType { get; set; }
    [Key(24)] public decimal? BaselineCostUsd { get; set; }
    [Key(25)] public string? Saving { get; set; }
    [Key(26)] public string? RouteReason { get; set; }
}

[MessagePackObject]
public sealed class FeedbackDto
{
    [Key(0)] public string? Thumbs { get; set; }
    [Key(1)] public string? Label { get; set; }
    [Key(2)] public bool? Converted { get; set; }
    [Key(3)] public double? Value { get; set; }
    [Key(4)] public long ReportedAtUtcTicks { get; set; }
}

[MessagePackObject]
public sealed class PromptSampleDto
{
    [Key(0)] public string? AppId { get; set; }
    [Key(1)] public string? RequestId { get; set; }
    [Key(2)] public long TimestampUtcTicks { get; set; }
    [Key(3)] public string? RedactedPrompt { get; set; }
    [Key(4)] public string? RedactedResponse { get; set; }
    [Key(5)] public string[]? PiiClasses { get; set; }
    [Key(6)] public string? Team { get; set; }
    [Key(7)] public string? Model { get; set; }
}
