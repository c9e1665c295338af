using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Pii;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.Governance;

/// <summary>
/// The <c>pii_scan</c> gate: pinned prompts may contain no PII at all (they are sent with every call), and test
/// fixtures (inputs and assertion values) only PII classes the app declares. Details name the class and where,
/// never the text found.
/// </summary>
public static class PiiScanGate
{
    /// <param name="manifest">The version's manifest.</param>
    /// <param name="prompts">Each pin with the registry version it names, or null when the registry has none.</param>
    /// <param name="at">When the gate ran.</param>
    public static GateResult Evaluate(AppManifest manifest, IReadOnlyList<(PromptPin Pin, PromptVersionInfo? Prompt)> prompts, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var scanner = PiiScanner.Default;
        var problems = new List<string>();
        foreach (var (pin, prompt) in prompts)
        {
            if (prompt is null)
            {
                problems.Add($"prompt {pin} is not in the prompt registry");
                continue;
            }

            var classes = Describe(scanner.Scan(prompt.Text));
            if (classes.Length > 0)
            {
                problems.Add($"prompt {pin} contains PII ({classes}); prompts may contain none");
            }
        }

        var declared = new HashSet<string>(manifest.DataClasses ?? [], StringComparer.OrdinalIgnoreCase);
        foreach (var test in manifest.Tests ?? [])
        {
            Check(problems, declared, scanner.Scan(test.Input), $"test '{test.Name}' input");
            var assertions = test.Assertions ?? [];
            for (var i = 0; i < assertions.Count; i++)
            {
                Check(problems, declared, scanner.Scan(assertions[i].Value), $"test '{test.Name}' assertion {i + 1} ({assertions[i].Kind})");
            }
        }

        if (problems.Count > 0)
        {
            return new GateResult(GateNames.PiiScan, false, string.Join("; ", problems), at);
        }

        return new GateResult(
            GateNames.PiiScan,
            true,
            $"{prompts.Count} prompt(s) free of PII; {(manifest.Tests ?? []).Count} test(s) use only declared data classes",
            at);
    }

    private static void Check(List<string> problems, HashSet<string> declared, IReadOnlyList<PiiFinding> findings, string where)
    {
        var undeclared = findings.Where(f => !declared.Contains(f.Class)).ToList();
        if (undeclared.Count > 0)
        {
            problems.Add($"{where} contains PII the app does not declare ({Describe(undeclared)})");
        }
    }

    /// <summary><c>email ×2, phone</c>: classes and counts, never the text.</summary>
    private static string Describe(IReadOnlyList<PiiFinding> findings) =>
        string.Join(", ", findings
            .GroupBy(f => f.Class, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Count() == 1 ? g.Key : $"{g.Key} ×{g.Count()}"));
}
