using System.IO.Compression;
using System.Text;
using Azure.Data.Tables;
using Azure.Storage.Blobs;
using MessagePack;

namespace MicroApps.Orleans.IntegrationTests.Infrastructure;

/// <summary>
/// Everything a storage account holds, read back for inspection: every property of every entity of every table, and
/// every blob of every container, as bytes (split payload columns also joined). Strings are also looked at after base64 decoding, gzip payloads after
/// decompression, and binary values as MessagePack converted to JSON (LZ4-compressed MessagePack decompressed first),
/// so text inside an encoded or compressed value is seen too.
/// </summary>
internal sealed class StorageContents
{
    private static readonly MessagePackSerializerOptions MessagePackLz4 =
        MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData).WithCompression(MessagePackCompression.Lz4BlockArray);

    private StorageContents(IReadOnlyList<(string Location, byte[] Bytes)> items, int entities, int blobs, IReadOnlyList<string> tables, IReadOnlyList<string> containers)
    {
        Items = items;
        Entities = entities;
        Blobs = blobs;
        Tables = tables;
        Containers = containers;
    }

    /// <summary>Each stored value (and decoded variant) with where it was found; ASCII letters lower-cased.</summary>
    public IReadOnlyList<(string Location, byte[] Bytes)> Items { get; }

    public int Entities { get; }

    public int Blobs { get; }

    public IReadOnlyList<string> Tables { get; }

    public IReadOnlyList<string> Containers { get; }

    public static async Task<StorageContents> ReadAsync(string connectionString)
    {
        var items = new List<(string, byte[])>();
        var tables = new List<string>();
        var containers = new List<string>();
        var entities = 0;
        var blobs = 0;

        var tableService = new TableServiceClient(connectionString);
        await foreach (var table in tableService.QueryAsync())
        {
            tables.Add(table.Name);
            var client = tableService.GetTableClient(table.Name);
            await foreach (var entity in client.QueryAsync<TableEntity>())
            {
                entities++;
                foreach (var (name, value) in entity)
                {
                    Add(items, $"table {table.Name} / {entity.PartitionKey} / {entity.RowKey} / {name}", value);
                }

                // A payload over one property's 64 KiB continues in Payload1, Payload2…: compressed, it only decodes whole.
                if (entity.ContainsKey("Payload1") && StoredSegment.JoinedPayload(entity) is { } joined)
                {
                    Add(items, $"table {table.Name} / {entity.PartitionKey} / {entity.RowKey} / Payload (joined)", joined);
                }
            }
        }

        var blobService = new BlobServiceClient(connectionString);
        await foreach (var container in blobService.GetBlobContainersAsync())
        {
            containers.Add(container.Name);
            var client = blobService.GetBlobContainerClient(container.Name);
            await foreach (var blob in client.GetBlobsAsync())
            {
                blobs++;
                var content = await client.GetBlobClient(blob.Name).DownloadContentAsync();
                Add(items, $"blob {container.Name}/{blob.Name}", content.Value.Content.ToArray());
            }
        }

        return new StorageContents(items, entities, blobs, tables, containers);
    }

    /// <summary>
    /// Where <paramref name="text"/> occurs, as UTF-8 or UTF-16 bytes, ignoring ASCII case; empty when nowhere.
    /// </summary>
    public IReadOnlyList<string> WhereIs(string text)
    {
        var utf8 = Lower(Encoding.UTF8.GetBytes(text));
        var utf16 = Lower(Encoding.Unicode.GetBytes(text));
        return Items
            .Where(i => i.Bytes.AsSpan().IndexOf(utf8) >= 0 || i.Bytes.AsSpan().IndexOf(utf16) >= 0)
            .Select(i => i.Location)
            .Distinct()
            .ToList();
    }

    private static void Add(List<(string, byte[])> items, string location, object? value)
    {
        switch (value)
        {
            case null:
                return;
            case byte[] bytes:
                AddBytes(items, location, bytes);
                return;
            case BinaryData data:
                AddBytes(items, location, data.ToArray());
                return;
            case string text:
                AddBytes(items, location, Encoding.UTF8.GetBytes(text));
                if (text.Length >= 8 && text.Length % 4 == 0 && Convert.TryFromBase64String(text, new byte[text.Length], out var written) && written > 0)
                {
                    AddBytes(items, location + " (base64-decoded)", Convert.FromBase64String(text));
                }

                return;
            default:
                AddBytes(items, location, Encoding.UTF8.GetBytes(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture) ?? ""));
                return;
        }
    }

    private static void AddBytes(List<(string, byte[])> items, string location, byte[] bytes)
    {
        items.Add((location, Lower(bytes)));
        if (AsMessagePackJson(bytes) is { } json)
        {
            items.Add((location + " (MessagePack as JSON)", Lower(Encoding.UTF8.GetBytes(json))));
        }

        if (bytes.Length > 2 && bytes[0] == 0x1f && bytes[1] == 0x8b)
        {
            using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gzip.CopyTo(output);
            items.Add((location + " (gunzipped)", Lower(output.ToArray())));
        }
    }

    /// <summary>The value as JSON when it is MessagePack (LZ4 block-array compressed or not); null when it is not.</summary>
    private static string? AsMessagePackJson(byte[] bytes)
    {
        if (bytes.Length < 2)
        {
            return null;
        }

        try
        {
            return MessagePackSerializer.ConvertToJson(bytes, MessagePackLz4);
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or InvalidOperationException or ArgumentException or OverflowException or FormatException)
        {
            // Not MessagePack (Orleans grain state, JSON, text): looked at as bytes only.
            return null;
        }
    }

    private static byte[] Lower(byte[] bytes)
    {
        var copy = (byte[])bytes.Clone();
        for (var i = 0; i < copy.Length; i++)
        {
            if (copy[i] is >= (byte)'A' and <= (byte)'Z')
            {
                copy[i] = (byte)(copy[i] + 32);
            }
        }

        return copy;
    }
}
