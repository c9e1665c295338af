using System.Collections;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// The manifest document (<see cref="CreateAppBody"/>) as JSON or YAML: reads it from a request (YAML is converted to the
/// same JSON first, so both get the same errors), refuses fields it does not know, and writes a manifest back as a document.
/// </summary>
internal static class ManifestDocument
{
    /// <summary>Reads the body as a manifest document: JSON, or YAML when the Content-Type says so.</summary>
    public static async Task<AdminJson.Read<CreateAppBody>> ReadAsync(HttpContext context, bool allowEmpty = false)
    {
        var request = context.Request;
        if (allowEmpty && request.ContentLength == 0)
        {
            return new(null, null);
        }

        var yaml = ManifestYaml.IsYaml(request.ContentType);
        if (!yaml && !request.HasJsonContentType())
        {
            return new(null, Results.Problem(
                title: "Unsupported media type",
                detail: $"Content-Type must be application/json or YAML ({string.Join(", ", ManifestYaml.ContentTypes)}); got '{request.ContentType}'.",
                statusCode: StatusCodes.Status415UnsupportedMediaType));
        }

        string text;
        try
        {
            using var reader = new StreamReader(request.Body, Encoding.UTF8);
            text = await reader.ReadToEndAsync(context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            return new(null, Results.Problem(title: "Bad request body", detail: ex.Message, statusCode: ex.StatusCode));
        }

        if (allowEmpty && string.IsNullOrWhiteSpace(text))
        {
            return new(null, null);
        }

        JsonNode? json;
        if (yaml)
        {
            var converted = ManifestYaml.ToJson(text);
            if (!converted.Ok)
            {
                return new(null, AdminJson.Invalid("body", $"Line {converted.Line}, column {converted.Column}: {converted.Error}"));
            }

            json = converted.Json;
        }
        else
        {
            try
            {
                json = JsonNode.Parse(text);
            }
            catch (JsonException ex)
            {
                var at = ex.LineNumber is { } line ? $"Line {line + 1}, column {(ex.BytePositionInLine ?? 0) + 1}: " : "";
                return new(null, AdminJson.Invalid("body", at + "The body is not valid JSON."));
            }
        }

        return Parse(json, Options(context));
    }

    /// <summary>The document in <paramref name="json"/> as a body, or problem details naming the first field that is wrong.</summary>
    public static AdminJson.Read<CreateAppBody> Parse(JsonNode? json, JsonSerializerOptions options)
    {
        if (json is not JsonObject obj)
        {
            return new(null, AdminJson.Invalid("body", "A manifest is an object (a JSON object or a YAML mapping) of fields such as name, team, template."));
        }

        var unknown = new Dictionary<string, string[]>(StringComparer.Ordinal);
        FindUnknown(obj, typeof(CreateAppBody), "", unknown);
        if (unknown.Count > 0)
        {
            return new(null, TypedResults.ValidationProblem(unknown, title: "Invalid request"));
        }

        try
        {
            var body = obj.Deserialize<CreateAppBody>(options);
            return body is null ? new(null, AdminJson.Invalid("body", "A manifest object is required.")) : new(body, null);
        }
        catch (JsonException ex)
        {
            var field = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? "body" : ex.Path.StartsWith("$.", StringComparison.Ordinal) ? ex.Path[2..] : ex.Path.TrimStart('$');
            return new(null, AdminJson.Invalid(field, $"'{field}' has the wrong type (see GET /admin/manifests/schema)."));
        }
    }

    /// <summary>The serializer options of the admin API (camelCase, enums as lower-case strings).</summary>
    public static JsonSerializerOptions Options(HttpContext context) =>
        context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;

    /// <summary>
    /// The document of <paramref name="manifest"/>: <c>appId</c> then the manifest's fields, as the admin API serialises
    /// them; posting it back describes the same manifest.
    /// </summary>
    public static JsonObject Document(string appId, AppManifest manifest, JsonSerializerOptions options)
    {
        var fields = JsonSerializer.SerializeToNode(manifest, options)!.AsObject();
        var document = new JsonObject { ["appId"] = appId };
        foreach (var (key, value) in fields.ToList())
        {
            fields.Remove(key);
            if (value is null && key is "template" or "lineage" or "limits" or "savings")
            {
                // Absent and null mean the same; leaving them out keeps documents short.
                continue;
            }

            document[key] = value;
        }

        return document;
    }

    /// <summary>Camel-cased field names of a body record, in declaration order.</summary>
    public static IReadOnlyList<string> FieldNames(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).ToList();

    /// <summary>
    /// Names every field of <paramref name="node"/> that <paramref name="type"/> (a body record) does not have, at any
    /// depth the document describes with records; maps (parameters, settings) take any name.
    /// </summary>
    private static void FindUnknown(JsonNode? node, Type type, string path, Dictionary<string, string[]> unknown)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (node is JsonArray array && ElementType(type) is { } element)
        {
            for (var i = 0; i < array.Count; i++)
            {
                FindUnknown(array[i], element, $"{path}[{i}]", unknown);
            }

            return;
        }

        if (node is not JsonObject obj || !IsRecord(type))
        {
            return;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetIndexParameters().Length == 0 && p.Name != "EqualityContract")
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in obj)
        {
            var field = path.Length == 0 ? key : $"{path}.{key}";
            if (!properties.TryGetValue(key, out var property))
            {
                var known = string.Join(", ", properties.Values.Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)));
                unknown[field] = [$"Unknown field '{key}'; {(path.Length == 0 ? "a manifest" : $"'{path}'")} has {known}."];
                continue;
            }

            FindUnknown(value, property.PropertyType, field, unknown);
        }
    }

    private static bool IsRecord(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace is { } ns
        && (ns.StartsWith("MicroApps.Orleans", StringComparison.Ordinal)) && type.GetMethod("<Clone>$") is not null;

    private static Type? ElementType(Type type)
    {
        if (type == typeof(string) || !typeof(IEnumerable).IsAssignableFrom(type))
        {
            return null;
        }

        if (type.IsGenericType && type.GetGenericArguments() is [var only])
        {
            return only;
        }

        return null;
    }

    /// <summary>
    /// A parameter or setting value as stored: strings as given, numbers in invariant culture, booleans as
    /// <c>true</c>/<c>false</c>, lists one item per line; null for JSON null (treated as left out).
    /// </summary>
    public static IReadOnlyDictionary<string, string>? ValuesOf(IReadOnlyDictionary<string, JsonElement>? values, string prefix, AdminEndpoints.Errors errors)
    {
        if (values is null)
        {
            return null;
        }

        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in values)
        {
            var field = $"{prefix}.{name}";
            switch (value.ValueKind)
            {
                case JsonValueKind.Null or JsonValueKind.Undefined:
                    break;
                case JsonValueKind.Array:
                    var items = new List<string>();
                    var index = 0;
                    foreach (var item in value.EnumerateArray())
                    {
                        if (ScalarText(item) is not { } text)
                        {
                            errors.Add($"{field}[{index}]", "A list item must be a string, number or true/false.");
                        }
                        else if (text.Contains('\n') || text.Contains('\r'))
                        {
                            errors.Add($"{field}[{index}]", "A list item must be one line.");
                        }
                        else if (text.Trim().Length > 0)
                        {
                            items.Add(text.Trim());
                        }

                        index++;
                    }

                    result[name] = string.Join("\n", items);
                    break;
                default:
                    if (ScalarText(value) is { } scalar)
                    {
                        result[name] = scalar;
                    }
                    else
                    {
                        errors.Add(field, "Must be a string, number, true/false or a list of strings.");
                    }

                    break;
            }
        }

        return result;
    }

    /// <summary>A string, number or boolean as text (numbers in invariant culture); null for anything else.</summary>
    public static string? ScalarText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        JsonValueKind.Number => value.TryGetInt64(out var whole) ? whole.ToString(CultureInfo.InvariantCulture)
            : value.TryGetDecimal(out var number) ? number.ToString(CultureInfo.InvariantCulture)
            : value.GetDouble().ToString("R", CultureInfo.InvariantCulture),
        _ => null,
    };
}

/// <summary>
/// Reads a text field that a YAML author may well write as a number or a boolean (<c>value: 100</c> in a
/// <c>max_tokens</c> assertion) as its text, in invariant culture; writes it as a string.
/// </summary>
public sealed class ScalarTextJsonConverter : JsonConverter<string>
{
    public override bool HandleNull => false;

    public override string? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        using var document = JsonDocument.ParseValue(ref reader);
        return ManifestDocument.ScalarText(document.RootElement) ?? throw new JsonException("Expected a string, number or true/false.");
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options) => writer.WriteStringValue(value);
}
