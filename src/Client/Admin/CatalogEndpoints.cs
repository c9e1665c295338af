using System.Globalization;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Client.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>Body of <c>POST /admin/catalog/prompts</c> and <c>POST /admin/catalog/chains</c>.</summary>
/// <param name="Name">Entry name: lower-case letters, digits and '-'.</param>
/// <param name="Version">Semantic version major.minor.patch.</param>
/// <param name="Owner">Team or person accountable for it; defaults to the publishing principal.</param>
/// <param name="Description">What it does.</param>
/// <param name="Tags">Search tags.</param>
/// <param name="Text">A prompt's text, with <c>{{placeholders}}</c>.</param>
/// <param name="Steps">A chain's steps.</param>
/// <param name="SafeUpgrade">A patch version marked safe: apps on an earlier patch of the same major.minor run it automatically.</param>
public sealed record PublishComponentBody(
    string? Name = null,
    string? Version = null,
    string? Owner = null,
    string? Description = null,
    IReadOnlyList<string?>? Tags = null,
    string? Text = null,
    IReadOnlyList<ChainStepBody?>? Steps = null,
    bool? SafeUpgrade = null);

/// <summary>One step of a chain in a publish body.</summary>
public sealed record ChainStepBody(string? Name = null, string? Prompt = null);

/// <summary>How many apps use an entry and how many calls they made in the window.</summary>
public sealed record UsageView(int Apps, long Calls);

/// <summary>A catalog entry version as the admin API shows it, with its usage.</summary>
public sealed record CatalogEntryView(
    CatalogKind Kind,
    string Name,
    string Version,
    CatalogRef Reference,
    string Owner,
    string Description,
    IReadOnlyList<string> Tags,
    bool Certified,
    bool SafeUpgrade,
    IReadOnlyList<ParameterSpec> Parameters,
    string? Text,
    IReadOnlyList<ChainStep>? Steps,
    DateTimeOffset PublishedAt,
    string PublishedBy,
    UsageView Usage)
{
    public static CatalogEntryView From(CatalogEntry e, UsageView usage) => new(
        e.Kind, e.Name, e.Version, e.Ref, e.Owner, e.Description, e.Tags, e.Certified, e.SafeUpgrade, e.Parameters,
        e.Kind == CatalogKind.Prompt ? e.Text : null, e.Kind == CatalogKind.Chain ? e.Steps : null, e.PublishedAt, e.PublishedBy, usage);
}

/// <summary>Every version of one entry, oldest first.</summary>
public sealed record CatalogEntryVersionsView(CatalogKind Kind, string Name, CatalogRef Latest, UsageView Usage, IReadOnlyList<CatalogEntryView> Versions);

/// <summary>One version, and what an app pinned to it runs (a later safe patch, or itself).</summary>
public sealed record CatalogEntryDetailView(CatalogEntryView Entry, CatalogRef ResolvesTo);

/// <summary>Answer of <c>GET /admin/apps/{appId}/upgrades</c>.</summary>
/// <param name="AppId">The app.</param>
/// <param name="Version">The version whose manifest was looked at: the newest (what an accepted upgrade starts from).</param>
/// <param name="References">Its catalog references.</param>
/// <param name="Automatic">Safe patches runs already use, without a new version.</param>
/// <param name="Proposals">Upgrades for the owner to accept (a new version).</param>
public sealed record AppUpgradesView(string AppId, int Version, IReadOnlyList<CatalogUse> References, IReadOnlyList<UpgradeProposal> Automatic, IReadOnlyList<UpgradeProposal> Proposals);

/// <summary>Body of <c>POST /admin/apps/{appId}/upgrades/accept</c>; <c>references</c> omitted accepts every upgrade offered.</summary>
public sealed record AcceptUpgradesBody(IReadOnlyList<string?>? References = null);

/// <summary>The draft version an accepted upgrade made.</summary>
public sealed record AcceptedUpgradesView(string AppId, int Version, VersionState State, int FromVersion, IReadOnlyList<AppliedUpgrade> Applied, AppManifest Manifest);

/// <summary>
/// The catalog under <c>/admin/catalog</c>: search and read entries with their usage, publish prompts and chains, usage
/// and reuse, retirement candidates; and per app, its upgrades and accepting them. Thin: the catalog grain and the
/// catalog usage grain decide; this class parses, names bad fields and audits changes.
/// </summary>
internal static class CatalogEndpoints
{
    private const int DefaultDays = 30;

    internal static void MapCatalogEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/catalog", SearchAsync)
            .WithName("SearchCatalog").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Templates, connectors, prompts and chains matching search (name, description, tag), kind and tag; the latest version of each unless allVersions, with usage {apps, calls} over the last days (default 30).")
            .Produces<CatalogEntryView[]>().ProducesValidationProblem();

        admin.MapGet("/catalog/usage", UsageAsync)
            .WithName("CatalogUsage").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Usage per template and component (apps and their calls over the last days, default 30) and the reuse rate: share of apps, and of their calls, built on the catalog.")
            .Produces<CatalogUsageReport>().ProducesValidationProblem();

        admin.MapGet("/catalog/retirement", RetirementAsync)
            .WithName("CatalogRetirement").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Low-value apps: little use and high cost over the last days (Catalog:Retirement; maxCallsPerDay and minCostUsd may be given per request), with the figures that made them candidates.")
            .Produces<RetirementReport>().ProducesValidationProblem();

        admin.MapPost("/catalog/prompts", (HttpContext context, IGrainFactory grains, ClusterCalls cluster) => PublishAsync(CatalogKind.Prompt, context, grains, cluster))
            .WithName("PublishCatalogPrompt").AllowRoles(AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Publishes a shared prompt version (201); the same body again answers 200, a different body for an existing version 409.")
            .Accepts<PublishComponentBody>("application/json")
            .Produces<CatalogEntryView>(StatusCodes.Status201Created).Produces<CatalogEntryView>()
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/catalog/chains", (HttpContext context, IGrainFactory grains, ClusterCalls cluster) => PublishAsync(CatalogKind.Chain, context, grains, cluster))
            .WithName("PublishCatalogChain").AllowRoles(AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Publishes a shared chain version (201); the same body again answers 200, a different body for an existing version 409.")
            .Accepts<PublishComponentBody>("application/json")
            .Produces<CatalogEntryView>(StatusCodes.Status201Created).Produces<CatalogEntryView>()
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapGet("/catalog/{kind}/{name}", GetVersionsAsync)
            .WithName("GetCatalogEntry").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Every version of one entry, with usage per version.")
            .Produces<CatalogEntryVersionsView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/catalog/{kind}/{name}/{version}", GetVersionAsync)
            .WithName("GetCatalogEntryVersion").AllowRoles(AdminAccess.Everyone)
            .WithSummary("One version, and the version an app pinned to it runs (the newest safe patch of its major.minor).")
            .Produces<CatalogEntryDetailView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/apps/{appId}/upgrades", UpgradesAsync)
            .WithName("AppUpgrades").AllowRoles(AdminAccess.Everyone)
            .WithSummary("The newest version's template, components and connectors: safe patches applied automatically, and upgrades proposed to the owner.")
            .Produces<AppUpgradesView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPost("/apps/{appId}/upgrades/accept", AcceptUpgradesAsync)
            .WithName("AcceptAppUpgrades").AllowRoles(AdminRole.Author, AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Adds a draft version: the newest version's manifest with the chosen references (every offered upgrade when references is omitted) moved. It then goes through the lifecycle.")
            .Accepts<AcceptUpgradesBody>("application/json")
            .Produces<AcceptedUpgradesView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    internal static async Task<IResult> SearchAsync(
        [FromQuery] string? search,
        [FromQuery] string? kind,
        [FromQuery] string? tag,
        [FromQuery] string? allVersions,
        [FromQuery] string? days,
        IGrainFactory grains,
        ClusterCalls cluster,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        CatalogKind? parsedKind = null;
        if (!string.IsNullOrWhiteSpace(kind))
        {
            if (TryParseKind(kind, out var k))
            {
                parsedKind = k;
            }
            else
            {
                errors["kind"] = [KindMessage(kind)];
            }
        }

        var all = false;
        if (!string.IsNullOrWhiteSpace(allVersions) && !bool.TryParse(allVersions.Trim(), out all))
        {
            errors["allVersions"] = [$"Must be true or false; got '{allVersions}'."];
        }

        if (search?.Length > 200 || tag?.Length > 200)
        {
            errors[search?.Length > 200 ? "search" : "tag"] = ["At most 200 characters."];
        }

        var window = ParseDays(days, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var catalog = grains.GetGrain<ICatalogGrain>("default");
        var query = new CatalogQuery(string.IsNullOrWhiteSpace(search) ? null : search.Trim(), parsedKind, string.IsNullOrWhiteSpace(tag) ? null : tag.Trim(), all);
        var entriesTask = cluster.RunAsync(_ => new ValueTask<IReadOnlyList<CatalogEntry>>(catalog.SearchAsync(query)), cancellationToken);
        var usage = await UsageReportAsync(grains, cluster, time, window, cancellationToken);
        var entries = await entriesTask;

        // The latest version of a name shows the usage of every version of it; with allVersions each version shows its own.
        return TypedResults.Ok(entries.Select(e => CatalogEntryView.From(e, all ? ByVersion(usage, e) : ByName(usage, e.Kind, e.Name))).ToArray());
    }

    internal static async Task<IResult> GetVersionsAsync(string kind, string name, [FromQuery] string? days, IGrainFactory grains, ClusterCalls cluster, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var parsed = ParseKindAndName(kind, name, errors);
        var window = ParseDays(days, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var catalog = grains.GetGrain<ICatalogGrain>("default");
        var versions = (await cluster.RunAsync(
                _ => new ValueTask<IReadOnlyList<CatalogEntry>>(catalog.SearchAsync(new CatalogQuery(null, parsed, null, AllVersions: true))), cancellationToken))
            .Where(e => e.Name == name)
            .ToList();
        if (versions.Count == 0)
        {
            return EntryNotFound($"No {Singular(parsed)} is named '{name}'.");
        }

        var usage = await UsageReportAsync(grains, cluster, time, window, cancellationToken);
        return TypedResults.Ok(new CatalogEntryVersionsView(
            parsed, name, versions[^1].Ref, ByName(usage, parsed, name), versions.Select(e => CatalogEntryView.From(e, ByVersion(usage, e))).ToArray()));
    }

    internal static async Task<IResult> GetVersionAsync(string kind, string name, string version, [FromQuery] string? days, IGrainFactory grains, ClusterCalls cluster, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var parsed = ParseKindAndName(kind, name, errors);
        if (!CatalogRef.TryParse($"{(errors.ContainsKey("name") ? "x" : name)}@{version}", out var reference))
        {
            errors["version"] = [$"Must be a semantic version major.minor.patch, e.g. 1.0.0; got '{version}'."];
        }

        var window = ParseDays(days, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var catalog = grains.GetGrain<ICatalogGrain>("default");
        var entry = await cluster.RunAsync(_ => new ValueTask<CatalogEntry?>(catalog.GetAsync(parsed, reference!)), cancellationToken);
        if (entry is null)
        {
            return EntryNotFound($"The catalog has no {Singular(parsed)} {reference}.");
        }

        var resolved = await cluster.RunAsync(_ => new ValueTask<CatalogEntry?>(catalog.ResolveAsync(parsed, reference!)), cancellationToken);
        var usage = await UsageReportAsync(grains, cluster, time, window, cancellationToken);
        return TypedResults.Ok(new CatalogEntryDetailView(CatalogEntryView.From(entry, ByVersion(usage, entry)), resolved?.Ref ?? entry.Ref));
    }

    internal static async Task<IResult> PublishAsync(CatalogKind kind, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var read = await AdminJson.ReadAsync<PublishComponentBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var body = read.Value!;
        var principal = context.AdminPrincipal();
        var errors = new AdminEndpoints.Errors();
        if (kind == CatalogKind.Prompt && body.Steps is not null)
        {
            errors.Add("steps", "A prompt has text, not steps; publish a chain at POST /admin/catalog/chains.");
        }

        if (kind == CatalogKind.Chain && body.Text is not null)
        {
            errors.Add("text", "A chain has steps, not text; publish a prompt at POST /admin/catalog/prompts.");
        }

        var steps = (body.Steps ?? []).Select(s => new ChainStep(s?.Name?.Trim() ?? "", s?.Prompt ?? "")).ToArray();
        var entry = new CatalogEntry(
            kind,
            body.Name?.Trim() ?? "",
            body.Version?.Trim() ?? "",
            string.IsNullOrWhiteSpace(body.Owner) ? principal.Name : body.Owner.Trim(),
            body.Description?.Trim() ?? "",
            (body.Tags ?? []).Select(t => t?.Trim().ToLowerInvariant() ?? "").ToArray(),
            Certified: false,
            body.SafeUpgrade ?? false,
            [],
            kind == CatalogKind.Prompt ? body.Text ?? "" : "",
            kind == CatalogKind.Chain ? steps : [],
            context.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow(),
            principal.Name);
        foreach (var (field, message) in CatalogComponents.Validate(entry))
        {
            errors.Add(field, message);
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        entry = entry with { Parameters = CatalogComponents.ParametersOf(entry.Text, entry.Steps) };
        var catalog = grains.GetGrain<ICatalogGrain>("default");
        var before = await cluster.RunAsync(_ => new ValueTask<CatalogEntry?>(catalog.GetAsync(kind, entry.Ref)), context.RequestAborted);
        CatalogEntry published;
        try
        {
            // Safe to retry: an identical publish answers the version already published.
            published = await cluster.RunAsync(_ => new ValueTask<CatalogEntry>(catalog.PublishAsync(entry)), context.RequestAborted);
        }
        catch (InvalidOperationException ex)
        {
            return TypedResults.Problem(title: "Already published", detail: ex.Message, statusCode: StatusCodes.Status409Conflict);
        }
        catch (ArgumentException ex)
        {
            return AdminJson.Invalid(ex.ParamName ?? "body", ex.Message);
        }

        var view = CatalogEntryView.From(published, new UsageView(0, 0));
        var location = $"/admin/catalog/{Singular(kind)}/{published.Name}/{published.Version}";

        // Published before this call (by us on a lost reply, or by anyone with the same body): nothing changed now.
        if (before is not null || published.PublishedBy != principal.Name || published.PublishedAt != entry.PublishedAt)
        {
            return TypedResults.Ok(view);
        }

        var placeholders = published.Parameters.Count == 0 ? "no placeholders" : "placeholders " + string.Join(", ", published.Parameters.Select(p => p.Name));
        await context.AuditAsync(grains, "catalog.published", $"catalog:{Singular(kind)}:{published.Ref}",
            $"owner {published.Owner}{(published.SafeUpgrade ? ", marked a safe upgrade" : "")}; {placeholders}");
        return TypedResults.Created(location, view);
    }

    internal static async Task<IResult> UsageAsync([FromQuery] string? days, IGrainFactory grains, ClusterCalls cluster, TimeProvider time, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var window = ParseDays(days, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        return TypedResults.Ok(await UsageReportAsync(grains, cluster, time, window, cancellationToken));
    }

    internal static async Task<IResult> RetirementAsync(
        [FromQuery] string? days,
        [FromQuery] string? maxCallsPerDay,
        [FromQuery] string? minCostUsd,
        IGrainFactory grains,
        ClusterCalls cluster,
        CancellationToken cancellationToken)
    {
        var usage = grains.GetGrain<ICatalogUsageGrain>(0);
        var defaults = await cluster.RunAsync(_ => new ValueTask<RetirementCriteria>(usage.DefaultRetirementCriteriaAsync()), cancellationToken);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var window = string.IsNullOrWhiteSpace(days) ? defaults.Days : ParseDays(days, errors);
        var maxCalls = defaults.MaxCallsPerDay;
        if (!string.IsNullOrWhiteSpace(maxCallsPerDay)
            && (!double.TryParse(maxCallsPerDay.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out maxCalls) || !double.IsFinite(maxCalls) || maxCalls < 0))
        {
            errors["maxCallsPerDay"] = [$"Must be a number, 0 or more; got '{maxCallsPerDay}'."];
        }

        var minCost = defaults.MinCostUsd;
        if (!string.IsNullOrWhiteSpace(minCostUsd)
            && (!decimal.TryParse(minCostUsd.Trim(), NumberStyles.Number, CultureInfo.InvariantCulture, out minCost) || minCost < 0))
        {
            errors["minCostUsd"] = [$"Must be a number, 0 or more; got '{minCostUsd}'."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var criteria = new RetirementCriteria(window, maxCalls, minCost);
        return TypedResults.Ok(await cluster.RunAsync(_ => new ValueTask<RetirementReport>(usage.RetirementAsync(criteria)), cancellationToken));
    }

    internal static async Task<IResult> UpgradesAsync(string appId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var (_, info, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var (version, uses, proposals) = await ProposalsAsync(info!, grains, cluster, cancellationToken);
        return TypedResults.Ok(new AppUpgradesView(
            appId, version.Version, uses, proposals.Where(p => p.Automatic).ToArray(), proposals.Where(p => !p.Automatic).ToArray()));
    }

    internal static async Task<IResult> AcceptUpgradesAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        // Ownership before the body: another author learns nothing about what would be accepted.
        var (app, info, error) = await AdminEndpoints.LoadOwnedAppAsync(appId, context, grains, cluster);
        if (error is not null)
        {
            return error;
        }

        var read = await AdminJson.ReadAsync<AcceptUpgradesBody>(context, allowEmpty: true);
        if (read.Error is not null)
        {
            return read.Error;
        }

        if (info!.Lifecycle == AppLifecycle.Retired)
        {
            return TypedResults.Problem(title: "App retired", detail: $"app '{appId}' is retired; it takes no new versions", statusCode: StatusCodes.Status409Conflict);
        }

        var (newest, _, proposals) = await ProposalsAsync(info, grains, cluster, context.RequestAborted);
        var (chosen, problems) = CatalogUpgrades.Choose(proposals, read.Value?.References);
        if (problems.Count > 0)
        {
            var errors = new AdminEndpoints.Errors();
            foreach (var (field, message) in problems)
            {
                errors.Add(field, message);
            }

            return errors.ToResult();
        }

        if (chosen.Count == 0)
        {
            return TypedResults.Problem(
                title: "Nothing to upgrade",
                detail: $"version {newest.Version} of app '{appId}' is on the newest catalog versions it references; no upgrade is offered",
                statusCode: StatusCodes.Status409Conflict);
        }

        var manifest = CatalogUpgrades.Apply(newest.Manifest, chosen);

        // A new template version may take other parameters: the app's must still fit, or the owner edits them in a version of their own.
        if (chosen.FirstOrDefault(u => u.Kind == CatalogKind.Template) is { } templateUpgrade)
        {
            var catalog = grains.GetGrain<ICatalogGrain>("default");
            var template = await cluster.RunAsync(_ => new ValueTask<CatalogEntry?>(catalog.GetAsync(CatalogKind.Template, templateUpgrade.To)), context.RequestAborted);
            IReadOnlyList<(string Field, string Message)> misfits = template is null ? [] : TemplateParameters.Validate(template.Parameters, manifest.Parameters, manifest.AllowedTiers);
            if (misfits.Count > 0)
            {
                return TypedResults.Problem(
                    title: "Parameters do not fit the new template",
                    detail: $"{templateUpgrade.To} does not take the app's parameters: {string.Join(" ", misfits.Select(m => $"{m.Field}: {m.Message}"))} "
                        + "Add a version with parameters that fit (POST /admin/apps/{appId}/versions).",
                    statusCode: StatusCodes.Status409Conflict);
            }
        }

        var principal = context.AdminPrincipal();
        var (added, refused) = await LifecycleEndpoints.AddDraftVersionAsync(appId, app!, manifest, principal.Name, null);
        if (refused is not null)
        {
            return refused;
        }

        await context.AuditAsync(grains, "app.upgrades.accepted", $"app:{appId}",
            $"version {added!.Version} (draft, from version {newest.Version}): {string.Join(", ", chosen.Select(u => $"{u.From} → {u.To}"))}");
        return TypedResults.Created(
            $"/admin/apps/{appId}/versions/{added.Version}",
            new AcceptedUpgradesView(appId, added.Version, added.State, newest.Version, chosen, added.Manifest));
    }

    /// <summary>The newest version, its catalog references and the upgrades the catalog offers for them.</summary>
    private static async Task<(AppVersionInfo Newest, IReadOnlyList<CatalogUse> Uses, IReadOnlyList<UpgradeProposal> Proposals)> ProposalsAsync(
        AppInfo info, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var newest = (info.Versions ?? []).MaxBy(v => v.Version)
            ?? new AppVersionInfo(1, info.Manifest, VersionState.Published, info.Manifest.Owner, info.CreatedAt, [], null, [], false);
        var catalog = grains.GetGrain<ICatalogGrain>("default");
        var entries = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<CatalogEntry>>(catalog.SearchAsync(new CatalogQuery())), cancellationToken);
        var kinds = entries.GroupBy(e => e.Name, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First().Kind, StringComparer.Ordinal);
        var uses = CatalogUsage.UsesOf(newest.Manifest, kinds);
        var proposals = uses.Count == 0
            ? []
            : await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<UpgradeProposal>>(catalog.UpgradesAsync(uses)), cancellationToken);
        return (newest, uses, proposals);
    }

    private static Task<CatalogUsageReport> UsageReportAsync(IGrainFactory grains, ClusterCalls cluster, TimeProvider time, int days, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var usage = grains.GetGrain<ICatalogUsageGrain>(0);
        return cluster.RunAsync(_ => new ValueTask<CatalogUsageReport>(usage.UsageAsync(now.AddDays(-days), now)), cancellationToken).AsTask();
    }

    private static UsageView ByName(CatalogUsageReport usage, CatalogKind kind, string name) =>
        usage.ByName.FirstOrDefault(u => u.Kind == kind && u.Name == name) is { } u ? new UsageView(u.Apps, u.Calls) : new UsageView(0, 0);

    private static UsageView ByVersion(CatalogUsageReport usage, CatalogEntry entry) =>
        usage.ByVersion.FirstOrDefault(u => u.Kind == entry.Kind && u.Name == entry.Name && u.Version == entry.Version) is { } u
            ? new UsageView(u.Apps, u.Calls)
            : new UsageView(0, 0);

    /// <summary>Days of the window, 1 to 366 (default 30); a bad value is recorded under <c>days</c>.</summary>
    private static int ParseDays(string? days, Dictionary<string, string[]> errors)
    {
        if (string.IsNullOrWhiteSpace(days))
        {
            return DefaultDays;
        }

        if (int.TryParse(days.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value is >= 1 and <= RetirementCriteriaRules.MaxDays)
        {
            return value;
        }

        errors["days"] = [$"Must be a whole number of days from 1 to {RetirementCriteriaRules.MaxDays}; got '{days}'."];
        return DefaultDays;
    }

    private static CatalogKind ParseKindAndName(string kind, string name, Dictionary<string, string[]> errors)
    {
        if (!TryParseKind(kind, out var parsed))
        {
            errors["kind"] = [KindMessage(kind)];
        }

        if (!CatalogRef.TryParse($"{name}@1.0.0", out _))
        {
            errors["name"] = ["Must be 1–64 lower-case letters, digits and '-', starting and ending with a letter or digit."];
        }

        return parsed;
    }

    /// <summary>A kind by its name, singular or plural (<c>prompt</c>, <c>prompts</c>).</summary>
    private static bool TryParseKind(string value, out CatalogKind kind)
    {
        var text = value.Trim();
        if (AdminQuery.TryParseName(text, out kind))
        {
            return true;
        }

        return text.EndsWith('s') && AdminQuery.TryParseName(text[..^1], out kind);
    }

    private static string KindMessage(string value) => $"Must be 'template', 'connector', 'prompt' or 'chain'; got '{value}'.";

    private static string Singular(CatalogKind kind) => AdminQuery.NameOf(kind);

    private static IResult EntryNotFound(string detail) =>
        TypedResults.Problem(title: "Catalog entry not found", detail: detail, statusCode: StatusCodes.Status404NotFound);
}
