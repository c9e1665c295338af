using System.Text.Json;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.Packs;

/// <summary>Builds the pack of one app version from its manifest and the prompts and components it references.</summary>
public static class PackBuilder
{
    /// <summary>
    /// The pack of <paramref name="appId"/> version <paramref name="version"/>. <paramref name="prompts"/> must hold every
    /// version the manifest pins and <paramref name="components"/> every prompt or chain its <c>components</c> name
    /// (an <see cref="ArgumentException"/> names a missing one); they are written in manifest order.
    /// </summary>
    public static AppPack Build(
        string appId,
        int version,
        AppManifest manifest,
        IReadOnlyCollection<PromptVersionInfo> prompts,
        IReadOnlyCollection<CatalogEntry> components,
        string exportedBy,
        DateTimeOffset exportedAt)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var packPrompts = (manifest.Prompts ?? []).Select(pin =>
                prompts.FirstOrDefault(p => p.Name == pin.Name && p.Version == pin.Version)
                ?? throw new ArgumentException($"the manifest pins prompt {pin} but it was not given", nameof(prompts)))
            .Select(PackPrompt.From)
            .ToList();
        var packComponents = (manifest.Components ?? []).Select(reference =>
                components.FirstOrDefault(c => c.Kind is CatalogKind.Prompt or CatalogKind.Chain && c.Name == reference.Name && c.Version == reference.Version)
                ?? throw new ArgumentException($"the manifest uses component {reference} but it was not given", nameof(components)))
            .Select(PackComponent.From)
            .ToList();

        var document = ManifestDocument(manifest);
        var digest = PackDigest.Of(
            document,
            JsonSerializer.SerializeToNode(packPrompts, PackJson.Options),
            JsonSerializer.SerializeToNode(packComponents, PackJson.Options));
        var canonical = manifest.Lineage is { } lineage
            ? new PackCanonical(lineage.CanonicalAppId, lineage.CanonicalVersion)
            : new PackCanonical(appId, version);
        return new AppPack(
            PackFormat.V1,
            new PackSource(appId, version, digest, exportedAt, exportedBy),
            canonical,
            document,
            packPrompts,
            packComponents,
            manifest.Lineage);
    }

    /// <summary>
    /// The manifest as the admin API reads it — camelCase, enums lower-case, catalog references as <c>name@version</c>,
    /// null properties left out — without its lineage, which belongs to the app, not to the content.
    /// </summary>
    public static JsonObject ManifestDocument(AppManifest manifest)
    {
        var node = (JsonObject)CanonicalJson.WithoutNulls(JsonSerializer.SerializeToNode(manifest with { Lineage = null }, PackJson.Options))!;
        node.Remove("lineage");
        return node;
    }
}
