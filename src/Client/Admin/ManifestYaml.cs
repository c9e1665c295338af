using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// Converts a manifest document between YAML and JSON, so that a YAML manifest goes through exactly the path (and gets
/// exactly the errors) of the same manifest in JSON. Plain scalars follow the YAML 1.2 core schema (null, true/false,
/// integers and floats become JSON null, booleans and numbers; everything else is a string); quoted and block scalars
/// are always strings.
/// </summary>
public static partial class ManifestYaml
{
    /// <summary>Content types read as YAML.</summary>
    public static IReadOnlyList<string> ContentTypes { get; } = ["application/yaml", "application/x-yaml", "text/yaml"];

    /// <summary>Whether <paramref name="contentType"/> (with or without parameters) is one of <see cref="ContentTypes"/>.</summary>
    public static bool IsYaml(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return false;
        }

        var media = contentType.Split(';', 2)[0].Trim();
        return ContentTypes.Contains(media, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The outcome of reading YAML: the JSON, or where (1-based line and column) and what is wrong.</summary>
    public sealed record Conversion(JsonNode? Json, int Line = 0, int Column = 0, string? Error = null)
    {
        public bool Ok => Error is null;
    }

    /// <summary>Reads one YAML document into the same JSON a JSON client would have sent.</summary>
    public static Conversion ToJson(string yaml)
    {
        if (string.IsNullOrWhiteSpace(yaml))
        {
            return new(null, 1, 1, "The document is empty; a manifest is a YAML mapping (name: ..., team: ..., template: ...).");
        }

        var stream = new YamlStream();
        var parser = new Parser(new StringReader(yaml));
        try
        {
            stream.Load(parser);
        }
        catch (YamlException ex)
        {
            return new(null, YamlMarks.Line(ex.Start), YamlMarks.Column(ex.Start), "YAML syntax error: " + YamlMarks.Message(ex));
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way on some malformed input (an unclosed flow sequence); the last event
            // it produced is the best position there is.
            var at = parser.Current?.End;
            return new(null, at is { } m ? YamlMarks.Line(m) : 1, at is { } c ? YamlMarks.Column(c) : 1,
                "YAML syntax error: the document cannot be read after this point; check for an unclosed '[', '{' or quote, or broken indentation.");
        }

        if (stream.Documents.Count != 1)
        {
            var second = stream.Documents.Count > 1 ? stream.Documents[1].RootNode.Start : default;
            return stream.Documents.Count == 0
                ? new(null, 1, 1, "The document is empty; a manifest is a YAML mapping (name: ..., team: ..., template: ...).")
                : new(null, YamlMarks.Line(second), YamlMarks.Column(second), $"Expected exactly one YAML document, found {stream.Documents.Count}.");
        }

        try
        {
            return new(Convert(stream.Documents[0].RootNode, depth: 0));
        }
        catch (ConversionException ex)
        {
            return new(null, YamlMarks.Line(ex.At), YamlMarks.Column(ex.At), ex.Message);
        }
    }

    /// <summary>
    /// Writes JSON as block-style YAML that <see cref="ToJson"/> reads back to the same JSON: strings that would read as
    /// another type are quoted, multi-line strings are literal blocks.
    /// </summary>
    public static string FromJson(JsonNode? json)
    {
        var document = new YamlDocument(ToYamlNode(json));
        var stream = new YamlStream(document);
        var writer = new StringWriter(CultureInfo.InvariantCulture);
        stream.Save(writer, assignAnchors: false);
        var text = writer.ToString();

        // YamlStream ends a document with an explicit "..." marker; a manifest file reads better without it.
        text = text.TrimEnd();
        if (text.EndsWith("\n...", StringComparison.Ordinal))
        {
            text = text[..^4].TrimEnd();
        }

        return text + "\n";
    }

    private const int MaxDepth = 64;

    private static JsonNode? Convert(YamlNode node, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ConversionException(node.Start, $"The document nests deeper than {MaxDepth} levels.");
        }

        switch (node)
        {
            case YamlMappingNode map:
                var obj = new JsonObject();
                foreach (var (keyNode, valueNode) in map.Children)
                {
                    if (keyNode is not YamlScalarNode { Value: { } key })
                    {
                        throw new ConversionException(keyNode.Start, "A mapping key must be a plain name (text), not a list or a mapping.");
                    }

                    if (obj.ContainsKey(key))
                    {
                        throw new ConversionException(keyNode.Start, $"Duplicate key '{key}'.");
                    }

                    obj[key] = Convert(valueNode, depth + 1);
                }

                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(Convert(item, depth + 1));
                }

                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new ConversionException(node.Start, "Unsupported YAML node.");
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str" || scalar.Style is not (ScalarStyle.Plain or ScalarStyle.Any))
        {
            return JsonValue.Create(value);
        }

        if (CoreNull().IsMatch(value))
        {
            return null;
        }

        if (value is "true" or "True" or "TRUE")
        {
            return JsonValue.Create(true);
        }

        if (value is "false" or "False" or "FALSE")
        {
            return JsonValue.Create(false);
        }

        if (CoreInteger().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var whole))
        {
            return JsonValue.Create(whole);
        }

        if (CoreFloat().IsMatch(value) && decimal.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(value);
    }

    private static YamlNode ToYamlNode(JsonNode? json)
    {
        switch (json)
        {
            case null:
                return new YamlScalarNode("null") { Style = ScalarStyle.Plain };
            case JsonObject obj:
                var map = new YamlMappingNode();
                foreach (var (key, child) in obj)
                {
                    map.Add(new YamlScalarNode(key) { Style = NeedsQuotes(key) ? ScalarStyle.DoubleQuoted : ScalarStyle.Plain }, ToYamlNode(child));
                }

                return map;
            case JsonArray array:
                var sequence = new YamlSequenceNode();
                foreach (var item in array)
                {
                    sequence.Add(ToYamlNode(item));
                }

                return sequence;
            default:
                var value = json.AsValue();
                return value.GetValueKind() switch
                {
                    System.Text.Json.JsonValueKind.String => Text(value.GetValue<string>()),
                    System.Text.Json.JsonValueKind.True => new YamlScalarNode("true") { Style = ScalarStyle.Plain },
                    System.Text.Json.JsonValueKind.False => new YamlScalarNode("false") { Style = ScalarStyle.Plain },
                    System.Text.Json.JsonValueKind.Number => new YamlScalarNode(value.ToJsonString()) { Style = ScalarStyle.Plain },
                    _ => new YamlScalarNode("null") { Style = ScalarStyle.Plain },
                };
        }
    }

    private static YamlScalarNode Text(string value)
    {
        // A literal block keeps line breaks exactly (the emitter picks the chomping indicator); trailing spaces on a
        // line or a leading space would not survive one, so those stay double-quoted.
        if (value.Contains('\n') && !value.Contains('\r') && !value.Contains('\t') && !value.Split('\n').Any(l => l.EndsWith(' ') || l.StartsWith(' ')))
        {
            return new YamlScalarNode(value) { Style = ScalarStyle.Literal };
        }

        return new YamlScalarNode(value) { Style = NeedsQuotes(value) ? ScalarStyle.DoubleQuoted : ScalarStyle.Plain };
    }

    /// <summary>Whether a plain scalar would read back as something else than this string (a number, a bool, null) or not parse.</summary>
    private static bool NeedsQuotes(string value) =>
        value.Length == 0
        || CoreNull().IsMatch(value) || value is "true" or "True" or "TRUE" or "false" or "False" or "FALSE"
        || CoreInteger().IsMatch(value) || CoreFloat().IsMatch(value)
        || !SafePlain().IsMatch(value);

    private sealed class ConversionException(Mark at, string message) : Exception(message)
    {
        public Mark At { get; } = at;
    }

    [GeneratedRegex(@"^(?:~|null|Null|NULL|)$")]
    private static partial Regex CoreNull();

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex CoreInteger();

    [GeneratedRegex(@"^[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?$|^[-+]?\.(?:inf|Inf|INF)$|^\.(?:nan|NaN|NAN)$")]
    private static partial Regex CoreFloat();

    // Text that is safe as a plain scalar in block context: starts with a letter, digit or a few safe characters, and
    // contains no ": ", " #", or characters YAML gives meaning to at the start.
    [GeneratedRegex(@"^(?![-?:,\[\]{}#&*!|>'""%@`\s])(?!.*(?::\s|\s#|:$))[^\x00-\x1f\x7f]*(?<!\s)$")]
    private static partial Regex SafePlain();
}
