using Azure.Data.Tables;
using MessagePack;
using MicroApps.Orleans.Telemetry;

namespace MicroApps.Orleans.IntegrationTests.Infrastructure;

/// <summary>
/// Reads a trace segment entity straight from the events table, without the store: its payload columns
/// (<c>Payload</c>, <c>Payload1</c>…) joined, decoded as the LZ4 MessagePack array of events. For tests that count
/// physical copies, which the store's reads never show.
/// </summary>
internal static class StoredSegment
{
    /// <summary>The payload columns of an entity joined in order; null when it has none.</summary>
    public static byte[]? JoinedPayload(TableEntity entity)
    {
        if (entity.GetBinary("Payload") is not { } first)
        {
            return null;
        }

        var whole = new List<byte>(first);
        for (var part = 1; entity.GetBinary($"Payload{part}") is { } next; part++)
        {
            whole.AddRange(next);
        }

        return [.. whole];
    }

    public static TraceEventDto[] Decode(TableEntity entity, MessagePackSerializerOptions options) =>
        MessagePackSerializer.Deserialize<TraceEventDto[]>(JoinedPayload(entity) ?? throw new InvalidDataException($"{entity.PartitionKey}/{entity.RowKey} has no payload"), options);
}
