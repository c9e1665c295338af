using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml;

namespace MicroApps.Orleans.Catalog;

/// <summary>
/// Checks the parameters a manifest fills in against a template's or connector's <see cref="ParameterSpec"/>s, and reads
/// them back typed. Values are stored as strings: numbers in invariant culture, booleans as <c>true</c>/<c>false</c>,
/// list items one per line, durations as given.
/// </summary>
public static partial class TemplateParameters
{
    /// <summary>
    /// What is wrong with <paramref name="values"/>, as (field, message) with the field <c>{prefix}.{name}</c>: unknown
    /// names, missing required ones, and values of the wrong type or out of range. <paramref name="allowedTiers"/>
    /// bounds <see cref="ParameterKind.Tier"/> values.
    /// </summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(
        IReadOnlyList<ParameterSpec> specs, IReadOnlyDictionary<string, string>? values, IReadOnlyList<string> allowedTiers, string prefix = "parameters")
    {
        var errors = new List<(string, string)>();
        values ??= new Dictionary<string, string>();
        foreach (var name in values.Keys.Where(n => specs.All(s => s.Name != n)).Order(StringComparer.Ordinal))
        {
            errors.Add(($"{prefix}.{name}", $"Unknown parameter; this one takes {(specs.Count == 0 ? "none" : string.Join(", ", specs.Select(s => s.Name)))}."));
        }

        foreach (var spec in specs)
        {
            var field = $"{prefix}.{spec.Name}";
            if (!values.TryGetValue(spec.Name, out var value) || string.IsNullOrWhiteSpace(value))
            {
                if (spec.Required)
                {
                    errors.Add((field, $"Required: {spec.Description}"));
                }

                continue;
            }

            if (Check(spec, value, allowedTiers) is { } problem)
            {
                errors.Add((field, problem));
            }
        }

        return errors;
    }

    /// <summary>The values with every missing parameter that has a default filled in.</summary>
    public static IReadOnlyDictionary<string, string> WithDefaults(IReadOnlyList<ParameterSpec> specs, IReadOnlyDictionary<string, string>? values)
    {
        var result = new Dictionary<string, string>(values ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        foreach (var spec in specs)
        {
            if ((!result.TryGetValue(spec.Name, out var v) || string.IsNullOrWhiteSpace(v)) && spec.Default is not null)
            {
                result[spec.Name] = spec.Default;
            }
        }

        return result;
    }

    /// <summary>Text of a parameter, or <paramref name="fallback"/>.</summary>
    public static string Text(IReadOnlyDictionary<string, string>? values, string name, string fallback = "") =>
        values is not null && values.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : fallback;

    public static int Integer(IReadOnlyDictionary<string, string>? values, string name, int fallback) =>
        values is not null && values.TryGetValue(name, out var v) && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) ? n : fallback;

    public static double Number(IReadOnlyDictionary<string, string>? values, string name, double fallback) =>
        values is not null && values.TryGetValue(name, out var v) && double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) ? n : fallback;

    public static bool Boolean(IReadOnlyDictionary<string, string>? values, string name, bool fallback) =>
        values is not null && values.TryGetValue(name, out var v) && bool.TryParse(v, out var b) ? b : fallback;

    /// <summary>List items (one per line, trimmed, empty lines dropped).</summary>
    public static IReadOnlyList<string> List(IReadOnlyDictionary<string, string>? values, string name) =>
        values is not null && values.TryGetValue(name, out var v)
            ? v.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            : [];

    public static TimeSpan Duration(IReadOnlyDictionary<string, string>? values, string name, TimeSpan fallback) =>
        values is not null && values.TryGetValue(name, out var v) && TryParseDuration(v, out var d) ? d : fallback;

    /// <summary>Parses ISO 8601 (<c>PT2H</c>), <c>hh:mm:ss</c> or a number with a unit (<c>90s</c>, <c>15m</c>, <c>2h</c>, <c>3d</c>); positive only.</summary>
    public static bool TryParseDuration(string? text, out TimeSpan duration)
    {
        duration = default;
        if (string.IsNullOrWhiteSpace(text))
        {
            return false;
        }

        text = text.Trim();
        var unit = UnitDuration().Match(text);
        if (unit.Success)
        {
            var n = double.Parse(unit.Groups["n"].Value, CultureInfo.InvariantCulture);
            duration = unit.Groups["u"].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(n),
                "s" => TimeSpan.FromSeconds(n),
                "m" => TimeSpan.FromMinutes(n),
                "h" => TimeSpan.FromHours(n),
                _ => TimeSpan.FromDays(n),
            };
        }
        else if (text.StartsWith('P'))
        {
            try
            {
                duration = XmlConvert.ToTimeSpan(text);
            }
            catch (FormatException)
            {
                return false;
            }
        }
        else if (!TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out duration))
        {
            return false;
        }

        return duration > TimeSpan.Zero;
    }

    private static string? Check(ParameterSpec spec, string value, IReadOnlyList<string> allowedTiers)
    {
        switch (spec.Kind)
        {
            case ParameterKind.Text:
                return spec.Max is { } maxLength && value.Length > maxLength ? $"At most {maxLength} characters; this has {value.Length}."
                    : spec.Min is { } minLength && value.Length < minLength ? $"At least {minLength} characters." : null;
            case ParameterKind.Tier:
                return allowedTiers.Contains(value) ? null
                    : $"'{value}' is not one of the app's allowed tiers ({string.Join(", ", allowedTiers)}).";
            case ParameterKind.Integer:
                return long.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var whole) ? Range(spec, whole) : $"'{value}' is not a whole number.";
            case ParameterKind.Number:
                return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number)
                    ? Range(spec, number) : $"'{value}' is not a number.";
            case ParameterKind.Boolean:
                return value is "true" or "false" ? null : $"'{value}' is not true or false.";
            case ParameterKind.List:
                var items = value.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                return spec.Min is { } minItems && items.Length < minItems ? $"At least {minItems} item(s)."
                    : spec.Max is { } maxItems && items.Length > maxItems ? $"At most {maxItems} item(s)." : null;
            case ParameterKind.Duration:
                if (!TryParseDuration(value, out var duration))
                {
                    return $"'{value}' is not a duration (e.g. 90s, 15m, 2h, 3d or PT2H).";
                }

                return Range(spec, duration.TotalSeconds, " seconds");
            case ParameterKind.Choice:
                return spec.Choices is { } choices && choices.Contains(value) ? null : $"'{value}' is not one of {string.Join(", ", spec.Choices ?? [])}.";
            case ParameterKind.Url:
                return Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                    ? null : $"'{value}' is not an http(s) URL.";
            default:
                return null;
        }
    }

    private static string? Range(ParameterSpec spec, double value, string unit = "") =>
        spec.Min is { } min && value < min ? $"At least {min.ToString(CultureInfo.InvariantCulture)}{unit}; got {value.ToString(CultureInfo.InvariantCulture)}."
        : spec.Max is { } max && value > max ? $"At most {max.ToString(CultureInfo.InvariantCulture)}{unit}; got {value.ToString(CultureInfo.InvariantCulture)}."
        : null;

    [GeneratedRegex(@"^(?<n>[0-9]+(?:\.[0-9]+)?)\s*(?<u>ms|s|m|h|d)$")]
    private static partial Regex UnitDuration();
}
