using System.Text.RegularExpressions;

namespace MicroApps.Orleans.Catalog;

/// <summary>
/// Rules of published components (shared prompts and chains): names, versions, texts and their <c>{{placeholders}}</c>.
/// Plain, so the admin API names the bad field before the catalog grain applies the same rules.
/// </summary>
public static partial class CatalogComponents
{
    public const int MaxTextLength = 20_000;
    public const int MaxDescriptionLength = 1_000;
    public const int MaxOwnerLength = 200;
    public const int MaxTags = 20;
    public const int MaxTagLength = 40;
    public const int MaxSteps = 20;
    public const int MaxStepNameLength = 64;
    public const int MaxPlaceholders = 32;

    /// <summary>
    /// The distinct placeholders of a text in order of first use (<c>{{ audience }}</c> → <c>audience</c>), and what is
    /// wrong with the ones that are malformed (an empty or invalid name, a <c>{{</c> that is never closed).
    /// </summary>
    public static (IReadOnlyList<string> Names, IReadOnlyList<string> Problems) Placeholders(string text)
    {
        var names = new List<string>();
        var problems = new List<string>();
        foreach (Match match in PlaceholderPattern().Matches(text ?? ""))
        {
            var name = match.Groups["name"].Value.Trim();
            if (!PlaceholderName().IsMatch(name))
            {
                problems.Add($"'{{{{{match.Groups["name"].Value}}}}}' is not a placeholder: a name is a letter followed by up to 63 letters, digits or '_'.");
            }
            else if (!names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        // An opening brace pair left once every well-formed placeholder is removed was never closed.
        if (PlaceholderPattern().Replace(text ?? "", "").Contains("{{", StringComparison.Ordinal))
        {
            problems.Add("A '{{' is never closed with '}}'.");
        }

        if (names.Count > MaxPlaceholders)
        {
            problems.Add($"At most {MaxPlaceholders} distinct placeholders; there are {names.Count}.");
        }

        return (names, problems);
    }

    /// <summary>
    /// Fills a shared prompt's or chain step's placeholders (the grammar <see cref="Placeholders"/> checks at publish):
    /// each <c>{{name}}</c> becomes the parameter's value; a placeholder without a value becomes empty.
    /// </summary>
    public static string Fill(string text, IReadOnlyDictionary<string, string> parameters) =>
        PlaceholderPattern().Replace(text ?? "", match => parameters.TryGetValue(match.Groups["name"].Value.Trim(), out var value) ? value : "");

    /// <summary>The parameters a component takes: one required text per distinct placeholder of its text or steps.</summary>
    public static IReadOnlyList<ParameterSpec> ParametersOf(string text, IReadOnlyList<ChainStep> steps)
    {
        var names = Placeholders(text).Names.Concat(steps.SelectMany(s => Placeholders(s.Prompt).Names)).Distinct(StringComparer.Ordinal);
        // An array, not a collection expression: it is stored, and Orleans cannot serialize compiler-generated collections.
        return names.Select(n => new ParameterSpec(n, ParameterKind.Text, true, null, $"Fills {{{{{n}}}}}.", null, 4000)).ToArray();
    }

    /// <summary>What is wrong with a prompt or chain about to be published, by field (<c>name</c>, <c>text</c>, <c>steps[0].prompt</c>…).</summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(CatalogEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        var errors = new List<(string, string)>();
        if (entry.Kind is not (CatalogKind.Prompt or CatalogKind.Chain))
        {
            errors.Add(("kind", $"Only prompts and chains are published; {entry.Kind.ToString().ToLowerInvariant()}s come with the platform."));
        }

        if (!CatalogRef.TryParse($"{entry.Name}@1.0.0", out _))
        {
            errors.Add(("name", "Must be 1–64 lower-case letters, digits and '-', starting and ending with a letter or digit."));
        }

        if (!CatalogRef.TryParse($"x@{entry.Version}", out var version))
        {
            errors.Add(("version", "Must be a semantic version major.minor.patch, e.g. 1.0.0."));
        }
        else if (entry.SafeUpgrade && version.SemVer.Patch == 0)
        {
            errors.Add(("safeUpgrade", $"Only a patch version (x.y.z with z > 0) can be marked safe; {entry.Version} is not one."));
        }

        if (string.IsNullOrWhiteSpace(entry.Owner))
        {
            errors.Add(("owner", "Required: the team or person accountable for it."));
        }
        else if (entry.Owner.Length > MaxOwnerLength)
        {
            errors.Add(("owner", $"At most {MaxOwnerLength} characters."));
        }

        if (string.IsNullOrWhiteSpace(entry.Description))
        {
            errors.Add(("description", "Required: what it does, for people searching the catalog."));
        }
        else if (entry.Description.Length > MaxDescriptionLength)
        {
            errors.Add(("description", $"At most {MaxDescriptionLength} characters."));
        }

        if (entry.Tags.Count > MaxTags)
        {
            errors.Add(("tags", $"At most {MaxTags} tags."));
        }

        for (var i = 0; i < entry.Tags.Count; i++)
        {
            if (!TagPattern().IsMatch(entry.Tags[i] ?? ""))
            {
                errors.Add(($"tags[{i}]", $"Must be 1–{MaxTagLength} lower-case letters, digits and '-'."));
            }
        }

        if (entry.Kind == CatalogKind.Prompt)
        {
            CheckText("text", entry.Text, errors);
            if (entry.Steps.Count > 0)
            {
                errors.Add(("steps", "A prompt has text, not steps; publish a chain for steps."));
            }
        }
        else if (entry.Kind == CatalogKind.Chain)
        {
            if (entry.Text.Length > 0)
            {
                errors.Add(("text", "A chain has steps, not text; publish a prompt for a single text."));
            }

            if (entry.Steps.Count is 0 or > MaxSteps)
            {
                errors.Add(("steps", $"A chain has 1 to {MaxSteps} steps; it has {entry.Steps.Count}."));
            }

            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < entry.Steps.Count; i++)
            {
                var step = entry.Steps[i];
                if (string.IsNullOrWhiteSpace(step?.Name) || step.Name.Length > MaxStepNameLength)
                {
                    errors.Add(($"steps[{i}].name", $"Required, at most {MaxStepNameLength} characters."));
                }
                else if (!seen.Add(step.Name))
                {
                    errors.Add(($"steps[{i}].name", $"'{step.Name}' names an earlier step too; step names are unique."));
                }

                CheckText($"steps[{i}].prompt", step?.Prompt ?? "", errors);
            }
        }

        return errors;
    }

    private static void CheckText(string field, string text, List<(string, string)> errors)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            errors.Add((field, "Required."));
            return;
        }

        if (text.Length > MaxTextLength)
        {
            errors.Add((field, $"At most {MaxTextLength} characters."));
        }

        foreach (var problem in Placeholders(text).Problems)
        {
            errors.Add((field, problem));
        }
    }

    [GeneratedRegex(@"\{\{(?<name>[^{}]*)\}\}")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]{0,63}$")]
    private static partial Regex PlaceholderName();

    [GeneratedRegex(@"^[a-z0-9-]{1,40}$")]
    private static partial Regex TagPattern();
}
