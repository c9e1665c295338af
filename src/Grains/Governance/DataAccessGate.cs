using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.Governance;

/// <summary>
/// The <c>data_access</c> gate: every connector reaches only hosts on the app's egress allowlist, returns only
/// data classes the app declares, and an external-audience app declares no restricted data class.
/// </summary>
public static class DataAccessGate
{
    public static GateResult Evaluate(AppManifest manifest, IReadOnlyCollection<string> restrictedClasses, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var problems = new List<string>();
        var declared = new HashSet<string>(manifest.DataClasses ?? [], StringComparer.OrdinalIgnoreCase);
        var entries = manifest.EgressAllowlist ?? [];
        foreach (var entry in entries)
        {
            if (EgressAllowlist.ValidateEntry(entry) is { } invalid)
            {
                problems.Add($"egress allowlist entry '{entry}': {invalid}");
            }
        }

        var allowlist = new EgressAllowlist(entries);
        var connectors = manifest.Connectors ?? [];
        foreach (var connector in connectors)
        {
            var name = string.IsNullOrWhiteSpace(connector.Name) ? "(unnamed)" : connector.Name;
            if (string.IsNullOrWhiteSpace(connector.Host))
            {
                problems.Add($"connector '{name}' names no host");
            }
            else if (!allowlist.Allows(connector.Host))
            {
                problems.Add($"connector '{name}' reaches host '{connector.Host}', which is not on the egress allowlist");
            }

            var undeclared = (connector.DataClasses ?? []).Where(c => !declared.Contains(c)).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
            if (undeclared.Count > 0)
            {
                problems.Add($"connector '{name}' returns data classes the app does not declare: {string.Join(", ", undeclared)}");
            }
        }

        if (manifest.Audience == Audience.External)
        {
            var restricted = declared.Where(c => restrictedClasses.Contains(c, StringComparer.OrdinalIgnoreCase)).Order(StringComparer.Ordinal).ToList();
            if (restricted.Count > 0)
            {
                problems.Add($"an external-audience app may not declare restricted data classes: {string.Join(", ", restricted)}");
            }
        }

        if (problems.Count > 0)
        {
            return new GateResult(GateNames.DataAccess, false, string.Join("; ", problems), at);
        }

        var detail = connectors.Count == 0
            ? "no connectors; declared data classes allowed for the audience"
            : $"{connectors.Count} connector(s): every host on the egress allowlist, every data class declared";
        return new GateResult(GateNames.DataAccess, true, detail, at);
    }
}
