using System.Text.RegularExpressions;

namespace MicroApps.Orleans.Apps;

/// <summary>What makes a manifest acceptable; shared by the app grain and the admin API so both name the same fields.</summary>
public static partial class AppManifestRules
{
    /// <summary>Regression assertion kinds (the same list as the assertion checker's in the grains).</summary>
    public static IReadOnlyList<string> AssertionKinds { get; } = ["contains", "not_contains", "regex", "json_schema", "max_tokens", "max_cost_usd"];

    public const string PromptNameRule = "1-100 characters of a-z, 0-9 and '.', '_', '-', '/', starting with a letter or digit";

    [GeneratedRegex("^[a-z0-9][a-z0-9._/-]{0,99}$")]
    private static partial Regex PromptNamePattern();

    /// <summary>Whether <paramref name="name"/> is a valid registry prompt name.</summary>
    public static bool IsValidPromptName(string? name) => name is not null && PromptNamePattern().IsMatch(name);

    /// <summary>Field name (camelCase, as the admin API spells it) → what is wrong. Empty when valid.</summary>
    public static IReadOnlyDictionary<string, string> Validate(string appId, AppManifest? manifest)
    {
        var errors = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!ApiKeys.IsValidAppId(appId))
        {
            errors["appId"] = "appId must be 3-40 characters of a-z, 0-9 and '-', not starting or ending with '-'";
        }

        if (manifest is null)
        {
            errors["manifest"] = "a manifest is required";
            return errors;
        }

        if (string.IsNullOrWhiteSpace(manifest.Name) || manifest.Name.Length > 200)
        {
            errors["name"] = "name is required (at most 200 characters)";
        }

        if (string.IsNullOrWhiteSpace(manifest.Owner))
        {
            errors["owner"] = "owner is required";
        }

        if (string.IsNullOrWhiteSpace(manifest.Team))
        {
            errors["team"] = "team is required";
        }

        if (!Enum.IsDefined(manifest.Audience))
        {
            errors["audience"] = "audience must be internal or external";
        }

        if (manifest.AllowedTiers is null || manifest.AllowedTiers.Count == 0 || manifest.AllowedTiers.Any(string.IsNullOrWhiteSpace))
        {
            errors["allowedTiers"] = "allowedTiers must name at least one tier";
        }
        else if (string.IsNullOrWhiteSpace(manifest.DefaultTier) || !manifest.AllowedTiers.Contains(manifest.DefaultTier, StringComparer.Ordinal))
        {
            errors["defaultTier"] = "defaultTier must be one of allowedTiers";
        }

        if (manifest.DataClasses is null || manifest.DataClasses.Any(string.IsNullOrWhiteSpace))
        {
            errors["dataClasses"] = "dataClasses must be a list of non-empty names";
        }

        if (manifest.Quotas is null)
        {
            errors["quotas"] = "quotas are required";
        }
        else
        {
            if (manifest.Quotas.RequestsPerMinute < 0)
            {
                errors["quotas.requestsPerMinute"] = "requestsPerMinute must not be negative (0 means no limit)";
            }

            if (manifest.Quotas.TokensPerDay < 0)
            {
                errors["quotas.tokensPerDay"] = "tokensPerDay must not be negative (0 means no limit)";
            }
        }

        if (manifest.BudgetId is null || manifest.BudgetId.Length > 200)
        {
            errors["budgetId"] = "budgetId must be a string of at most 200 characters (empty for the app's own budget)";
        }

        if (manifest.PromptVersion is null || manifest.PromptVersion.Length > 100)
        {
            errors["promptVersion"] = "promptVersion must be a string of at most 100 characters";
        }

        ValidateGovernance(manifest, errors);
        return errors;
    }

    private static void ValidateGovernance(AppManifest manifest, Dictionary<string, string> errors)
    {
        var prompts = manifest.Prompts ?? [];
        var promptNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < prompts.Count; i++)
        {
            var pin = prompts[i];
            if (pin is null)
            {
                errors[$"prompts[{i}]"] = "must be an object {name, version}";
                continue;
            }

            if (!IsValidPromptName(pin.Name))
            {
                errors[$"prompts[{i}].name"] = $"name must be {PromptNameRule}";
            }
            else if (!promptNames.Add(pin.Name))
            {
                errors[$"prompts[{i}].name"] = $"prompt '{pin.Name}' is pinned more than once";
            }

            if (pin.Version < 1)
            {
                errors[$"prompts[{i}].version"] = "version must be 1 or more";
            }
        }

        var tests = manifest.Tests ?? [];
        var testNames = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < tests.Count; i++)
        {
            var test = tests[i];
            if (test is null)
            {
                errors[$"tests[{i}]"] = "must be an object {name, input, assertions}";
                continue;
            }

            if (string.IsNullOrWhiteSpace(test.Name) || test.Name.Length > 100)
            {
                errors[$"tests[{i}].name"] = "name is required (at most 100 characters)";
            }
            else if (!testNames.Add(test.Name))
            {
                errors[$"tests[{i}].name"] = $"test name '{test.Name}' is used more than once";
            }

            if (string.IsNullOrWhiteSpace(test.Input))
            {
                errors[$"tests[{i}].input"] = "input is required";
            }

            if (test.Model is null || test.Model.Length > 100)
            {
                errors[$"tests[{i}].model"] = "model must be a string of at most 100 characters (empty for the default tier)";
            }

            if (test.Assertions is null || test.Assertions.Count == 0)
            {
                errors[$"tests[{i}].assertions"] = "at least one assertion is required";
                continue;
            }

            for (var j = 0; j < test.Assertions.Count; j++)
            {
                var assertion = test.Assertions[j];
                if (assertion is null || !AssertionKinds.Contains(assertion.Kind ?? ""))
                {
                    errors[$"tests[{i}].assertions[{j}].kind"] = $"kind must be one of {string.Join(", ", AssertionKinds)}";
                }
                else if (assertion.Value is null)
                {
                    errors[$"tests[{i}].assertions[{j}].value"] = "value is required";
                }
            }
        }

        var connectors = manifest.Connectors ?? [];
        for (var i = 0; i < connectors.Count; i++)
        {
            var connector = connectors[i];
            if (connector is null)
            {
                errors[$"connectors[{i}]"] = "must be an object {name, host, dataClasses}";
                continue;
            }

            if (string.IsNullOrWhiteSpace(connector.Name))
            {
                errors[$"connectors[{i}].name"] = "name is required";
            }

            if (string.IsNullOrWhiteSpace(connector.Host))
            {
                errors[$"connectors[{i}].host"] = "host is required";
            }

            if (connector.DataClasses is null || connector.DataClasses.Any(string.IsNullOrWhiteSpace))
            {
                errors[$"connectors[{i}].dataClasses"] = "dataClasses must be a list of non-empty names";
            }
        }

        var egress = manifest.EgressAllowlist ?? [];
        for (var i = 0; i < egress.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(egress[i]))
            {
                errors[$"egressAllowlist[{i}]"] = "an allowlist entry must be a non-empty host";
            }
        }

        if (manifest.ExpectedCallsPerMonth < 0)
        {
            errors["expectedCallsPerMonth"] = "expectedCallsPerMonth must not be negative (0 when unknown)";
        }

        if (!IsValidPromptSampleShare(manifest.PromptSampleShare))
        {
            errors["promptSampleShare"] = "promptSampleShare must be a number from 0 (no prompt samples, the default) to 1 (every call)";
        }

        foreach (var (field, message) in SavingsErrors(manifest.Savings))
        {
            errors[field] = message;
        }

        foreach (var (field, message) in CatalogFieldErrors(manifest))
        {
            errors[field] = message;
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    private static partial Regex ParameterNamePattern();

    /// <summary>
    /// Structural rules of the catalog fields (template, parameters, components, limits, connector use and settings) that
    /// need no catalog: parameters only with a template, names well-formed, no component twice, limits positive. Whether the references exist and the values fit their specs is checked against the catalog.
    /// </summary>
    public static IEnumerable<(string Field, string Message)> CatalogFieldErrors(AppManifest manifest)
    {
        var parameters = manifest.Parameters ?? new Dictionary<string, string>();
        if (manifest.Template is null && parameters.Count > 0)
        {
            yield return ("parameters", "parameters fill in a template's parameters; name the template too (template: summarizer@1.0.0)");
        }

        foreach (var (field, message) in MapErrors(parameters, "parameters"))
        {
            yield return (field, message);
        }

        var components = manifest.Components ?? [];
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < components.Count; i++)
        {
            if (components[i] is null)
            {
                yield return ($"components[{i}]", $"a component is a catalog reference ({Catalog.CatalogRef.Format})");
            }
            else if (!seen.Add(components[i].Name))
            {
                yield return ($"components[{i}]", $"component '{components[i].Name}' is listed more than once");
            }
        }

        if (manifest.Limits is { } limits)
        {
            if (limits.MaxTokens <= 0)
            {
                yield return ("limits.maxTokens", "limits.maxTokens must be a positive number of tokens per run");
            }

            if (limits.MaxSteps <= 0)
            {
                yield return ("limits.maxSteps", "limits.maxSteps must be a positive number of steps per run");
            }

            if (limits.MaxSeconds <= 0)
            {
                yield return ("limits.maxSeconds", "limits.maxSeconds must be a positive number of seconds per run");
            }
        }

        // Whether settings have a connector to apply to, and connector names, are the connectors' rules (ConnectorRules).
        var connectors = manifest.Connectors ?? [];
        for (var i = 0; i < connectors.Count; i++)
        {
            if (connectors[i]?.Settings is { } settings)
            {
                foreach (var (field, message) in MapErrors(settings, $"connectors[{i}].settings"))
                {
                    yield return (field, message);
                }
            }
        }
    }

    private static IEnumerable<(string Field, string Message)> MapErrors(IReadOnlyDictionary<string, string> values, string prefix)
    {
        foreach (var (name, value) in values)
        {
            if (!ParameterNamePattern().IsMatch(name ?? ""))
            {
                yield return ($"{prefix}.{name}", "a name must start with a letter and hold only letters, digits and '_' (at most 64)");
            }
            else if (value is null)
            {
                yield return ($"{prefix}.{name}", "a value is required");
            }
            else if (value.Length > 20_000)
            {
                yield return ($"{prefix}.{name}", "at most 20000 characters");
            }
        }
    }

    /// <summary>What is wrong with an app's savings settings, as (field path, message) pairs; none for null.</summary>
    public static IEnumerable<(string Field, string Message)> SavingsErrors(Savings.SavingsSettings? savings)
    {
        if (savings is null)
        {
            yield break;
        }

        if (savings.QualitySlo is not (> 0 and <= 1))
        {
            yield return ("savings.qualitySlo", "savings.qualitySlo must be a share of the reference model's quality above 0 and at most 1 (0.9 = at least 90%)");
        }

        if (!string.IsNullOrWhiteSpace(savings.Task) && Savings.QueryTypes.Parse(savings.Task) is null)
        {
            yield return ("savings.task", $"savings.task '{savings.Task}' is not a query type (one of {string.Join(", ", Savings.QueryTypes.All)}; omit it to classify each call)");
        }

        if (savings.Sampling is { } sampling)
        {
            if (sampling.MinShare is not (>= 0 and <= 1))
            {
                yield return ("savings.sampling.minShare", "savings.sampling.minShare must be a number from 0 to 1");
            }

            if (sampling.MaxShare is not (>= 0 and <= 1))
            {
                yield return ("savings.sampling.maxShare", "savings.sampling.maxShare must be a number from 0 to 1");
            }
            else if (sampling.MinShare > sampling.MaxShare)
            {
                yield return ("savings.sampling.maxShare", "savings.sampling.maxShare must not be below savings.sampling.minShare");
            }
        }

        if (savings.NearDuplicate?.Threshold is { } threshold && threshold is not (> 0 and <= 1))
        {
            yield return ("savings.nearDuplicate.threshold", "savings.nearDuplicate.threshold must be a similarity above 0 and at most 1 (higher is stricter; omit it for the platform default)");
        }
    }

    /// <summary>Whether <paramref name="share"/> is a valid <see cref="AppManifest.PromptSampleShare"/>: 0 to 1, not NaN.</summary>
    public static bool IsValidPromptSampleShare(double share) => share is >= 0 and <= 1;

    /// <summary>Whether two manifests say the same thing (lists compared by their items).</summary>
    public static bool SameManifest(AppManifest a, AppManifest b) =>
        a.Name == b.Name && a.Owner == b.Owner && a.Team == b.Team && a.Audience == b.Audience
        && a.DataClasses.SequenceEqual(b.DataClasses) && a.AllowedTiers.SequenceEqual(b.AllowedTiers)
        && a.DefaultTier == b.DefaultTier && a.Quotas == b.Quotas && a.BudgetId == b.BudgetId && a.PromptVersion == b.PromptVersion
        && (a.Prompts ?? []).SequenceEqual(b.Prompts ?? [])
        && (a.Tests ?? []).Select(TestText).SequenceEqual((b.Tests ?? []).Select(TestText))
        && (a.Connectors ?? []).Select(ConnectorText).SequenceEqual((b.Connectors ?? []).Select(ConnectorText))
        && (a.EgressAllowlist ?? []).SequenceEqual(b.EgressAllowlist ?? [])
        && a.ExpectedCallsPerMonth == b.ExpectedCallsPerMonth
        && a.PromptSampleShare.Equals(b.PromptSampleShare)
        && Equals(a.Savings, b.Savings)
        && Equals(a.Template, b.Template)
        && SameMap(a.Parameters, b.Parameters)
        && (a.Components ?? []).SequenceEqual(b.Components ?? [])
        && LineageText(a.Lineage) == LineageText(b.Lineage)
        && Equals(a.Limits, b.Limits);

    private static bool SameMap(IReadOnlyDictionary<string, string>? a, IReadOnlyDictionary<string, string>? b) =>
        (a ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal)
            .SequenceEqual((b ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal));

    private static string LineageText(Catalog.AppLineage? l) =>
        l is null ? "" : $"{l.CanonicalAppId}\u0001{l.CanonicalVersion}\u0001{string.Join("\u0002", l.Steps)}";

    private static string TestText(RegressionTestCase t) =>
        $"{t.Name}\u0001{t.Input}\u0001{t.Model}\u0001{string.Join("\u0002", (t.Assertions ?? []).Select(x => $"{x?.Kind}\u0003{x?.Value}"))}";

    private static string ConnectorText(ConnectorRef c) =>
        $"{c.Name}\u0001{c.Host}\u0001{string.Join("\u0002", c.DataClasses ?? [])}\u0001{c.Use}\u0001{string.Join("\u0002", (c.Settings ?? new Dictionary<string, string>()).OrderBy(p => p.Key, StringComparer.Ordinal))}";

    /// <summary>The budget an app is charged to: its declared one, or its own <c>app:{appId}</c>.</summary>
    public static string EffectiveBudgetId(string appId, AppManifest manifest) =>
        string.IsNullOrWhiteSpace(manifest.BudgetId) ? $"app:{appId}" : manifest.BudgetId;
}
