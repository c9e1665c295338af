namespace MicroApps.Orleans.Catalog;

/// <summary>
/// Which version a pinned reference runs (safe patches) and which upgrades an app is offered, over a set of entries.
/// Plain, so the rules are tested without a cluster; the catalog grain answers with them.
/// </summary>
public static class CatalogResolution
{
    /// <summary>Exactly that version, or null.</summary>
    public static CatalogEntry? Find(IEnumerable<CatalogEntry> entries, CatalogKind kind, CatalogRef reference) =>
        entries.FirstOrDefault(e => e.Kind == kind && e.Name == reference.Name && e.Version == reference.Version);

    /// <summary>Every version of one entry, oldest first.</summary>
    public static List<CatalogEntry> Versions(IEnumerable<CatalogEntry> entries, CatalogKind kind, string name) =>
        [.. entries.Where(e => e.Kind == kind && e.Name == name).OrderBy(e => e.Ref.SemVer)];

    /// <summary>
    /// The pinned version moved along the later patches of its major.minor while each is marked safe, stopping before the
    /// first one that is not; null when the pinned version does not exist.
    /// </summary>
    public static CatalogEntry? Resolve(IReadOnlyList<CatalogEntry> entries, CatalogKind kind, CatalogRef reference)
    {
        var pinned = Find(entries, kind, reference);
        if (pinned is null)
        {
            return null;
        }

        var (major, minor, _) = pinned.Ref.SemVer;
        var current = pinned;
        foreach (var later in Versions(entries, kind, reference.Name).Where(e => e.Ref.SemVer.CompareTo(pinned.Ref.SemVer) > 0))
        {
            var (laterMajor, laterMinor, _) = later.Ref.SemVer;
            if (laterMajor != major || laterMinor != minor || !later.SafeUpgrade)
            {
                break;
            }

            current = later;
        }

        return current;
    }

    /// <summary>
    /// For each distinct reference: the safe patch runs already use (automatic), and the newest version beyond it when
    /// there is one (proposed to the owner, with why). References the catalog does not have are skipped.
    /// </summary>
    public static IReadOnlyList<UpgradeProposal> Upgrades(IReadOnlyList<CatalogEntry> entries, IReadOnlyList<CatalogUse> references)
    {
        var proposals = new List<UpgradeProposal>();
        foreach (var use in references.Distinct())
        {
            var resolved = Resolve(entries, use.Kind, use.Reference);
            if (resolved is null)
            {
                continue;
            }

            if (resolved.Version != use.Reference.Version)
            {
                proposals.Add(new UpgradeProposal(use.Kind, use.Reference, resolved.Ref, Automatic: true,
                    $"every patch from {use.Reference.Version} to {resolved.Version} is marked safe: runs use {resolved.Ref} already"));
            }

            var newest = Versions(entries, use.Kind, use.Reference.Name).Last();
            if (newest.Ref.SemVer.CompareTo(resolved.Ref.SemVer) > 0)
            {
                proposals.Add(new UpgradeProposal(use.Kind, use.Reference, newest.Ref, Automatic: false, UpgradeReason(resolved, newest)));
            }
        }

        return proposals;
    }

    private static string UpgradeReason(CatalogEntry from, CatalogEntry to) =>
        from.Ref.SemVer.Major != to.Ref.SemVer.Major ? $"{to.Ref} is a new major version: it may change behaviour; the owner decides"
        : from.Ref.SemVer.Minor != to.Ref.SemVer.Minor ? $"{to.Ref} is a new minor version; the owner decides"
        : $"{to.Ref} is a patch not marked safe; the owner decides";
}
