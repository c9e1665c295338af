using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.Catalog;

/// <summary>One reference an accepted upgrade moved.</summary>
public sealed record AppliedUpgrade(CatalogKind Kind, CatalogRef From, CatalogRef To);

/// <summary>
/// Accepting upgrades: which proposals an owner's choice means, and the manifest with those references bumped. Plain,
/// so the admin API and tests share it.
/// </summary>
public static class CatalogUpgrades
{
    /// <summary>
    /// The upgrades <paramref name="references"/> (<c>name@version</c> each) choose among <paramref name="proposals"/>;
    /// null chooses every proposal, the newest version offered for each current reference. Errors name
    /// <c>references[i]</c>: not a reference, not offered to this app, or a second choice for the same reference.
    /// </summary>
    public static (IReadOnlyList<AppliedUpgrade> Chosen, IReadOnlyList<(string Field, string Message)> Errors) Choose(
        IReadOnlyList<UpgradeProposal> proposals, IReadOnlyList<string?>? references)
    {
        ArgumentNullException.ThrowIfNull(proposals);
        if (references is null)
        {
            var all = proposals
                .GroupBy(p => (p.Kind, p.Current))
                .Select(g => g.MaxBy(p => p.Available.SemVer)!)
                .Select(p => new AppliedUpgrade(p.Kind, p.Current, p.Available))
                .ToList();
            return (all, []);
        }

        var chosen = new List<AppliedUpgrade>();
        var errors = new List<(string, string)>();
        for (var i = 0; i < references.Count; i++)
        {
            var field = $"references[{i}]";
            if (!CatalogRef.TryParse(references[i], out var wanted))
            {
                errors.Add((field, $"'{references[i]}' is not a catalog reference ({CatalogRef.Format})."));
                continue;
            }

            var offered = proposals.Where(p => p.Available == wanted).ToList();
            if (offered.Count == 0)
            {
                var names = proposals.Where(p => p.Available.Name == wanted.Name).Select(p => p.Available.ToString()).Distinct().ToList();
                errors.Add((field, names.Count == 0
                    ? $"No upgrade of '{wanted.Name}' is offered to this app."
                    : $"{wanted} is not offered to this app; offered: {string.Join(", ", names)}."));
                continue;
            }

            foreach (var proposal in offered)
            {
                if (chosen.Any(c => c.Kind == proposal.Kind && c.From == proposal.Current))
                {
                    errors.Add((field, $"{proposal.Current} already has an upgrade chosen; choose one version per reference."));
                    break;
                }

                chosen.Add(new AppliedUpgrade(proposal.Kind, proposal.Current, proposal.Available));
            }
        }

        return (chosen, errors);
    }

    /// <summary>The manifest with every chosen reference moved: the template, components, and connectors' <c>use</c>.</summary>
    public static AppManifest Apply(AppManifest manifest, IReadOnlyList<AppliedUpgrade> upgrades)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(upgrades);
        CatalogRef Moved(CatalogKind kind, CatalogRef reference) =>
            upgrades.FirstOrDefault(u => u.Kind == kind && u.From == reference)?.To ?? reference;

        // Components are prompts or chains: a component reference moves when either kind's upgrade names it.
        CatalogRef MovedComponent(CatalogRef reference) =>
            upgrades.FirstOrDefault(u => u.Kind is CatalogKind.Prompt or CatalogKind.Chain && u.From == reference)?.To ?? reference;

        // Arrays, not collection expressions: the manifest is stored, and Orleans cannot serialize compiler-generated collections.
        return manifest with
        {
            Template = manifest.Template is { } template ? Moved(CatalogKind.Template, template) : null,
            Components = manifest.Components?.Select(MovedComponent).ToArray(),
            Connectors = manifest.Connectors?.Select(c => c.Use is { } use ? c with { Use = Moved(CatalogKind.Connector, use) } : c).ToArray(),
        };
    }
}
