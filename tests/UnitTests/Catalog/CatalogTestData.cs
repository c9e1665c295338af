using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;

namespace MicroApps.Orleans.UnitTests.Catalog;

/// <summary>Entries and apps for the catalog unit tests.</summary>
internal static class CatalogTestData
{
    public static readonly DateTimeOffset At = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);

    public static CatalogEntry Prompt(string name, string version, bool safe = false, string text = "Write in our voice.") =>
        new(CatalogKind.Prompt, name, version, "brand-team", "A shared prompt.", ["voice"], false, safe, [], text, [], At, "approver");

    public static CatalogRef Ref(string text) => CatalogRef.TryParse(text, out var r) ? r : throw new ArgumentException(text);

    public static AppManifest Manifest(CatalogRef? template = null, CatalogRef[]? components = null, ConnectorRef[]? connectors = null) =>
        new("App", "owner", "team", Audience.Internal, [], ["standard"], "standard", AppQuotas.Default, "", "v1",
            Connectors: connectors, Template: template, Components: components);

    /// <summary>An app with one published version 1 holding <paramref name="manifest"/>, and optionally a newer draft.</summary>
    public static AppInfo App(string appId, AppManifest manifest, AppLifecycle lifecycle = AppLifecycle.Active, AppManifest? draft = null, bool published = true)
    {
        var versions = new List<AppVersionInfo> { Version(1, manifest, published ? VersionState.Published : VersionState.Draft) };
        if (draft is not null)
        {
            versions.Add(Version(2, draft, VersionState.Draft));
        }

        return new AppInfo(appId, manifest, lifecycle, [], At, $"app:{appId}", new AppRelease(published ? 1 : null, null, 0), versions);
    }

    private static AppVersionInfo Version(int number, AppManifest manifest, VersionState state) =>
        new(number, manifest, state, "owner", At, [], null, [], false);
}
