using MicroApps.Orleans.Catalog;

namespace MicroApps.Orleans.Packs;

/// <summary>Why a pack upgrade was refused.</summary>
public enum PackUpgradeRefusal
{
    None = 0,

    /// <summary>The app was created from nothing: there is no canonical source a pack could be newer than.</summary>
    NoCanonicalSource = 1,

    /// <summary>The pack's canonical source is another app.</summary>
    OtherCanonicalSource = 2,

    /// <summary>The pack comes from an app this app never came from, so "newer" cannot be told.</summary>
    UnrelatedSource = 3,

    /// <summary>The pack is the version the app came from, or older.</summary>
    NotNewer = 4,
}

/// <summary>The outcome of <see cref="PackLineage.Upgraded"/>: the new lineage, or why not with a sentence saying so.</summary>
public sealed record PackUpgradeDecision(AppLineage? Lineage, PackUpgradeRefusal Refusal, string Message);

/// <summary>
/// Lineage rules. The canonical source is the root of the chain and never changes along it; each import, fork and
/// upgrade appends a step naming the app version it came from and the digest of the content it took.
/// </summary>
public static class PackLineage
{
    /// <summary>
    /// The lineage of an app made from <paramref name="pack"/> by an import (<see cref="BuiltIns.Imported"/>) or a fork
    /// (<see cref="BuiltIns.Forked"/>): the pack's canonical source, the source's steps, then this step.
    /// </summary>
    public static AppLineage Derived(AppPack pack, string kind, string actor, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(pack);
        if (kind is not (BuiltIns.Imported or BuiltIns.Forked))
        {
            throw new ArgumentException($"a derived app is imported or forked, not '{kind}'", nameof(kind));
        }

        return new AppLineage(
            pack.Canonical.AppId,
            pack.Canonical.Version,
            [.. pack.Lineage?.Steps ?? [], Step(pack, kind, actor, at)]);
    }

    /// <summary>
    /// The lineage of a new version of an app with lineage <paramref name="current"/> taken from <paramref name="pack"/>:
    /// the pack must have the same canonical source (compared by app id: later versions of the canonical app are the
    /// upgrades) and be newer than the newest version of the pack's source app this app came from.
    /// </summary>
    public static PackUpgradeDecision Upgraded(AppLineage? current, AppPack pack, string actor, DateTimeOffset at)
    {
        ArgumentNullException.ThrowIfNull(pack);
        if (current is null)
        {
            return new(null, PackUpgradeRefusal.NoCanonicalSource,
                $"The app has no canonical source (it was not imported or forked), so no pack upgrades it; the pack's canonical source is {pack.Canonical}.");
        }

        var canonical = new PackCanonical(current.CanonicalAppId, current.CanonicalVersion);
        if (!string.Equals(pack.Canonical.AppId, current.CanonicalAppId, StringComparison.Ordinal))
        {
            return new(null, PackUpgradeRefusal.OtherCanonicalSource,
                $"The pack's canonical source is {pack.Canonical} but the app's is {canonical}: a pack upgrades only apps of the same canonical source.");
        }

        var cameFrom = current.Steps.Where(s => s.FromAppId == pack.Source.AppId).Select(s => (int?)s.FromVersion)
            .Append(current.CanonicalAppId == pack.Source.AppId ? current.CanonicalVersion : null)
            .Max();
        if (cameFrom is null)
        {
            return new(null, PackUpgradeRefusal.UnrelatedSource,
                $"The pack comes from {pack.Source.AppId}@{pack.Source.Version}, an app this app never came from, so it cannot be told newer; import or fork it instead.");
        }

        if (pack.Source.Version <= cameFrom)
        {
            return new(null, PackUpgradeRefusal.NotNewer,
                $"The pack is {pack.Source.AppId}@{pack.Source.Version}; the app already came from {pack.Source.AppId}@{cameFrom}: an upgrade needs a newer version.");
        }

        var lineage = new AppLineage(current.CanonicalAppId, current.CanonicalVersion, [.. current.Steps, Step(pack, BuiltIns.Upgraded, actor, at)]);
        return new(lineage, PackUpgradeRefusal.None, $"upgraded from {pack.Source.AppId}@{cameFrom} to {pack.Source.AppId}@{pack.Source.Version}");
    }

    private static LineageStep Step(AppPack pack, string kind, string actor, DateTimeOffset at) =>
        new(kind, pack.Source.AppId, pack.Source.Version, pack.Source.Digest, actor, at);
}
