using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MicroApps.Orleans.Packs;

/// <summary>
/// One byte sequence per JSON value, so a digest does not depend on how a tool wrote the document: object keys sorted
/// (ordinal), null-valued properties dropped (a tool that omits nulls says the same thing), no whitespace, numbers
/// written one way (integers as integers, others as the shortest round-trip double), strings escaped one way.
/// Array order is kept: it means something (tests run in order, prompts are joined in order).
/// </summary>
public static class CanonicalJson
{
    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Indented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The canonical UTF-8 bytes of <paramref name="node"/> (null is the JSON literal <c>null</c>).</summary>
    /// <exception cref="FormatException">An object repeats a property name: which value counts would depend on the reader.</exception>
    public static byte[] ToBytes(JsonNode? node)
    {
        // Through text and a JsonDocument, so values built in code and values parsed from a request look the same.
        using var document = JsonDocument.Parse(node?.ToJsonString() ?? "null");
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            Write(writer, document.RootElement, "$");
        }

        return buffer.ToArray();
    }

    /// <summary>The canonical text of <paramref name="node"/>.</summary>
    public static string ToText(JsonNode? node) => Encoding.UTF8.GetString(ToBytes(node));

    /// <summary><c>sha256:</c> and the lower-case hex SHA-256 of the canonical bytes.</summary>
    public static string Sha256(JsonNode? node) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(ToBytes(node)));

    /// <summary>A copy of <paramref name="node"/> without null-valued object properties, at any depth (array items stay).</summary>
    public static JsonNode? WithoutNulls(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (name, value) in obj)
                {
                    if (value is not null)
                    {
                        copy[name] = WithoutNulls(value);
                    }
                }

                return copy;
            case JsonArray array:
                return new JsonArray([.. array.Select(WithoutNulls)]);
            default:
                return node?.DeepClone();
        }
    }

    private static void Write(Utf8JsonWriter writer, JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = element.EnumerateObject().Where(p => p.Value.ValueKind != JsonValueKind.Null).ToList();
                var duplicate = properties.GroupBy(p => p.Name, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
                if (duplicate is not null)
                {
                    throw new FormatException($"{path}.{duplicate.Key} appears more than once");
                }

                writer.WriteStartObject();
                foreach (var property in properties.OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    Write(writer, property.Value, $"{path}.{property.Name}");
                }

                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    Write(writer, item, $"{path}[{index++}]");
                }

                writer.WriteEndArray();
                break;
            case JsonValueKind.String:
                writer.WriteStringValue(element.GetString());
                break;
            case JsonValueKind.Number:
                // 1, 1.0 and 1e0 are one number: integers as integers, the rest as the shortest double that round-trips.
                if (element.TryGetInt64(out var integer))
                {
                    writer.WriteRawValue(integer.ToString(CultureInfo.InvariantCulture));
                }
                else
                {
                    var number = element.GetDouble();
                    writer.WriteRawValue(number == Math.Floor(number) && Math.Abs(number) < 9e15
                        ? ((long)number).ToString(CultureInfo.InvariantCulture)
                        : number.ToString("R", CultureInfo.InvariantCulture));
                }

                break;
            case JsonValueKind.True:
                writer.WriteBooleanValue(true);
                break;
            case JsonValueKind.False:
                writer.WriteBooleanValue(false);
                break;
            default:
                writer.WriteNullValue();
                break;
        }
    }
}
