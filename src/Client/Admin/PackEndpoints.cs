using System.Text.Json;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Packs;
using MicroApps.Orleans.Prompts;
using Microsoft.AspNetCore.Http.HttpResults;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>Body of <c>POST /admin/packs/import</c>: the pack as exported, and optionally the new app's id (default: the pack's source app id) and owner (default: the caller).</summary>
public sealed record ImportPackBody(JsonObject? Pack = null, string? AppId = null, string? Owner = null);

/// <summary>Body of <c>POST /admin/apps/{appId}/fork</c>: the new app's id, and optionally its owner (default: the caller), name and the source version (default: published, else newest).</summary>
public sealed record ForkAppBody(string? AppId = null, string? Owner = null, string? Name = null, int? Version = null);

/// <summary>Body of <c>POST /admin/apps/{appId}/pack/upgrade</c>: a newer pack of the app's canonical source.</summary>
public sealed record UpgradePackBody(JsonObject? Pack = null);

/// <summary>Where an app comes from: its canonical source and every step since, oldest first.</summary>
public sealed record LineageView(PackCanonical Canonical, IReadOnlyList<LineageStep> Steps)
{
    public static LineageView Of(string appId, int version, AppLineage? lineage) => lineage is null
        ? new(new PackCanonical(appId, version), [])
        : new(new PackCanonical(lineage.CanonicalAppId, lineage.CanonicalVersion), lineage.Steps);
}

/// <summary>What an import, fork or pack upgrade made: the app version (a draft), its lineage, and what it published into this cluster.</summary>
/// <param name="RemappedPrompts">Pins the import moved because this registry numbered the recreated prompt differently (<c>name@packVersion</c> → <c>name@version</c>).</param>
public sealed record PackResultView(
    string AppId,
    int Version,
    VersionState State,
    string Owner,
    LineageView Lineage,
    string PackDigest,
    IReadOnlyList<string> PublishedPrompts,
    IReadOnlyList<string> PublishedComponents,
    IReadOnlyDictionary<string, string> RemappedPrompts);

/// <summary>An app in this cluster that came from the app asked about, by one of its lineage steps.</summary>
public sealed record DerivedAppView(string AppId, int Version, string Kind, int FromVersion, string PackDigest, string Actor, DateTimeOffset At);

/// <summary>
/// <c>GET /admin/apps/{appId}/lineage</c>: the version's canonical source and steps, and the apps known in the cluster that were
/// imported, forked or upgraded from this app (found by scanning every app: <paramref name="AppsScanned"/> says how many).
/// </summary>
public sealed record AppLineageView(string AppId, int Version, PackCanonical Canonical, IReadOnlyList<LineageStep> Steps, IReadOnlyList<DerivedAppView> Derived, int AppsScanned);

/// <summary>
/// App packs: export one app version (manifest, tests, pinned registry prompts, catalog components) as a digest-covered
/// document; import it as a new draft app, here or in another cluster; fork an app; upgrade an imported or forked app
/// from a newer pack of its canonical source; show lineage. Imports, forks and upgrades go through the manifest rules
/// of <c>POST /admin/apps</c>, with errors named inside the pack (<c>pack.manifest.defaultTier</c>).
/// </summary>
internal static class PackEndpoints
{
    internal static void MapPackEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/apps/{appId}/pack", ExportAsync)
            .WithName("ExportAppPack").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Exports an app version (?version=N; default published, else newest) as a pack (microapps.pack/v1).")
            .Produces<JsonObject>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/packs/import", ImportAsync)
            .WithName("ImportAppPack").AllowRoles(AdminRole.Author, AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Imports a pack as a new draft app whose lineage names the pack's canonical source and an import step.")
            .WithDescription("Registry prompts the pack carries are published when missing (409 naming one that exists with other text); " +
                "catalog components likewise (publishing a new one is for approvers and admins). A changed pack is refused naming pack.source.digest.")
            .Accepts<ImportPackBody>("application/json")
            .Produces<PackResultView>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/apps/{appId}/fork", ForkAsync)
            .WithName("ForkApp").AllowRoles(AdminRole.Author, AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Forks an app version into a new draft app; the canonical source stays the root of the chain, a fork step is appended.")
            .Accepts<ForkAppBody>("application/json")
            .Produces<PackResultView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/apps/{appId}/pack/upgrade", UpgradeAsync)
            .WithName("UpgradeAppFromPack").AllowRoles(AdminRole.Author, AdminRole.Admin)
            .WithSummary("Adds a draft version from a newer pack of the app's canonical source, with an upgrade step.")
            .WithDescription("409 naming both canonical sources when the pack's is not the app's; 409 when the pack is not newer than the version the app came from.")
            .Accepts<UpgradePackBody>("application/json")
            .Produces<PackResultView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapGet("/apps/{appId}/lineage", LineageAsync)
            .WithName("GetAppLineage").AllowRoles(AdminAccess.Everyone)
            .WithSummary("An app version's canonical source and lineage steps, and the apps in the cluster imported, forked or upgraded from it.")
            .Produces<AppLineageView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<IResult> ExportAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var (_, info, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var (version, versionError) = SelectVersion(appId, info!, context);
        if (versionError is not null)
        {
            return versionError;
        }

        var (pack, packError) = await BuildPackAsync(appId, version!, context, grains, cluster);
        return packError ?? TypedResults.Json(pack!.ToJson(), statusCode: StatusCodes.Status200OK);
    }

    internal static async Task<IResult> ImportAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var read = await AdminJson.ReadAsync<ImportPackBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var body = read.Value!;
        var packRead = PackReader.Read(body.Pack);
        if (!packRead.IsValid)
        {
            return Invalid(packRead.Errors);
        }

        var pack = packRead.Pack!;
        var appId = string.IsNullOrWhiteSpace(body.AppId) ? pack.Source.AppId : body.AppId.Trim();
        var principal = context.AdminPrincipal();
        var lineage = PackLineage.Derived(pack, BuiltIns.Imported, principal.Name, Now(context));
        return await CreateFromPackAsync(pack, appId, body.Owner, name: null, lineage, context, grains, cluster);
    }

    internal static async Task<IResult> ForkAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var (_, info, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var read = await AdminJson.ReadAsync<ForkAppBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var body = read.Value!;
        if (string.IsNullOrWhiteSpace(body.AppId))
        {
            return AdminJson.Invalid("appId", "Required: the id of the new app (3–40 characters of lower-case letters, digits and '-').");
        }

        if (body.Name is not null && string.IsNullOrWhiteSpace(body.Name))
        {
            return AdminJson.Invalid("name", "Must not be empty; leave it out to keep the source app's name.");
        }

        var source = body.Version is { } wanted ? info!.Versions?.FirstOrDefault(v => v.Version == wanted) : Default(info!);
        if (source is null)
        {
            return TypedResults.Problem(title: "Version not found", detail: $"App '{appId}' has no version {body.Version}.", statusCode: StatusCodes.Status404NotFound);
        }

        // A fork is an export and an import in one cluster: the same content, digest and rules.
        var (pack, packError) = await BuildPackAsync(appId, source, context, grains, cluster);
        if (packError is not null)
        {
            return packError;
        }

        var principal = context.AdminPrincipal();
        var lineage = PackLineage.Derived(pack!, BuiltIns.Forked, principal.Name, Now(context));
        return await CreateFromPackAsync(pack!, body.AppId.Trim(), body.Owner, body.Name?.Trim(), lineage, context, grains, cluster);
    }

    internal static async Task<IResult> UpgradeAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        // Ownership first: another author learns nothing about what a valid body would be.
        var (app, info, error) = await AdminEndpoints.LoadOwnedAppAsync(appId, context, grains, cluster);
        if (error is not null)
        {
            return error;
        }

        var read = await AdminJson.ReadAsync<UpgradePackBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var packRead = PackReader.Read(read.Value!.Pack);
        if (!packRead.IsValid)
        {
            return Invalid(packRead.Errors);
        }

        var pack = packRead.Pack!;
        var principal = context.AdminPrincipal();
        var newest = info!.Versions?.MaxBy(v => v.Version);
        var current = newest?.Manifest ?? info.Manifest;
        var decision = PackLineage.Upgraded(current.Lineage, pack, principal.Name, Now(context));
        if (decision.Lineage is null)
        {
            return TypedResults.Problem(
                title: decision.Refusal switch
                {
                    PackUpgradeRefusal.OtherCanonicalSource => "Other canonical source",
                    PackUpgradeRefusal.NotNewer => "Pack is not newer",
                    PackUpgradeRefusal.NoCanonicalSource => "No canonical source",
                    _ => "Unrelated pack source",
                },
                detail: decision.Message,
                statusCode: StatusCodes.Status409Conflict,
                extensions: new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["packCanonical"] = pack.Canonical.ToString(),
                    ["appCanonical"] = current.Lineage is { } l ? $"{l.CanonicalAppId}@{l.CanonicalVersion}" : null,
                });
        }

        // The app keeps its own identity; the content comes from the pack.
        var (manifest, invalid) = await ManifestOfAsync(pack, appId, current.Owner, current.Name, decision.Lineage, context, grains, cluster);
        if (invalid is not null)
        {
            return invalid;
        }

        var (published, publishError) = await PublishReferencesAsync(pack, manifest!, context, grains, cluster);
        if (publishError is not null)
        {
            return publishError;
        }

        manifest = published!.Manifest;
        var (added, refused) = await LifecycleEndpoints.AddDraftVersionAsync(appId, app!, manifest, principal.Name, "pack.manifest");
        if (refused is not null)
        {
            return refused;
        }

        await context.AuditAsync(grains, "app.pack.upgraded", $"app:{appId}",
            $"version {added!.Version} draft from pack {pack.Source.AppId}@{pack.Source.Version} ({pack.Source.Digest}); {decision.Message}");
        return TypedResults.Created($"/admin/apps/{appId}/versions/{added.Version}", Result(appId, added, pack, published));
    }

    internal static async Task<IResult> LineageAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var (_, info, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var (version, versionError) = SelectVersion(appId, info!, context);
        if (versionError is not null)
        {
            return versionError;
        }

        // Derived apps are found by reading every app's versions: fine while the registry is one grain listing every app;
        // an index kept by imports and forks is the step after.
        var registry = grains.GetGrain<IAppRegistryGrain>(0);
        var ids = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<string>>(registry.ListAsync()), context.RequestAborted);
        var others = await Task.WhenAll(ids.Where(id => id != appId).Select(id =>
            cluster.RunAsync(_ => new ValueTask<AppInfo?>(grains.GetGrain<IMicroAppGrain>(id).GetAsync()), context.RequestAborted).AsTask()));
        var derived = new List<DerivedAppView>();
        foreach (var other in others.Where(o => o is not null))
        {
            // A version's own step is its last one: the earlier steps came with the content from its source (a fork of
            // an import carries the import), and later versions carry them forward. Each is reported once, where it was made.
            var seen = new HashSet<LineageStep>();
            foreach (var v in (other!.Versions ?? []).OrderBy(v => v.Version))
            {
                if (v.Manifest.Lineage?.Steps is [.., var step] && step.FromAppId == appId && seen.Add(step))
                {
                    derived.Add(new DerivedAppView(other.AppId, v.Version, step.Kind, step.FromVersion, step.PackDigest, step.Actor, step.At));
                }
            }
        }

        var lineage = LineageView.Of(appId, version!.Version, version.Manifest.Lineage);
        return TypedResults.Ok(new AppLineageView(appId, version.Version, lineage.Canonical, lineage.Steps,
            [.. derived.OrderBy(d => d.At).ThenBy(d => d.AppId, StringComparer.Ordinal)], ids.Count));
    }

    /// <summary>The pack of one version: its manifest and the registry prompts and catalog components it references, as they are now.</summary>
    private static async Task<(AppPack? Pack, IResult? Error)> BuildPackAsync(
        string appId, AppVersionInfo version, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var manifest = version.Manifest;
        var prompts = new List<PromptVersionInfo>();
        foreach (var pin in manifest.Prompts ?? [])
        {
            var prompt = grains.GetGrain<IPromptGrain>(pin.Name);
            var found = await cluster.RunAsync(_ => new ValueTask<PromptVersionInfo?>(prompt.GetAsync(pin.Version)), context.RequestAborted);
            if (found is null)
            {
                return (null, TypedResults.Problem(title: "Prompt missing",
                    detail: $"Version {version.Version} of '{appId}' pins prompt {pin}, which is not in the prompt registry: the pack could not carry it.",
                    statusCode: StatusCodes.Status409Conflict));
            }

            prompts.Add(found);
        }

        var catalog = grains.GetGrain<ICatalogGrain>("default");
        var components = new List<CatalogEntry>();
        foreach (var reference in manifest.Components ?? [])
        {
            var found = await cluster.RunAsync(_ => new ValueTask<CatalogEntry?>(catalog.GetAsync(CatalogKind.Prompt, reference)), context.RequestAborted)
                ?? await cluster.RunAsync(_ => new ValueTask<CatalogEntry?>(catalog.GetAsync(CatalogKind.Chain, reference)), context.RequestAborted);
            if (found is null)
            {
                return (null, TypedResults.Problem(title: "Component missing",
                    detail: $"Version {version.Version} of '{appId}' uses component {reference}, which is not a prompt or chain in the catalog: the pack could not carry it.",
                    statusCode: StatusCodes.Status409Conflict));
            }

            components.Add(found);
        }

        return (PackBuilder.Build(appId, version.Version, manifest, prompts, components, context.AdminPrincipal().Name, Now(context)), null);
    }

    /// <summary>Import and fork: a new app whose version 1 is a draft with the pack's content and <paramref name="lineage"/>.</summary>
    private static async Task<IResult> CreateFromPackAsync(
        AppPack pack, string appId, string? owner, string? name, AppLineage lineage, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var principal = context.AdminPrincipal();
        if (!ApiKeys.IsValidAppId(appId))
        {
            return AdminEndpoints.InvalidAppId();
        }

        if (owner is not null && string.IsNullOrWhiteSpace(owner))
        {
            return AdminJson.Invalid("owner", "Must not be empty; leave it out to own the app yourself.");
        }

        var (manifest, invalid) = await ManifestOfAsync(pack, appId, owner?.Trim() ?? principal.Name, name, lineage, context, grains, cluster);
        if (invalid is not null)
        {
            return invalid;
        }

        if (!principal.MayActOnApp(manifest!.Owner))
        {
            return Results.Problem(
                title: "Forbidden",
                detail: $"'{principal.Name}' ({principal.RoleName}) may create apps only with themselves as owner, not '{manifest.Owner}'.",
                statusCode: StatusCodes.Status403Forbidden);
        }

        var kind = lineage.Steps[^1].Kind;
        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var existing = await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), context.RequestAborted);
        if (existing is not null)
        {
            // The same caller repeating the same import or fork (a retry after a lost reply) gets what the first made.
            var first = existing.Versions?.FirstOrDefault(v => v.Version == 1);
            if (first?.Manifest.Lineage?.Steps is [.., var last] && last.Kind == kind && last.PackDigest == pack.Source.Digest
                && last.Actor == principal.Name && last.FromAppId == pack.Source.AppId && last.FromVersion == pack.Source.Version)
            {
                return TypedResults.Ok(Result(appId, first, pack, new Published(first.Manifest, [], [], new Dictionary<string, string>())));
            }

            return TypedResults.Problem(title: "App already exists",
                detail: $"App '{appId}' already exists; choose another appId for the {(kind == BuiltIns.Forked ? "fork" : "import")}, or upgrade '{appId}' from the pack (POST /admin/apps/{appId}/pack/upgrade).",
                statusCode: StatusCodes.Status409Conflict);
        }

        var (published, publishError) = await PublishReferencesAsync(pack, manifest, context, grains, cluster);
        if (publishError is not null)
        {
            return publishError;
        }

        AppInfo created;
        try
        {
            created = await cluster.RunAsync(_ => new ValueTask<AppInfo>(app.CreateDraftAsync(published!.Manifest, principal.Name)), context.RequestAborted);
        }
        catch (InvalidOperationException)
        {
            return TypedResults.Problem(title: "App already exists",
                detail: $"App '{appId}' was created by someone else meanwhile; choose another appId.", statusCode: StatusCodes.Status409Conflict);
        }
        catch (ArgumentException ex)
        {
            return AdminJson.Invalid("pack.manifest", ex.Message);
        }

        var registry = grains.GetGrain<IAppRegistryGrain>(0);
        await cluster.RunAsync(async _ => { await registry.RegisterAsync(appId); return true; }, context.RequestAborted);

        var action = kind == BuiltIns.Forked ? "app.forked" : "app.imported";
        await context.AuditAsync(grains, action, $"app:{appId}",
            $"version 1 draft from {pack.Source.AppId}@{pack.Source.Version} ({pack.Source.Digest}), canonical {pack.Canonical}, owner {published!.Manifest.Owner}");
        var version = created.Versions?.FirstOrDefault(v => v.Version == 1)
            ?? await cluster.RunAsync(_ => new ValueTask<AppVersionInfo?>(app.GetVersionAsync(1)), context.RequestAborted);
        return TypedResults.Created($"/admin/apps/{appId}", Result(appId, version!, pack, published));
    }

    /// <summary>
    /// The manifest the pack describes for this app, through the same rules as <c>POST /admin/apps</c>: the manifest
    /// document reader (<see cref="ManifestDocument.Parse"/>, unknown fields refused), <see cref="AdminEndpoints.BuildManifest"/>,
    /// <see cref="AppManifestRules.Validate"/> and the catalog checks (<see cref="ManifestValidation.CheckAsync"/>). Errors are
    /// named inside the pack (<c>pack.manifest.defaultTier</c>).
    /// </summary>
    private static async Task<(AppManifest? Manifest, IResult? Error)> ManifestOfAsync(
        AppPack pack, string appId, string owner, string? name, AppLineage lineage, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var parsed = ManifestDocument.Parse(pack.Manifest.DeepClone(), ManifestDocument.Options(context));
        if (parsed.Error is not null)
        {
            return (null, TypedResults.ValidationProblem(Prefixed(Fields(parsed.Error)), title: "Invalid pack"));
        }

        // The app id, owner and name are this app's; a manifest document carries no initial state, budget or lineage.
        var document = parsed.Value!;
        var body = document with { AppId = appId, Owner = owner, Name = name ?? document.Name, InitialState = null, Budget = null, Lineage = null };
        var errors = new AdminEndpoints.Errors();
        var manifest = AdminEndpoints.BuildManifest(body, basis: null, context.AdminPrincipal(), errors);
        var fields = Prefixed(Fields(errors.Any ? errors.ToResult() : null));
        if (manifest is not null)
        {
            manifest = manifest with { Lineage = lineage };
            foreach (var (field, message) in AppManifestRules.Validate(appId, manifest))
            {
                fields.TryAdd(InPack(field), [message]);
            }
        }

        if (fields.Count == 0 && manifest is not null)
        {
            // Components are left to PublishReferencesAsync: the pack carries every one the manifest uses (the reader
            // checks), and an import into a cluster that lacks one publishes it rather than refusing it as unknown.
            var catalogErrors = new AdminEndpoints.Errors();
            await ManifestValidation.CheckAsync(manifest with { Components = [] }, context, grains, cluster, catalogErrors);
            fields = Prefixed(Fields(catalogErrors.Any ? catalogErrors.ToResult() : null));
        }

        return fields.Count > 0 || manifest is null
            ? (null, TypedResults.ValidationProblem(fields, title: "Invalid pack"))
            : (manifest, null);
    }

    private static Dictionary<string, string[]> Prefixed(IDictionary<string, string[]> errors) =>
        errors.ToDictionary(e => InPack(e.Key), e => e.Value, StringComparer.Ordinal);

    private static string InPack(string field) => field switch
    {
        "appId" or "owner" => field,
        "body" => "pack.manifest",
        _ => $"pack.manifest.{field}",
    };

    /// <summary>The fields of a validation problem (what <see cref="AdminEndpoints.Errors"/> and the document reader answer); any other problem counts as one on the manifest.</summary>
    private static IDictionary<string, string[]> Fields(IResult? result) => result switch
    {
        null => new Dictionary<string, string[]>(),
        ValidationProblem problem => problem.ProblemDetails.Errors,
        ProblemHttpResult problem => new Dictionary<string, string[]> { ["body"] = [problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title ?? "Invalid."] },
        _ => new Dictionary<string, string[]> { ["body"] = ["The manifest document is not valid."] },
    };

    private sealed record Published(AppManifest Manifest, IReadOnlyList<string> Prompts, IReadOnlyList<string> Components, IReadOnlyDictionary<string, string> Remapped);

    /// <summary>
    /// Makes the pack's prompts and components exist here: ones that exist must have the same content (409 naming the
    /// one that differs, checked for all before anything is published); missing ones are published. A recreated registry
    /// prompt gets this registry's next version number, and the manifest's pin follows it.
    /// </summary>
    private static async Task<(Published? Value, IResult? Error)> PublishReferencesAsync(
        AppPack pack, AppManifest manifest, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var principal = context.AdminPrincipal();
        var missingPrompts = new List<PackPrompt>();
        foreach (var p in pack.Prompts)
        {
            var grain = grains.GetGrain<IPromptGrain>(p.Name);
            var existing = await cluster.RunAsync(_ => new ValueTask<PromptVersionInfo?>(grain.GetAsync(p.Version)), context.RequestAborted);
            if (existing is null)
            {
                missingPrompts.Add(p);
            }
            else if (existing.ContentHash != p.ContentHash)
            {
                return (null, TypedResults.Problem(title: "Prompt differs",
                    detail: $"Prompt {p.Reference()} exists in this registry with other text (sha256 {existing.ContentHash}; the pack carries {p.ContentHash}).",
                    statusCode: StatusCodes.Status409Conflict,
                    extensions: new Dictionary<string, object?>(StringComparer.Ordinal) { ["prompt"] = p.Reference() }));
            }
        }

        var catalog = grains.GetGrain<ICatalogGrain>("default");
        var missingComponents = new List<PackComponent>();
        foreach (var c in pack.Components)
        {
            var existing = await cluster.RunAsync(_ => new ValueTask<CatalogEntry?>(catalog.GetAsync(c.Kind, c.Reference())), context.RequestAborted);
            if (existing is null)
            {
                missingComponents.Add(c);
            }
            else if (!c.SameBodyAs(existing))
            {
                return (null, ComponentConflict(c, "exists in this catalog with another body"));
            }
        }

        if (missingComponents.Count > 0 && principal.Role is not (AdminRole.Approver or AdminRole.Admin))
        {
            var names = string.Join(", ", missingComponents.Select(c => c.Reference().ToString()));
            return (null, Results.Problem(title: "Forbidden",
                detail: $"The pack uses catalog component(s) {names}, not in this catalog; publishing catalog components is for approvers and admins: ask one to import the pack or to publish them first.",
                statusCode: StatusCodes.Status403Forbidden));
        }

        var publishedPrompts = new List<string>();
        var remapped = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in missingPrompts)
        {
            var grain = grains.GetGrain<IPromptGrain>(p.Name);
            PromptPublishResult result;
            try
            {
                // Safe to retry: publishing the text of the latest version again returns that version.
                var publication = new PromptPublication(p.Text, principal.Name, p.Description ?? "", null, principal.MayPublishToAnyPrompt());
                result = await cluster.RunAsync(_ => new ValueTask<PromptPublishResult>(grain.PublishAsync(publication)), context.RequestAborted);
            }
            catch (ArgumentException ex)
            {
                return (null, AdminJson.Invalid($"pack.prompts[{pack.Prompts.ToList().IndexOf(p)}]", ex.Message));
            }

            if (result.Outcome == PromptPublishOutcome.NotOwner)
            {
                return (null, AdminAccess.NotPromptOwner(principal, p.Name, result.Owner, result.Version.Reference));
            }

            if (result.Outcome == PromptPublishOutcome.Published)
            {
                publishedPrompts.Add(result.Version.Reference);
                await context.AuditAsync(grains, "prompt.published", $"prompt:{result.Version.Reference}",
                    $"sha256 {result.Version.ContentHash}: recreated from pack {pack.Source.AppId}@{pack.Source.Version} ({p.Reference()})");
            }

            if (result.Version.Version != p.Version)
            {
                remapped[p.Reference()] = result.Version.Reference;
            }
        }

        var publishedComponents = new List<string>();
        foreach (var c in missingComponents)
        {
            try
            {
                await cluster.RunAsync(_ => new ValueTask<CatalogEntry>(catalog.PublishAsync(c.ToEntry(Now(context), principal.Name))), context.RequestAborted);
            }
            catch (InvalidOperationException ex)
            {
                return (null, ComponentConflict(c, ex.Message));
            }
            catch (ArgumentException ex)
            {
                return (null, AdminJson.Invalid($"pack.components[{pack.Components.ToList().IndexOf(c)}]", ex.Message));
            }

            publishedComponents.Add(c.Reference().ToString());
            await context.AuditAsync(grains, "catalog.published", $"catalog:{c.Kind.ToString().ToLowerInvariant()}/{c.Reference()}",
                $"from pack {pack.Source.AppId}@{pack.Source.Version} ({pack.Source.Digest})");
        }

        var pins = (manifest.Prompts ?? []).Select(pin =>
            remapped.TryGetValue(pin.ToString(), out var moved) && PromptNames.TryParseReference(moved, out var n, out var v) ? new PromptPin(n, v) : pin).ToList();
        return (new Published(manifest with { Prompts = pins }, publishedPrompts, publishedComponents, remapped), null);
    }

    private static IResult ComponentConflict(PackComponent c, string why) => TypedResults.Problem(
        title: "Component differs",
        detail: $"Catalog {c.Kind.ToString().ToLowerInvariant()} {c.Reference()} {why}: publish the pack's version under a new version number, or import a pack that uses the existing one.",
        statusCode: StatusCodes.Status409Conflict,
        extensions: new Dictionary<string, object?>(StringComparer.Ordinal) { ["component"] = c.Reference().ToString() });

    private static PackResultView Result(string appId, AppVersionInfo version, AppPack pack, Published published) => new(
        appId,
        version.Version,
        version.State,
        version.Manifest.Owner,
        LineageView.Of(appId, version.Version, version.Manifest.Lineage),
        pack.Source.Digest,
        published.Prompts,
        published.Components,
        published.Remapped);

    /// <summary>The version named by <c>?version=N</c>, else the published one, else the newest.</summary>
    private static (AppVersionInfo? Version, IResult? Error) SelectVersion(string appId, AppInfo info, HttpContext context)
    {
        var text = context.Request.Query["version"].ToString();
        if (text.Length == 0)
        {
            return Default(info) is { } found ? (found, null) : (null, AdminEndpoints.AppNotFound(appId));
        }

        if (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            return (null, AdminJson.Invalid("version", $"Must be a version number (1 or more); got '{text}'."));
        }

        return info.Versions?.FirstOrDefault(v => v.Version == number) is { } version
            ? (version, null)
            : (null, TypedResults.Problem(title: "Version not found", detail: $"App '{appId}' has no version {number}.", statusCode: StatusCodes.Status404NotFound));
    }

    private static AppVersionInfo? Default(AppInfo info) =>
        info.Versions?.FirstOrDefault(v => v.Version == info.Release?.PublishedVersion) ?? info.Versions?.MaxBy(v => v.Version);

    private static IResult Invalid(IReadOnlyList<(string Field, string Message)> errors) =>
        TypedResults.ValidationProblem(
            errors.GroupBy(e => e.Field, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Select(e => e.Message).ToArray(), StringComparer.Ordinal),
            title: "Invalid pack");

    private static DateTimeOffset Now(HttpContext context) => context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow();
}
