using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Cli.Infrastructure;

namespace MicroApps.Orleans.Cli.Manifests;

/// <summary>What <c>microapps new</c> fills into a manifest skeleton besides the template.</summary>
internal sealed record SkeletonInput(string AppId, string? Name, string? Owner, string? Team);

/// <summary>
/// A commented YAML manifest for a catalog template: the app's fields (required ones marked), the template reference,
/// and every template parameter with its description: required ones to fill in, optional ones commented out with their
/// default. Once the values marked REQUIRED are filled in, <c>microapps validate</c> accepts it.
/// </summary>
internal static class ManifestSkeleton
{
    private static readonly JsonSerializerOptions Quoting = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The newest entry of a catalog answer: an entry, an array of versions, or an object holding <c>versions</c>/<c>entries</c>.</summary>
    public static JsonObject? NewestEntry(JsonNode? answer)
    {
        var candidates = answer switch
        {
            JsonArray array => array.OfType<JsonObject>().ToList(),
            JsonObject o when o["versions"] is JsonArray v => v.OfType<JsonObject>().ToList(),
            JsonObject o when o["entries"] is JsonArray e => e.OfType<JsonObject>().ToList(),
            JsonObject o when o["entry"] is JsonObject entry => [entry],
            JsonObject o => [o],
            _ => [],
        };
        return candidates
            .Select(c => c["entry"] as JsonObject ?? c)
            .Where(c => J.Str(c, "name").Length > 0)
            .OrderByDescending(c => SemVer(J.Str(c, "version")))
            .FirstOrDefault();
    }

    public static string Render(JsonObject template, SkeletonInput input)
    {
        var name = J.Str(template, "name");
        var version = J.Str(template, "version");
        var parameters = J.Arr(template, "parameters").OfType<JsonObject>().ToList();
        var tier = parameters.FirstOrDefault(p => J.Str(p, "kind").Equals("tier", StringComparison.OrdinalIgnoreCase)) is { } tierSpec && J.Str(tierSpec, "default") is { Length: > 0 } t
            ? t
            : "standard";

        var yaml = new StringBuilder();
        yaml.AppendLine($"# MicroApps manifest of '{input.AppId}', made from the catalog template {name}@{version}.");
        if (J.Str(template, "description") is { Length: > 0 } description)
        {
            yaml.AppendLine($"# {name}: {OneLine(description)}");
        }

        yaml.AppendLine("# Fill in every value marked REQUIRED, then: microapps validate <this file>; microapps push <this file>.");
        yaml.AppendLine();
        yaml.AppendLine($"appId: {input.AppId}");
        yaml.AppendLine(Commented($"name: {Quote(input.Name ?? input.AppId)}", "REQUIRED: what people call the app"));
        yaml.AppendLine(input.Owner is { Length: > 0 } owner
            ? $"owner: {Quote(owner)}"
            : Commented("# owner: you", "who answers for the app (default: the principal of the token that pushes it)"));
        yaml.AppendLine(input.Team is { Length: > 0 } team ? $"team: {Quote(team)}" : Commented("team: \"\"", "REQUIRED: the team that pays for the app"));
        yaml.AppendLine(Commented("audience: internal", "internal | external (external apps always need an approver)"));
        yaml.AppendLine(Commented("dataClasses: []", "data the app handles, e.g. [email, phone]"));
        yaml.AppendLine(Commented($"allowedTiers: [{tier}]", "model tiers the app may use"));
        yaml.AppendLine($"defaultTier: {tier}");
        yaml.AppendLine("quotas:");
        yaml.AppendLine("  requestsPerMinute: 60");
        yaml.AppendLine("  tokensPerDay: 200000");
        yaml.AppendLine(Commented("budget:", "the app's own budget; leave it out to share the one named by budgetId"));
        yaml.AppendLine("  limitUsd: 5");
        yaml.AppendLine(Commented("  period: day", "day | month"));
        yaml.AppendLine();
        yaml.AppendLine($"template: {name}@{version}");
        if (parameters.Count == 0)
        {
            yaml.AppendLine("parameters: {}");
        }
        else
        {
            yaml.AppendLine("parameters:");
            foreach (var parameter in parameters)
            {
                AppendParameter(yaml, parameter);
            }
        }

        yaml.AppendLine();
        yaml.AppendLine("# Regression tests run when the app is submitted (and by `microapps test APP`). Assertion kinds: contains,");
        yaml.AppendLine("# not_contains, regex, json_schema, max_tokens, max_cost_usd. For example:");
        yaml.AppendLine("# tests:");
        yaml.AppendLine("#   - name: keeps-the-point");
        yaml.AppendLine("#     input: \"Orleans grains are virtual actors. Each budget is a grain.\"");
        yaml.AppendLine("#     assertions:");
        yaml.AppendLine("#       - {kind: contains, value: grain}");
        yaml.AppendLine("#       - {kind: max_tokens, value: \"300\"}");
        return yaml.ToString();
    }

    private static void AppendParameter(StringBuilder yaml, JsonObject parameter)
    {
        var name = J.Str(parameter, "name");
        var kind = J.Str(parameter, "kind").ToLowerInvariant();
        var required = J.Bool(parameter, "required");
        var fallback = parameter["default"] is JsonValue d && d.TryGetValue<string>(out var text) ? text : null;

        var about = new StringBuilder($"  # {name} ({kind}{Range(parameter, kind)}){(required ? " REQUIRED" : "")}: {OneLine(J.Str(parameter, "description"))}");
        if (J.Arr(parameter, "choices") is { Count: > 0 } choices)
        {
            about.Append($" One of: {string.Join(", ", choices.Select(FrontDoorClient.Text))}.");
        }

        yaml.AppendLine(about.ToString());
        if (required)
        {
            yaml.AppendLine($"  {name}: {Value(kind, fallback)}");
        }
        else if (fallback is not null)
        {
            yaml.AppendLine(Commented($"  # {name}: {Value(kind, fallback)}", "default"));
        }
        else
        {
            yaml.AppendLine($"  # {name}: {Value(kind, null)}");
        }
    }

    private static string Range(JsonObject parameter, string kind)
    {
        var min = parameter["min"] is JsonValue a && a.TryGetValue<double>(out var lo) ? lo : (double?)null;
        var max = parameter["max"] is JsonValue b && b.TryGetValue<double>(out var hi) ? hi : (double?)null;
        if (min is null && max is null)
        {
            return "";
        }

        var unit = kind switch
        {
            "text" => " characters",
            "list" => " items",
            "duration" => " seconds",
            _ => "",
        };
        string N(double? v) => v?.ToString(CultureInfo.InvariantCulture) ?? "";
        return min is not null && max is not null ? $", {N(min)}–{N(max)}{unit}"
            : min is not null ? $", at least {N(min)}{unit}"
            : $", at most {N(max)}{unit}";
    }

    /// <summary>A parameter value in YAML: lists as flow sequences (stored one item per line), numbers and booleans bare, text quoted.</summary>
    private static string Value(string kind, string? value)
    {
        switch (kind)
        {
            case "list":
                var items = (value ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                return "[" + string.Join(", ", items.Select(Quote)) + "]";
            case "integer" or "number" or "boolean" when value is not null:
                return value;
            case "tier" or "choice" when value is { Length: > 0 }:
                return Word(value);
            default:
                return Quote(value ?? "");
        }
    }

    private static string Quote(string text) => JsonSerializer.Serialize(text, Quoting);

    /// <summary>A bare word when YAML reads it back as the same string (tier names, choices); else a quoted string.</summary>
    private static string Word(string text) =>
        System.Text.RegularExpressions.Regex.IsMatch(text, "^[A-Za-z][A-Za-z0-9_.-]*$")
        && text.ToLowerInvariant() is not ("true" or "false" or "yes" or "no" or "on" or "off" or "null" or "y" or "n")
            ? text
            : Quote(text);

    /// <summary>A line with its comment in the comment column, so the skeleton reads as a form.</summary>
    private static string Commented(string line, string comment) => $"{line.PadRight(34)} # {comment}";

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    private static (int, int, int) SemVer(string version)
    {
        var parts = version.Split('.');
        int Part(int i) => parts.Length > i && int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0;
        return (Part(0), Part(1), Part(2));
    }
}
