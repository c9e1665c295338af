using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Json.Schema;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Governance;

/// <summary>The outcome of one regression assertion: whether it held and, either way, what was seen.</summary>
public sealed record AssertionResult(bool Passed, string Detail);

/// <summary>
/// Checks prompt regression assertions (<c>contains</c>, <c>not_contains</c>, <c>regex</c>, <c>json_schema</c>,
/// <c>max_tokens</c>, <c>max_cost_usd</c>) against a model's answer.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item><c>contains</c> / <c>not_contains</c>: case-insensitive ordinal substring test (no culture rules, no
/// normalisation: "Refund" matches "REFUND" but "é" does not match "e").</item>
/// <item><c>regex</c>: .NET regular expression, culture-invariant, matched anywhere in the output with a 1 second
/// timeout; a timeout fails the assertion and says so.</item>
/// <item><c>json_schema</c>: the output, with surrounding <c>```json</c> fences and whitespace trimmed, must parse as
/// JSON and validate against the schema (JSON Schema 2020-12 unless the schema's <c>$schema</c> names another draft).</item>
/// <item><c>max_tokens</c>: the answer's output tokens must be at most the value (a positive integer).</item>
/// <item><c>max_cost_usd</c>: the call's cost must be at most the value (a non-negative decimal, invariant culture).</item>
/// </list>
/// </remarks>
public static class RegressionAssertions
{
    public const string Contains = "contains";
    public const string NotContains = "not_contains";
    public const string Regex = "regex";
    public const string JsonSchema = "json_schema";
    public const string MaxTokens = "max_tokens";
    public const string MaxCostUsd = "max_cost_usd";

    /// <summary>How long a <c>regex</c> assertion may run before it fails as a timeout.</summary>
    public static TimeSpan RegexTimeout { get; } = TimeSpan.FromSeconds(1);

    public static IReadOnlyList<string> Kinds { get; } = [Contains, NotContains, Regex, JsonSchema, MaxTokens, MaxCostUsd];

    /// <summary>What is wrong with an assertion (unknown kind, bad regex or schema, not a number), or null when it is usable.</summary>
    public static string? Validate(RegressionAssertion assertion)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        var value = assertion.Value ?? "";
        switch (assertion.Kind)
        {
            case Contains or NotContains:
                return value.Length == 0 ? $"{assertion.Kind} needs a non-empty text to look for" : null;
            case Regex:
                return TryBuildRegex(value, out _, out var regexError) ? null : $"regex '{value}' does not compile: {regexError}";
            case JsonSchema:
                return TryBuildSchema(value, out _, out var schemaError) ? null : $"json_schema is not a valid JSON schema: {schemaError}";
            case MaxTokens:
                return TryParseMaxTokens(value, out _) ? null : $"max_tokens must be a positive integer, got '{value}'";
            case MaxCostUsd:
                return TryParseMaxCost(value, out _) ? null : $"max_cost_usd must be a non-negative decimal (e.g. 0.002), got '{value}'";
            default:
                return $"unknown assertion kind '{assertion.Kind}': kind must be one of {string.Join(", ", Kinds)}";
        }
    }

    /// <summary>Checks one assertion against an answer, its usage and its cost.</summary>
    /// <exception cref="ArgumentException">The assertion is not valid (see <see cref="Validate"/>).</exception>
    public static AssertionResult Check(RegressionAssertion assertion, string output, TokenUsage usage, decimal costUsd)
    {
        ArgumentNullException.ThrowIfNull(assertion);
        ArgumentNullException.ThrowIfNull(usage);
        output ??= "";
        var value = assertion.Value ?? "";
        switch (assertion.Kind)
        {
            case Contains or NotContains when value.Length > 0:
            {
                var found = output.Contains(value, StringComparison.OrdinalIgnoreCase);
                var passed = assertion.Kind == Contains ? found : !found;
                return new AssertionResult(passed, found ? $"output contains '{value}'" : $"output does not contain '{value}'");
            }
            case Regex when TryBuildRegex(value, out var regex, out _):
                try
                {
                    var match = regex.Match(output);
                    return match.Success
                        ? new AssertionResult(true, $"output matches /{value}/ at {match.Index}: '{Shorten(match.Value)}'")
                        : new AssertionResult(false, $"output does not match /{value}/");
                }
                catch (RegexMatchTimeoutException)
                {
                    return new AssertionResult(false, $"regex /{value}/ timed out after {RegexTimeout.TotalSeconds:0.#} s on a {output.Length}-character output");
                }
            case JsonSchema when TryBuildSchema(value, out var schema, out _):
                return CheckJson(schema, output);
            case MaxTokens when TryParseMaxTokens(value, out var maxTokens):
                return usage.OutputTokens <= maxTokens
                    ? new AssertionResult(true, $"used {usage.OutputTokens} tokens <= max {maxTokens}")
                    : new AssertionResult(false, $"used {usage.OutputTokens} tokens > max {maxTokens}");
            case MaxCostUsd when TryParseMaxCost(value, out var maxCost):
                return costUsd <= maxCost
                    ? new AssertionResult(true, $"cost ${costUsd.ToString(CultureInfo.InvariantCulture)} <= max ${maxCost.ToString(CultureInfo.InvariantCulture)}")
                    : new AssertionResult(false, $"cost ${costUsd.ToString(CultureInfo.InvariantCulture)} > max ${maxCost.ToString(CultureInfo.InvariantCulture)}");
            default:
                throw new ArgumentException(Validate(assertion) ?? $"assertion '{assertion.Kind}' is not valid", nameof(assertion));
        }
    }

    private static AssertionResult CheckJson(Json.Schema.JsonSchema schema, string output)
    {
        var json = TrimFences(output);
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            return new AssertionResult(false, $"output is not JSON: {e.Message}");
        }

        using (document)
        {
            var results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (results.IsValid)
            {
                return new AssertionResult(true, "output is JSON that matches the schema");
            }

            var errors = (results.Details ?? [])
                .Where(d => d.Errors is { Count: > 0 })
                .SelectMany(d => d.Errors!.Select(e => $"{(d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/")}: {e.Value}"))
                .Concat(results.Errors?.Select(e => $"/: {e.Value}") ?? [])
                .Distinct()
                .Take(5)
                .ToList();
            return new AssertionResult(false, errors.Count == 0
                ? "output JSON does not match the schema"
                : $"output JSON does not match the schema: {string.Join("; ", errors)}");
        }
    }

    /// <summary>Models often wrap JSON in a Markdown fence; the assertion is about the JSON, not the wrapping.</summary>
    internal static string TrimFences(string output)
    {
        var text = output.Trim();
        if (!text.StartsWith("```", StringComparison.Ordinal))
        {
            return text;
        }

        var firstLineEnd = text.IndexOf('\n');
        if (firstLineEnd < 0)
        {
            return text;
        }

        var body = text[(firstLineEnd + 1)..].TrimEnd();
        if (body.EndsWith("```", StringComparison.Ordinal))
        {
            body = body[..^3];
        }

        return body.Trim();
    }

    private static bool TryBuildRegex(string pattern, out Regex regex, out string error)
    {
        regex = null!;
        if (pattern.Length == 0)
        {
            error = "the pattern is empty";
            return false;
        }

        try
        {
            regex = new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
            error = "";
            return true;
        }
        catch (ArgumentException e)
        {
            error = e.Message;
            return false;
        }
    }

    private static bool TryBuildSchema(string text, out Json.Schema.JsonSchema schema, out string error)
    {
        schema = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "the schema is empty";
            return false;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            error = $"not JSON: {e.Message}";
            return false;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind is not (JsonValueKind.Object or JsonValueKind.True or JsonValueKind.False))
            {
                error = $"a schema is an object or a boolean, not {root.ValueKind.ToString().ToLowerInvariant()}";
                return false;
            }

            // Checked against the meta-schema first so "type": "strin" or "minLength": -1 is named, not silently ignored.
            var meta = MetaSchemas.Draft202012.Evaluate(root, new EvaluationOptions { OutputFormat = OutputFormat.List });
            if (!meta.IsValid)
            {
                var problems = (meta.Details ?? [])
                    .Where(d => d.Errors is { Count: > 0 })
                    .SelectMany(d => d.Errors!.Select(e => $"{(d.InstanceLocation.ToString() is { Length: > 0 } at ? at : "/")}: {e.Value}"))
                    .Distinct()
                    .Take(3)
                    .ToList();
                error = problems.Count == 0 ? "it does not match the JSON Schema meta-schema" : string.Join("; ", problems);
                return false;
            }

            try
            {
                // A private registry: schemas with an $id must not collide in the library's global registry.
                schema = Json.Schema.JsonSchema.Build(root.Clone(), new BuildOptions { SchemaRegistry = new SchemaRegistry() });
                error = "";
                return true;
            }
            catch (Exception e) when (e is JsonSchemaException or JsonException or ArgumentException or RefResolutionException or InvalidOperationException)
            {
                error = e.Message;
                return false;
            }
        }
    }

    private static bool TryParseMaxTokens(string value, out int max) =>
        int.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out max) && max > 0;

    private static bool TryParseMaxCost(string value, out decimal max) =>
        decimal.TryParse(value.Trim(), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out max) && max >= 0;

    private static string Shorten(string text) => text.Length <= 60 ? text : text[..57] + "...";
}
