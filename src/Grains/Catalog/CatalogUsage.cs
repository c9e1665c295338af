using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.Catalog;

/// <summary>One app's traced calls and their cost over a window (from the cost roll-ups, grouped by app).</summary>
public sealed record AppSpend(long Calls, decimal CostUsd)
{
    public static AppSpend None { get; } = new(0, 0m);
}

/// <summary>
/// Usage per template and component, the reuse rate and retirement candidates, computed from the apps and their spend
/// over a window. Plain: the grains gather the inputs, this class decides.
/// </summary>
public static class CatalogUsage
{
    public const string Definition =
        "Each non-retired app counts once for every catalog entry version its manifest references (the published version's "
        + "manifest, else the newest version's): its template, its components (shared prompts and chains) and its connectors' "
        + "'use'. Calls are the app's traced calls in the window (every outcome), from the cost roll-ups. The reuse rate is the "
        + "share of non-retired apps that reference the catalog at all, and the share of all non-retired apps' calls they made. "
        + "Usage counts the version an app pins; a safe patch it runs instead is counted under the pinned version.";

    /// <summary>The manifest an app is judged by: the published version's, else the newest version's, else the app's current one.</summary>
    public static AppManifest ManifestOf(AppInfo app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var versions = app.Versions ?? [];
        var shown = versions.FirstOrDefault(v => v.Version == app.Release?.PublishedVersion) ?? versions.MaxBy(v => v.Version);
        return shown?.Manifest ?? app.Manifest;
    }

    /// <summary>
    /// Every catalog reference of a manifest, distinct, in the order template, components, connectors. A component's kind
    /// comes from <paramref name="kinds"/> (catalog names are unique across kinds); a component the catalog does not know
    /// is left out.
    /// </summary>
    public static IReadOnlyList<CatalogUse> UsesOf(AppManifest manifest, IReadOnlyDictionary<string, CatalogKind> kinds)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(kinds);
        var uses = new List<CatalogUse>();
        if (manifest.Template is { } template)
        {
            uses.Add(new CatalogUse(CatalogKind.Template, template));
        }

        foreach (var component in manifest.Components ?? [])
        {
            if (kinds.TryGetValue(component.Name, out var kind))
            {
                uses.Add(new CatalogUse(kind, component));
            }
        }

        foreach (var connector in manifest.Connectors ?? [])
        {
            if (connector.Use is { } use)
            {
                uses.Add(new CatalogUse(CatalogKind.Connector, use));
            }
        }

        // A list, not a collection expression: it travels in grain calls, and Orleans cannot serialize compiler-generated collections.
        return uses.Distinct().ToList();
    }

    /// <summary>Whether a manifest references the catalog at all (template, any component, any connector's <c>use</c>).</summary>
    public static bool IsBuiltOnCatalog(AppManifest manifest) =>
        manifest.Template is not null || manifest.Components is { Count: > 0 } || (manifest.Connectors ?? []).Any(c => c.Use is not null);

    /// <summary>The reuse rate over the non-retired apps.</summary>
    public static ReuseFigures Reuse(IEnumerable<AppInfo> apps, IReadOnlyDictionary<string, AppSpend> spend)
    {
        ArgumentNullException.ThrowIfNull(apps);
        ArgumentNullException.ThrowIfNull(spend);
        int count = 0, onCatalog = 0;
        long calls = 0, callsOnCatalog = 0;
        foreach (var app in apps.Where(a => a.Lifecycle != AppLifecycle.Retired))
        {
            var appCalls = spend.GetValueOrDefault(app.AppId, AppSpend.None).Calls;
            count++;
            calls += appCalls;
            if (IsBuiltOnCatalog(ManifestOf(app)))
            {
                onCatalog++;
                callsOnCatalog += appCalls;
            }
        }

        return new ReuseFigures(
            count, onCatalog, count == 0 ? null : Math.Round((double)onCatalog / count, 6),
            calls, callsOnCatalog, calls == 0 ? null : Math.Round((double)callsOnCatalog / calls, 6));
    }

    /// <summary>Usage per entry version and per entry name, and the reuse rate.</summary>
    public static CatalogUsageReport Compute(
        DateTimeOffset from,
        DateTimeOffset to,
        IEnumerable<AppInfo> apps,
        IReadOnlyDictionary<string, AppSpend> spend,
        IReadOnlyDictionary<string, CatalogKind> kinds)
    {
        var live = apps.Where(a => a.Lifecycle != AppLifecycle.Retired).ToList();
        var byVersion = new Dictionary<(CatalogKind, string, string), (int Apps, long Calls)>();
        var byName = new Dictionary<(CatalogKind, string), (int Apps, long Calls)>();
        foreach (var app in live)
        {
            var calls = spend.GetValueOrDefault(app.AppId, AppSpend.None).Calls;
            var uses = UsesOf(ManifestOf(app), kinds);
            foreach (var use in uses)
            {
                var key = (use.Kind, use.Reference.Name, use.Reference.Version);
                var sum = byVersion.GetValueOrDefault(key);
                byVersion[key] = (sum.Apps + 1, sum.Calls + calls);
            }

            // An app on two versions of one name (two connectors, say) counts once for the name.
            foreach (var name in uses.Select(u => (u.Kind, u.Reference.Name)).Distinct())
            {
                var sum = byName.GetValueOrDefault(name);
                byName[name] = (sum.Apps + 1, sum.Calls + calls);
            }
        }

        var versions = byVersion
            .Select(e => new CatalogEntryUsage(e.Key.Item1, e.Key.Item2, e.Key.Item3, e.Value.Apps, e.Value.Calls))
            .OrderBy(e => e.Kind).ThenBy(e => e.Name, StringComparer.Ordinal).ThenBy(e => SemVerOf(e.Version!))
            .ToList();
        var names = byName
            .Select(e => new CatalogEntryUsage(e.Key.Item1, e.Key.Item2, null, e.Value.Apps, e.Value.Calls))
            .OrderBy(e => e.Kind).ThenBy(e => e.Name, StringComparer.Ordinal)
            .ToList();
        return new CatalogUsageReport(from, to, versions, names, Reuse(live, spend), Definition);
    }

    /// <summary>
    /// Non-retired apps with at most <see cref="RetirementCriteria.MaxCallsPerDay"/> calls per day on average over the
    /// window and a cost of at least <see cref="RetirementCriteria.MinCostUsd"/> in it; highest cost first (ties by app id).
    /// </summary>
    public static RetirementReport Retirement(
        DateTimeOffset from,
        DateTimeOffset to,
        RetirementCriteria criteria,
        IEnumerable<AppInfo> apps,
        IReadOnlyDictionary<string, AppSpend> spend)
    {
        ArgumentNullException.ThrowIfNull(criteria);
        if (criteria.Days < 1)
        {
            throw new ArgumentException($"days must be 1 or more; it is {criteria.Days}.", nameof(criteria));
        }

        var live = apps.Where(a => a.Lifecycle != AppLifecycle.Retired).ToList();
        var candidates = new List<RetirementCandidate>();
        foreach (var app in live)
        {
            var figures = spend.GetValueOrDefault(app.AppId, AppSpend.None);
            var perDay = Math.Round((double)figures.Calls / criteria.Days, 4);
            if (perDay > criteria.MaxCallsPerDay || figures.CostUsd < criteria.MinCostUsd)
            {
                continue;
            }

            var manifest = ManifestOf(app);
            decimal? perCall = figures.Calls == 0 ? null : Math.Round(figures.CostUsd / figures.Calls, 8);
            candidates.Add(new RetirementCandidate(
                app.AppId, manifest.Name, manifest.Owner, manifest.Team, app.EffectiveBudgetId, figures.Calls, perDay, figures.CostUsd, perCall,
                $"{figures.Calls} call(s) in {criteria.Days} day(s) ({perDay:0.####}/day, at most {criteria.MaxCallsPerDay:0.####}/day is little use) "
                + $"cost ${figures.CostUsd:0.######} (at least ${criteria.MinCostUsd:0.######} is high cost)"));
        }

        return new RetirementReport(
            from, to, criteria, live.Count,
            candidates.OrderByDescending(c => c.CostUsd).ThenBy(c => c.AppId, StringComparer.Ordinal).ToList());
    }

    private static (int, int, int) SemVerOf(string version) => new CatalogRef("x", version).SemVer;
}
