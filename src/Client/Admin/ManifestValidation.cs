using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Connectors;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// The checks of a manifest that need the catalog or the platform's configuration: the template exists and its
/// parameters fit it, components are shared prompts or chains, connectors pass <see cref="ConnectorRules"/> (a catalog
/// connector whose settings fit it, URLs on the connector's host, the host inside the egress allowlist), and limits stay within the
/// runtime's caps (<c>Runtime:MaxTokensPerRun</c>, <c>Runtime:MaxStepsPerRun</c>, <c>Runtime:MaxSecondsPerRun</c>).
/// </summary>
internal static class ManifestValidation
{
    public const int DefaultMaxTokensPerRun = 200_000;
    public const int DefaultMaxStepsPerRun = 50;
    public const int DefaultMaxSecondsPerRun = 300;

    /// <summary>The platform caps on per-run limits.</summary>
    public static RunLimits Caps(IConfiguration configuration) => new(
        configuration.GetValue("Runtime:MaxTokensPerRun", DefaultMaxTokensPerRun),
        configuration.GetValue("Runtime:MaxStepsPerRun", DefaultMaxStepsPerRun),
        configuration.GetValue("Runtime:MaxSecondsPerRun", DefaultMaxSecondsPerRun));

    /// <summary>Adds what is wrong with <paramref name="manifest"/> against the catalog and the caps to <paramref name="errors"/>.</summary>
    public static async Task CheckAsync(AppManifest manifest, HttpContext context, IGrainFactory grains, ClusterCalls cluster, AdminEndpoints.Errors errors)
    {
        var catalog = new CatalogLookup(grains.GetGrain<ICatalogGrain>("default"), cluster, context.RequestAborted);

        if (manifest.Template is { } template)
        {
            var entry = await catalog.GetAsync(CatalogKind.Template, template);
            if (entry is null)
            {
                errors.Add("template", await NotFoundAsync(catalog, CatalogKind.Template, template, "template"));
            }
            else
            {
                Add(errors, TemplateParameters.Validate(entry.Parameters, manifest.Parameters, manifest.AllowedTiers, "parameters"));
                CheckConnectorNames(manifest, entry, errors);
            }
        }

        var components = manifest.Components ?? [];
        for (var i = 0; i < components.Count; i++)
        {
            if (components[i] is not { } component)
            {
                continue;
            }

            if (await catalog.GetAsync(CatalogKind.Prompt, component) is null && await catalog.GetAsync(CatalogKind.Chain, component) is null)
            {
                errors.Add($"components[{i}]", await NotFoundAsync(catalog, CatalogKind.Prompt, component, "shared prompt or chain"));
            }
        }

        // Connectors with use: the connectors' own rules (catalog connector, settings, URL host, egress allowlist).
        if ((manifest.Connectors ?? []).Any(c => c?.Use is not null || c?.Settings is { Count: > 0 }))
        {
            var connectorEntries = await catalog.SearchAsync(new CatalogQuery(Kind: CatalogKind.Connector, AllVersions: true));
            Add(errors, ConnectorRules.Validate(manifest, connectorEntries));
        }

        if (manifest.Limits is { } limits)
        {
            var caps = Caps(context.RequestServices.GetRequiredService<IConfiguration>());
            if (limits.MaxTokens > caps.MaxTokens)
            {
                errors.Add("limits.maxTokens", $"At most {caps.MaxTokens} tokens per run (the platform cap, Runtime:MaxTokensPerRun); got {limits.MaxTokens}.");
            }

            if (limits.MaxSteps > caps.MaxSteps)
            {
                errors.Add("limits.maxSteps", $"At most {caps.MaxSteps} steps per run (the platform cap, Runtime:MaxStepsPerRun); got {limits.MaxSteps}.");
            }

            if (limits.MaxSeconds > caps.MaxSeconds)
            {
                errors.Add("limits.maxSeconds", $"At most {caps.MaxSeconds} seconds per run (the platform cap, Runtime:MaxSecondsPerRun); got {limits.MaxSeconds}.");
            }
        }
    }

    /// <summary>
    /// The manifest as it will run: template parameters and connector settings with their defaults filled in, and the
    /// template's default limits where the manifest gives none. Only call it on a manifest that passed <see cref="CheckAsync"/>.
    /// </summary>
    public static async Task<AppManifest> NormaliseAsync(AppManifest manifest, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var catalog = new CatalogLookup(grains.GetGrain<ICatalogGrain>("default"), cluster, context.RequestAborted);
        if (manifest.Template is not { } template || await catalog.GetAsync(CatalogKind.Template, template) is not { } entry)
        {
            return manifest;
        }

        var connectors = new List<ConnectorRef>();
        foreach (var connector in manifest.Connectors ?? [])
        {
            var spec = connector.Use is { } use ? await catalog.GetAsync(CatalogKind.Connector, use) : null;
            connectors.Add(spec is null ? connector : connector with { Settings = TemplateParameters.WithDefaults(spec.Parameters, connector.Settings) });
        }

        return manifest with
        {
            Parameters = TemplateParameters.WithDefaults(entry.Parameters, manifest.Parameters),
            Connectors = connectors,
            Limits = manifest.Limits ?? BuiltInCatalog.DefaultLimits(template.Name),
        };
    }

    /// <summary>Template parameters that name one of the app's connectors (a summarizer's source, an approvals bot's notify) must name one it has.</summary>
    private static void CheckConnectorNames(AppManifest manifest, CatalogEntry template, AdminEndpoints.Errors errors)
    {
        var names = (manifest.Connectors ?? []).Where(c => c is not null).Select(c => c.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var parameter in new[] { "source", "notify" })
        {
            if (template.Parameters.Any(p => p.Name == parameter)
                && manifest.Parameters?.GetValueOrDefault(parameter) is { } value && !string.IsNullOrWhiteSpace(value) && !names.Contains(value.Trim()))
            {
                errors.Add($"parameters.{parameter}", $"'{value}' is not one of the app's connectors ({(names.Count == 0 ? "it has none" : string.Join(", ", names))}).");
            }
        }
    }

    private static async Task<string> NotFoundAsync(CatalogLookup catalog, CatalogKind kind, CatalogRef reference, string what)
    {
        foreach (var other in Enum.GetValues<CatalogKind>())
        {
            if (other != kind && !(kind == CatalogKind.Prompt && other == CatalogKind.Chain) && await catalog.GetAsync(other, reference) is not null)
            {
                return $"'{reference}' is a {Name(other)} in the catalog, not a {what}.";
            }
        }

        var versions = (await catalog.SearchAsync(new CatalogQuery(Kind: kind, AllVersions: true)))
            .Concat(kind == CatalogKind.Prompt ? await catalog.SearchAsync(new CatalogQuery(Kind: CatalogKind.Chain, AllVersions: true)) : [])
            .Select(e => e.Ref.ToString()).ToList();
        var sameName = versions.Where(v => v.StartsWith(reference.Name + "@", StringComparison.Ordinal)).ToList();
        return sameName.Count > 0
            ? $"No version {reference.Version} of {what} '{reference.Name}' in the catalog; it has {string.Join(", ", sameName)}."
            : $"No {what} '{reference.Name}' in the catalog{(versions.Count == 0 ? "." : $"; there are {string.Join(", ", versions.Take(20))}.")}";
    }

    private static string Name(CatalogKind kind) => kind.ToString().ToLowerInvariant();

    private static string Listed(IReadOnlyList<string>? entries) => entries is { Count: > 0 } ? string.Join(", ", entries) : "empty";

    private static void Add(AdminEndpoints.Errors errors, IEnumerable<(string Field, string Message)> found)
    {
        foreach (var (field, message) in found)
        {
            errors.Add(field, message);
        }
    }

    /// <summary>Catalog reads through <see cref="ClusterCalls"/>, each reference looked up once per request.</summary>
    private sealed class CatalogLookup(ICatalogGrain catalog, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        private readonly Dictionary<(CatalogKind, CatalogRef), CatalogEntry?> entries = [];

        public async Task<CatalogEntry?> GetAsync(CatalogKind kind, CatalogRef reference)
        {
            if (!entries.TryGetValue((kind, reference), out var entry))
            {
                entry = await cluster.RunAsync(_ => new ValueTask<CatalogEntry?>(catalog.GetAsync(kind, reference)), cancellationToken);
                entries[(kind, reference)] = entry;
            }

            return entry;
        }

        public Task<IReadOnlyList<CatalogEntry>> SearchAsync(CatalogQuery query) =>
            cluster.RunAsync(_ => new ValueTask<IReadOnlyList<CatalogEntry>>(catalog.SearchAsync(query)), cancellationToken).AsTask();
    }
}
