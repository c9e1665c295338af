using System.Globalization;
using System.Text.RegularExpressions;
using MicroApps.Orleans.Apps;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MicroApps.Orleans.Policies;

/// <summary>The parsed document, or every error found in it (never both).</summary>
public sealed record PolicyParseResult(PolicyDocument? Document, IReadOnlyList<PolicyError> Errors)
{
    public bool IsValid => Document is not null;
}

/// <summary>
/// Parses a policy document (YAML) into a <see cref="PolicyDocument"/>, or lists what is wrong with it, each error
/// with the 1-based line and column of the node it is about. It reads YamlDotNet's representation model rather than
/// deserializing into classes so that every semantic error (unknown fact, bad operator, route without tier...) can
/// point at its node.
/// </summary>
public static partial class PolicyParser
{
    /// <summary>Actions as written in YAML.</summary>
    public static IReadOnlyDictionary<string, PolicyAction> Actions { get; } = new Dictionary<string, PolicyAction>(StringComparer.Ordinal)
    {
        ["allow"] = PolicyAction.Allow,
        ["block"] = PolicyAction.Block,
        ["route"] = PolicyAction.Route,
        ["redact"] = PolicyAction.Redact,
        ["require_approval"] = PolicyAction.RequireApproval,
        ["sample"] = PolicyAction.Sample,
    };

    private static readonly string ActionNames = string.Join(", ", Actions.Keys);

    private static readonly Dictionary<string, ComparisonOperator> MapOperators = new(StringComparer.Ordinal)
    {
        ["eq"] = ComparisonOperator.Equal,
        ["ne"] = ComparisonOperator.NotEqual,
        ["gt"] = ComparisonOperator.Greater,
        ["gte"] = ComparisonOperator.GreaterOrEqual,
        ["lt"] = ComparisonOperator.Less,
        ["lte"] = ComparisonOperator.LessOrEqual,
    };

    private static readonly (string Symbol, ComparisonOperator Operator)[] SymbolOperators =
    [
        (">=", ComparisonOperator.GreaterOrEqual),
        ("<=", ComparisonOperator.LessOrEqual),
        ("==", ComparisonOperator.Equal),
        ("!=", ComparisonOperator.NotEqual),
        (">", ComparisonOperator.Greater),
        ("<", ComparisonOperator.Less),
    ];

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")]
    private static partial Regex PolicyIdPattern();

    /// <summary>Parses and validates <paramref name="yaml"/>.</summary>
    /// <param name="yaml">The document.</param>
    /// <param name="knownTiers">Tiers a route or sample may name; null to accept any name.</param>
    public static PolicyParseResult Parse(string? yaml, IReadOnlyCollection<string>? knownTiers = null)
    {
        var errors = new List<PolicyError>();
        if (string.IsNullOrWhiteSpace(yaml))
        {
            errors.Add(new PolicyError(1, 1, "The document is empty; it needs a 'policies:' list and/or a 'quotas:' map."));
            return new PolicyParseResult(null, errors);
        }

        var stream = new YamlStream();
        var events = new Parser(new StringReader(yaml));
        try
        {
            stream.Load(events);
        }
        catch (YamlException ex)
        {
            errors.Add(new PolicyError(YamlMarks.Line(ex.Start), YamlMarks.Column(ex.Start), "YAML syntax error: " + YamlMarks.Message(ex)));
            return new PolicyParseResult(null, errors);
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's scanner fails this way on some malformed input (e.g. an unclosed flow sequence); the last
            // event it produced is the best position we have.
            var at = events.Current?.End;
            errors.Add(new PolicyError(at is { } mark ? YamlMarks.Line(mark) : 1, at is { } m ? YamlMarks.Column(m) : 1,
                "YAML syntax error: the document cannot be read after this point; check for an unclosed '[', '{' or quote, or broken indentation."));
            return new PolicyParseResult(null, errors);
        }

        if (stream.Documents.Count == 0)
        {
            errors.Add(new PolicyError(1, 1, "The document is empty; it needs a 'policies:' list and/or a 'quotas:' map."));
            return new PolicyParseResult(null, errors);
        }

        if (stream.Documents.Count != 1)
        {
            var at = stream.Documents.Count > 1 ? stream.Documents[1].RootNode : null;
            errors.Add(new PolicyError(at is null ? 1 : YamlMarks.Line(at.Start), at is null ? 1 : YamlMarks.Column(at.Start), $"Expected exactly one YAML document, found {stream.Documents.Count}."));
            return new PolicyParseResult(null, errors);
        }

        var parser = new Reader(errors, knownTiers);
        var document = parser.ReadDocument(stream.Documents[0].RootNode);
        return errors.Count == 0 ? new PolicyParseResult(document, []) : new PolicyParseResult(null, errors);
    }

    private sealed class Reader(List<PolicyError> errors, IReadOnlyCollection<string>? knownTiers)
    {
        public PolicyDocument ReadDocument(YamlNode root)
        {
            if (root is not YamlMappingNode map)
            {
                if (IsNull(root))
                {
                    Error(root, "The document is empty; it needs a 'policies:' list and/or a 'quotas:' map.");
                }
                else
                {
                    Error(root, "The document must be a map with 'policies:' and/or 'quotas:'.");
                }

                return PolicyDocument.Empty;
            }

            var policies = new List<PolicyRule>();
            var quotas = PolicyQuotaSection.None;
            foreach (var (keyNode, value) in map.Children)
            {
                switch (KeyOf(keyNode))
                {
                    case "policies":
                        policies = ReadPolicies(value);
                        break;
                    case "quotas":
                        quotas = ReadQuotas(value);
                        break;
                    case var other:
                        Error(keyNode, $"Unknown top-level key '{other}'; expected 'policies' or 'quotas'.");
                        break;
                }
            }

            return new PolicyDocument(policies, quotas);
        }

        private List<PolicyRule> ReadPolicies(YamlNode node)
        {
            var rules = new List<PolicyRule>();
            if (IsNull(node))
            {
                return rules;
            }

            if (node is not YamlSequenceNode list)
            {
                Error(node, "'policies' must be a list of policies (each item starting with '- id: ...').");
                return rules;
            }

            var ids = new HashSet<string>(StringComparer.Ordinal);
            foreach (var item in list.Children)
            {
                if (ReadPolicy(item) is { } rule)
                {
                    if (!ids.Add(rule.Id))
                    {
                        var idNode = ((YamlMappingNode)item).Children.First(c => KeyOf(c.Key) == "id").Value;
                        Error(idNode, $"Duplicate policy id '{rule.Id}'; ids must be unique.");
                        continue;
                    }

                    rules.Add(rule);
                }
            }

            return rules;
        }

        private PolicyRule? ReadPolicy(YamlNode node)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node, "Each policy must be a map with 'id', 'condition' and 'action'.");
                return null;
            }

            var before = errors.Count;
            string? id = null;
            var idSeen = false;
            var description = "";
            var conditions = new List<PolicyCondition>();
            YamlNode? actionNode = null;
            PolicyAction? action = null;
            YamlNode? tierNode = null;
            string? tier = null;
            YamlNode? shareNode = null;
            double? share = null;

            foreach (var (keyNode, value) in map.Children)
            {
                switch (KeyOf(keyNode))
                {
                    case "id":
                        idSeen = true;
                        id = Text(value, "id");
                        if (id is not null && !PolicyIdPattern().IsMatch(id))
                        {
                            Error(value, $"Policy id '{id}' must be 1–100 characters of letters, digits, '_', '.' and '-', starting with a letter or digit.");
                        }

                        break;
                    case "description":
                        description = IsNull(value) ? "" : Text(value, "description") ?? "";
                        break;
                    case "condition":
                        conditions = ReadConditions(value);
                        break;
                    case "action":
                        actionNode = value;
                        var name = Text(value, "action");
                        if (name is not null)
                        {
                            if (Actions.TryGetValue(name, out var parsed))
                            {
                                action = parsed;
                            }
                            else
                            {
                                Error(value, $"Unknown action '{name}'; expected one of {ActionNames}.");
                            }
                        }

                        break;
                    case "tier":
                        tierNode = value;
                        tier = Text(value, "tier");
                        if (tier is not null && knownTiers is not null && !knownTiers.Contains(tier, StringComparer.OrdinalIgnoreCase))
                        {
                            Error(value, $"Unknown tier '{tier}'; configured tiers: {string.Join(", ", knownTiers)}.");
                        }

                        break;
                    case "share":
                        shareNode = value;
                        if (Number(value) is { } number)
                        {
                            if (number is > 0m and <= 1m)
                            {
                                share = (double)number;
                            }
                            else
                            {
                                Error(value, $"share must be greater than 0 and at most 1 (a fraction, e.g. 0.1 for 10%), got {number.ToString(CultureInfo.InvariantCulture)}.");
                            }
                        }
                        else
                        {
                            Error(value, $"share must be a number in (0, 1], got '{Describe(value)}'.");
                        }

                        break;
                    case var other:
                        Error(keyNode, $"Unknown policy key '{other}'; expected id, description, condition, action, tier, share.");
                        break;
                }
            }

            if (!idSeen)
            {
                Error(map, "The policy has no 'id'.");
            }

            if (actionNode is null)
            {
                Error(map, $"Policy '{id}' has no 'action'; expected one of {ActionNames}.");
            }

            if (action is PolicyAction.Route or PolicyAction.Sample)
            {
                if (tierNode is null)
                {
                    Error(actionNode!, $"Action '{ActionName(action.Value)}' needs 'tier:' naming the tier to send the call to.");
                }

                if (action is PolicyAction.Sample && shareNode is null)
                {
                    Error(actionNode!, "Action 'sample' needs 'share:' (a fraction in (0, 1], e.g. 0.1).");
                }
            }
            else if (action is not null)
            {
                if (tierNode is not null)
                {
                    Error(tierNode, $"'tier' applies only to the route and sample actions, not to '{ActionName(action.Value)}'.");
                }
            }

            if (action is not null and not PolicyAction.Sample && shareNode is not null)
            {
                Error(shareNode, $"'share' applies only to the sample action, not to '{ActionName(action.Value)}'.");
            }

            return errors.Count == before && id is not null && action is not null
                ? new PolicyRule(id, description, conditions, action.Value, tier, share)
                : null;
        }

        private List<PolicyCondition> ReadConditions(YamlNode node)
        {
            var conditions = new List<PolicyCondition>();
            switch (node)
            {
                case YamlMappingNode map:
                    ReadConditionMap(map, conditions);
                    break;
                case YamlSequenceNode list:
                    foreach (var item in list.Children)
                    {
                        if (item is YamlMappingNode itemMap && itemMap.Children.Count > 0)
                        {
                            ReadConditionMap(itemMap, conditions);
                        }
                        else
                        {
                            Error(item, "Each condition must be a map 'fact: value', e.g. '- model.tier: premium'.");
                        }
                    }

                    break;
                default:
                    if (!IsNull(node))
                    {
                        Error(node, "'condition' must be a list of 'fact: value' items or a map of them (all must hold).");
                    }

                    break;
            }

            return conditions;
        }

        private void ReadConditionMap(YamlMappingNode map, List<PolicyCondition> conditions)
        {
            foreach (var (keyNode, value) in map.Children)
            {
                var fact = KeyOf(keyNode);
                if (!PolicyFactCatalog.Facts.TryGetValue(fact, out var definition))
                {
                    Error(keyNode, $"Unknown fact '{fact}'; expected one of {PolicyFactCatalog.Names}.");
                    continue;
                }

                if (ReadCondition(definition, value) is { } condition)
                {
                    conditions.Add(condition);
                }
            }
        }

        private PolicyCondition? ReadCondition(FactDefinition fact, YamlNode value)
        {
            switch (fact.Kind)
            {
                case FactKind.Bool:
                    return Bool(value) is { } flag
                        ? new BoolCondition(fact.Name, fact.Flag!, flag)
                        : Fail(value, $"{fact.Name} takes true or false, got '{Describe(value)}'.");

                case FactKind.Number:
                    var comparisons = ReadComparisons(fact, value);
                    return comparisons is null ? null : new NumberCondition(fact.Name, fact.Number!, comparisons);

                default:
                    if (fact.Name == "request.pii" && value is YamlScalarNode { Style: ScalarStyle.Plain } && Bool(value) is { } any)
                    {
                        return new BoolCondition(fact.Name, f => f.RequestPii is null ? null : f.RequestPii.Count > 0, any);
                    }

                    var names = ReadNames(fact, value);
                    return names is null ? null : new AnyOfCondition(fact.Name, fact.Names!, names, fact.Kind == FactKind.Set);
            }
        }

        private List<string>? ReadNames(FactDefinition fact, YamlNode value)
        {
            var items = value switch
            {
                YamlScalarNode scalar => [scalar],
                YamlSequenceNode list => list.Children,
                _ => null,
            };
            if (items is null)
            {
                return Fail<List<string>>(value, $"{fact.Name} takes a name or a list of names, e.g. [a, b], not a map.");
            }

            if (items.Count == 0)
            {
                return Fail<List<string>>(value, $"{fact.Name} needs at least one value.");
            }

            var names = new List<string>();
            foreach (var item in items)
            {
                if (item is not YamlScalarNode scalar || IsNull(scalar) || string.IsNullOrWhiteSpace(scalar.Value))
                {
                    Error(item, $"Each value of {fact.Name} must be a non-empty name, got '{Describe(item)}'.");
                    continue;
                }

                var name = scalar.Value!.Trim();
                if (fact.AllowedValues is { } allowed && !allowed.Contains(name, StringComparer.OrdinalIgnoreCase))
                {
                    Error(item, $"{fact.Name} is one of {string.Join(", ", allowed)}, got '{name}'.");
                    continue;
                }

                names.Add(name);
            }

            return names.Count == items.Count ? names : null;
        }

        private List<Comparison>? ReadComparisons(FactDefinition fact, YamlNode value)
        {
            if (value is YamlMappingNode map)
            {
                if (map.Children.Count == 0)
                {
                    return Fail<List<Comparison>>(value, $"{fact.Name} needs at least one comparison, e.g. {{gt: 0.05}}.");
                }

                var comparisons = new List<Comparison>();
                foreach (var (keyNode, operand) in map.Children)
                {
                    var key = KeyOf(keyNode);
                    if (!MapOperators.TryGetValue(key, out var op))
                    {
                        Error(keyNode, $"Unknown operator '{key}' for {fact.Name}; expected one of {string.Join(", ", MapOperators.Keys)}.");
                        continue;
                    }

                    if (Number(operand) is { } number)
                    {
                        comparisons.Add(new Comparison(op, number));
                    }
                    else
                    {
                        Error(operand, $"{fact.Name} {key} needs a number, got '{Describe(operand)}'.");
                    }
                }

                return comparisons.Count == map.Children.Count ? comparisons : null;
            }

            if (value is not YamlScalarNode scalar || IsNull(scalar))
            {
                return Fail<List<Comparison>>(value, $"{fact.Name} takes a number or a comparison such as \"> 0.05\" or {{gt: 0.05}}, got '{Describe(value)}'.");
            }

            var text = scalar.Value!.Trim();
            if (Decimal(text) is { } plain)
            {
                return [new Comparison(ComparisonOperator.Equal, plain)];
            }

            foreach (var (symbol, op) in SymbolOperators)
            {
                if (text.StartsWith(symbol, StringComparison.Ordinal))
                {
                    var operand = text[symbol.Length..].Trim();
                    return Decimal(operand) is { } number
                        ? [new Comparison(op, number)]
                        : Fail<List<Comparison>>(value, $"{fact.Name} '{text}': '{operand}' is not a number.");
                }
            }

            return Fail<List<Comparison>>(value, $"{fact.Name} '{text}' is not a comparison; use one of >, >=, <, <=, ==, != followed by a number (e.g. \"> 0.05\"), or a map such as {{gt: 0.05}}.");
        }

        private PolicyQuotaSection ReadQuotas(YamlNode node)
        {
            if (IsNull(node))
            {
                return PolicyQuotaSection.None;
            }

            if (node is not YamlMappingNode map)
            {
                Error(node, "'quotas' must be a map with 'default' and/or 'apps'.");
                return PolicyQuotaSection.None;
            }

            AppQuotas? defaults = null;
            YamlMappingNode? apps = null;
            foreach (var (keyNode, value) in map.Children)
            {
                switch (KeyOf(keyNode))
                {
                    case "default":
                        defaults = ReadQuota(value, "quotas.default", null);
                        break;
                    case "apps":
                        if (value is YamlMappingNode appsMap)
                        {
                            apps = appsMap;
                        }
                        else if (!IsNull(value))
                        {
                            Error(value, "'quotas.apps' must be a map of app id to quotas.");
                        }

                        break;
                    case var other:
                        Error(keyNode, $"Unknown quotas key '{other}'; expected 'default' or 'apps'.");
                        break;
                }
            }

            var perApp = new Dictionary<string, AppQuotas>(StringComparer.Ordinal);
            foreach (var (keyNode, value) in (IEnumerable<KeyValuePair<YamlNode, YamlNode>>?)apps?.Children ?? [])
            {
                var appId = KeyOf(keyNode);
                if (!ApiKeys.IsValidAppId(appId))
                {
                    Error(keyNode, $"'{appId}' is not a valid app id.");
                    continue;
                }

                if (ReadQuota(value, $"quotas.apps.{appId}", defaults) is { } quotas)
                {
                    perApp[appId] = quotas;
                }
            }

            return new PolicyQuotaSection(defaults, perApp);
        }

        private AppQuotas? ReadQuota(YamlNode node, string path, AppQuotas? fallback)
        {
            if (node is not YamlMappingNode map)
            {
                Error(node, $"'{path}' must be a map with tokens_per_day and/or requests_per_minute.");
                return null;
            }

            long? tokens = null;
            long? requests = null;
            var before = errors.Count;
            foreach (var (keyNode, value) in map.Children)
            {
                var key = KeyOf(keyNode);
                if (key is not ("tokens_per_day" or "requests_per_minute"))
                {
                    Error(keyNode, $"Unknown key '{key}' in {path}; expected tokens_per_day or requests_per_minute.");
                    continue;
                }

                var max = key == "requests_per_minute" ? int.MaxValue : long.MaxValue;
                if (Number(value) is { } number && number == decimal.Truncate(number) && number >= 0 && number <= max)
                {
                    if (key == "tokens_per_day")
                    {
                        tokens = (long)number;
                    }
                    else
                    {
                        requests = (long)number;
                    }
                }
                else
                {
                    Error(value, $"{path}.{key} must be a whole number ≥ 0 (0 means no limit), got '{Describe(value)}'.");
                }
            }

            if (errors.Count != before)
            {
                return null;
            }

            // A missing limit falls back to the default section (for app overrides), else means no limit.
            return new AppQuotas((int)(requests ?? fallback?.RequestsPerMinute ?? 0), tokens ?? fallback?.TokensPerDay ?? 0);
        }

        private string? Text(YamlNode node, string what)
        {
            if (node is YamlScalarNode scalar && !IsNull(scalar) && !string.IsNullOrWhiteSpace(scalar.Value))
            {
                return scalar.Value!.Trim();
            }

            Error(node, $"'{what}' must be a non-empty text value, got '{Describe(node)}'.");
            return null;
        }

        private static string KeyOf(YamlNode key) => key is YamlScalarNode scalar ? scalar.Value ?? "" : key.ToString();

        private static bool IsNull(YamlNode node) =>
            node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar && (scalar.Value is null or "" or "~" or "null" or "Null" or "NULL");

        private static bool? Bool(YamlNode node) =>
            node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar
                ? scalar.Value switch
                {
                    "true" or "True" or "TRUE" => true,
                    "false" or "False" or "FALSE" => false,
                    _ => null,
                }
                : null;

        private static decimal? Number(YamlNode node) =>
            node is YamlScalarNode { Style: ScalarStyle.Plain or ScalarStyle.Any } scalar ? Decimal(scalar.Value) : null;

        private static decimal? Decimal(string? text) =>
            decimal.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) ? value : null;

        private static string Describe(YamlNode node) => node switch
        {
            YamlScalarNode scalar => scalar.Value ?? "",
            YamlSequenceNode => "a list",
            YamlMappingNode => "a map",
            _ => node.NodeType.ToString(),
        };

        private T? Fail<T>(YamlNode node, string message)
            where T : class
        {
            Error(node, message);
            return null;
        }

        private PolicyCondition? Fail(YamlNode node, string message) => Fail<PolicyCondition>(node, message);

        private void Error(YamlNode node, string message) => errors.Add(new PolicyError(YamlMarks.Line(node.Start), YamlMarks.Column(node.Start), message));
    }

    internal static string ActionName(PolicyAction action) => Actions.First(a => a.Value == action).Key;
}
