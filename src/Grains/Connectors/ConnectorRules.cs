using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Governance;

namespace MicroApps.Orleans.Connectors;

/// <summary>
/// What a manifest's connectors must satisfy to be callable by the runtime, checked when a manifest is created or
/// validated (the gateway checks the same again on every call).
/// </summary>
public static class ConnectorRules
{
    /// <summary>
    /// What is wrong with the manifest's connectors, as (field, message):
    /// <list type="bullet">
    /// <item><c>connectors[i].use</c>: the catalog connector (<c>http-json@1.0.0</c>…) must be among
    /// <paramref name="connectorEntries"/> (the catalog's connector entries, every version) and be one the platform implements;
    /// settings without a <c>use</c> are refused.</item>
    /// <item><c>connectors[i].settings.x</c>: settings checked against the connector's parameters (unknown, missing, wrong type
    /// or range), and the URL setting (<c>baseUrl</c>, <c>url</c>): http(s), no credentials, a <c>baseUrl</c> without query or
    /// fragment, and its host the connector's <c>host</c>.</item>
    /// <item><c>connectors[i].host</c>: a connector with a <c>use</c> must reach a host on the app's egress allowlist.</item>
    /// </list>
    /// A connector without <c>use</c> is a declaration only (data classes and host, judged by the data-access gate); the
    /// runtime cannot call it. An azure-blob connector's host is compared with its account's endpoint on each call, since
    /// accounts are platform configuration.
    /// </summary>
    public static IReadOnlyList<(string Field, string Message)> Validate(AppManifest manifest, IReadOnlyList<CatalogEntry> connectorEntries)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(connectorEntries);
        var errors = new List<(string, string)>();
        var connectors = manifest.Connectors ?? [];
        var allowlist = new EgressAllowlist(manifest.EgressAllowlist ?? []);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < connectors.Count; i++)
        {
            var connector = connectors[i];
            if (connector is null)
            {
                continue;
            }

            var at = $"connectors[{i}]";
            if (!string.IsNullOrWhiteSpace(connector.Name) && !names.Add(connector.Name))
            {
                errors.Add(($"{at}.name", $"Another connector is already named '{connector.Name}'; a run names its connector, so names are unique."));
            }

            if (connector.Use is not { } use)
            {
                if (connector.Settings is { Count: > 0 })
                {
                    errors.Add(($"{at}.use", $"Settings need a catalog connector to apply to: name one ({Known(connectorEntries)})."));
                }

                continue;
            }

            var entry = Resolve(use, connectorEntries, out var useProblem);
            if (entry is null)
            {
                errors.Add(($"{at}.use", useProblem));
                continue;
            }

            errors.AddRange(TemplateParameters.Validate(entry.Parameters, connector.Settings, manifest.AllowedTiers ?? [], $"{at}.settings"));
            if (CertifiedConnectors.UrlSetting(entry) is { } urlSetting
                && connector.Settings is { } settings
                && settings.TryGetValue(urlSetting, out var url)
                && Uri.TryCreate(url, UriKind.Absolute, out var uri)
                && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                var field = $"{at}.settings.{urlSetting}";
                if (uri.UserInfo.Length > 0)
                {
                    errors.Add((field, "Must not carry credentials (user:password@); the platform does not send URL credentials."));
                }
                else if (urlSetting == "baseUrl" && (uri.Query.Length > 0 || uri.Fragment.Length > 0))
                {
                    errors.Add((field, "A base URL has no query or fragment: a run's path (with its query) is added under it."));
                }

                if (!string.IsNullOrWhiteSpace(connector.Host) && !CertifiedConnectors.SameHost(uri.IdnHost, connector.Host))
                {
                    errors.Add((field, $"Its host '{uri.IdnHost}' is not the connector's host '{connector.Host}'; a connector reaches only its declared host."));
                }
            }

            if (!string.IsNullOrWhiteSpace(connector.Host) && allowlist.Check(connector.Host) is { Allowed: false } check)
            {
                errors.Add(($"{at}.host", $"'{connector.Host}' is not on the app's egressAllowlist ({check.Reason}); add it there or use another host."));
            }
        }

        return errors;
    }

    private static CatalogEntry? Resolve(CatalogRef use, IReadOnlyList<CatalogEntry> entries, out string problem)
    {
        problem = "";
        var sameName = entries.Where(e => e.Kind == CatalogKind.Connector && e.Name == use.Name).ToList();
        if (sameName.Count == 0)
        {
            problem = $"'{use}' is not a catalog connector; known: {Known(entries)}.";
            return null;
        }

        var exact = sameName.FirstOrDefault(e => e.Version == use.Version);
        if (exact is null)
        {
            problem = $"'{use.Name}' has no version {use.Version}; available: {string.Join(", ", sameName.Select(e => e.Version).Order(StringComparer.Ordinal))}.";
            return null;
        }

        if (CertifiedConnectors.Find(use, sameName) is null)
        {
            problem = $"'{use}' is in the catalog but the platform has no implementation of it; use one of {string.Join(", ", CertifiedConnectors.Implemented)}.";
            return null;
        }

        return exact;
    }

    private static string Known(IReadOnlyList<CatalogEntry> entries)
    {
        var known = entries.Where(e => e.Kind == CatalogKind.Connector).Select(e => e.Ref.ToString()).Distinct().Order(StringComparer.Ordinal).ToList();
        return known.Count == 0 ? "none" : string.Join(", ", known);
    }
}
