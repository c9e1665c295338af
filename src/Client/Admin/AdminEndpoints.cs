using System.Text.RegularExpressions;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Client.OpenAI;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// The admin API under <c>/admin</c>: apps, keys, quotas, lifecycle and budgets. Thin: every rule lives
/// in the grains; this class validates input, names the bad field in problem details, and fans out reads.
/// </summary>
public static partial class AdminEndpoints
{
    [GeneratedRegex("^[A-Za-z0-9:._-]{1,100}$")]
    internal static partial Regex BudgetIdPattern();

    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin")
            .WithTags("Admin")
            .AddEndpointFilter(AdminAccess.AuthorizeAsync)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        admin.MapPost("/apps", CreateAppAsync)
            .WithName("CreateApp").AllowRoles(AdminRole.Author, AdminRole.Admin).WithSummary("Creates an app from its manifest (JSON or YAML) and, when given, configures its budget.")
            .Accepts<CreateAppBody>("application/json", [.. ManifestYaml.ContentTypes])
            .Produces<AppView>(StatusCodes.Status201Created)
            .Produces<AppView>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);
        admin.MapLifecycleEndpoints();

        admin.MapGet("/apps", ListAppsAsync)
            .WithName("ListApps").AllowRoles(AdminAccess.Everyone).WithSummary("Lists every app with its budget's spend.")
            .Produces<AppView[]>();

        admin.MapGet("/apps/{appId}", GetAppAsync)
            .WithName("GetApp").AllowRoles(AdminAccess.Everyone).Produces<AppView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPost("/apps/{appId}/keys", IssueKeyAsync)
            .WithName("IssueKey").AllowRoles(AdminRole.Author, AdminRole.Admin).WithSummary("Issues an app key; the key is shown once.")
            .Accepts<IssueKeyBody>("application/json")
            .Produces<IssuedKeyView>(StatusCodes.Status201Created).ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapDelete("/apps/{appId}/keys/{keyId}", RevokeKeyAsync)
            .WithName("RevokeKey").AllowRoles(AdminRole.Author, AdminRole.Admin).Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPut("/apps/{appId}/quotas", SetQuotasAsync)
            .WithName("SetQuotas").AllowRoles(AdminRole.Admin).Accepts<QuotasBody>("application/json")
            .Produces<AppView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPost("/apps/{appId}/suspend", (string appId, IGrainFactory grains, HttpContext context) =>
                SetLifecycleAsync(appId, AppLifecycle.Suspended, grains, context))
            .WithName("SuspendApp").AllowRoles(AdminRole.Admin).Produces<AppView>().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPost("/apps/{appId}/resume", (string appId, IGrainFactory grains, HttpContext context) =>
                SetLifecycleAsync(appId, AppLifecycle.Active, grains, context))
            .WithName("ResumeApp").AllowRoles(AdminRole.Admin).Produces<AppView>().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapBudgetEndpoints();
        admin.MapPolicyEndpoints();
        admin.MapApprovalEndpoints();
        admin.MapPromptEndpoints();
        admin.MapAuditEndpoints();
        admin.MapCostEndpoints();
        admin.MapTraceEndpoints();
        admin.MapSamplingEndpoints();
        admin.MapSavingsEndpoints();
        admin.MapWorkflowEndpoints();
        admin.MapConsoleWorkflowEndpoints();
        admin.MapCatalogEndpoints();
        admin.MapPackEndpoints();
        admin.MapManifestEndpoints();
        admin.MapConsoleTraceEndpoints();
        admin.MapClusterEndpoints();

        return endpoints;
    }

    internal static async Task<IResult> CreateAppAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var read = await ManifestDocument.ReadAsync(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var principal = context.AdminPrincipal();
        var checkedBody = await CheckCreateAsync(read.Value!, context, grains, cluster);
        if (checkedBody.Error is not null)
        {
            return checkedBody.Error;
        }

        var (appId, manifest, budget, publish) = (checkedBody.AppId, checkedBody.Manifest!, checkedBody.Budget, checkedBody.Publish);

        if (!principal.MayActOnApp(manifest!.Owner))
        {
            return Results.Problem(
                title: "Forbidden",
                detail: $"'{principal.Name}' ({principal.RoleName}) may create apps only with themselves as owner, not '{manifest.Owner}'.",
                statusCode: StatusCodes.Status403Forbidden);
        }

        if (publish && principal.Role != AdminRole.Admin)
        {
            return Results.Problem(
                title: "Forbidden",
                detail: $"Only admins may create an app already published; '{principal.Name}' ({principal.RoleName}) creates a draft and submits it.",
                statusCode: StatusCodes.Status403Forbidden);
        }

        // Changing a budget is for admins (PUT /admin/budgets is admin-only): an author may give a budget only to one
        // nobody has configured yet, such as their new app's own, not raise a team budget that other apps share.
        if (budget is not null && principal.Role != AdminRole.Admin)
        {
            var budgetId = AppManifestRules.EffectiveBudgetId(appId, manifest);
            var current = await cluster.RunAsync(_ => new ValueTask<BudgetSnapshot>(grains.GetGrain<IBudgetGrain>(budgetId).GetAsync()), context.RequestAborted);
            if (current.Configured && (current.LimitUsd != budget.LimitUsd || current.Period != budget.Period || BudgetEndpoints.ChangesAlerting(current, budget)))
            {
                return Results.Problem(
                    title: "Forbidden",
                    detail: $"'{principal.Name}' ({principal.RoleName}) may not change budget '{budgetId}', which is already configured; leave 'budget' out, or ask an admin (PUT /admin/budgets/{budgetId}).",
                    statusCode: StatusCodes.Status403Forbidden);
            }
        }

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var existing = await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), context.RequestAborted);
        if (existing is not null && !AppManifestRules.SameManifest(existing.Manifest, manifest))
        {
            return Conflict(appId);
        }

        AppInfo created;
        try
        {
            created = existing ?? await cluster.RunAsync(
                _ => new ValueTask<AppInfo>(publish ? app.CreateAsync(manifest) : app.CreateDraftAsync(manifest, principal.Name)),
                context.RequestAborted);
        }
        catch (InvalidOperationException)
        {
            // Another admin created the app with a different manifest between our read and our create.
            return Conflict(appId);
        }
        catch (ArgumentException ex)
        {
            return AdminJson.Invalid("manifest", ex.Message);
        }

        var registry = grains.GetGrain<IAppRegistryGrain>(0);
        await cluster.RunAsync(async _ => { await registry.RegisterAsync(appId); return true; }, context.RequestAborted);

        var budgetGrain = grains.GetGrain<IBudgetGrain>(created.EffectiveBudgetId);
        var snapshot = budget is null
            ? await cluster.RunAsync(_ => new ValueTask<BudgetSnapshot>(budgetGrain.GetAsync()), context.RequestAborted)
            : await cluster.RunAsync(_ => new ValueTask<BudgetSnapshot>(budgetGrain.ConfigureAsync(budget)), context.RequestAborted);

        if (budget is not null)
        {
            // A budget change like PUT /admin/budgets/{id}, so it is audited the same way, also on a repeated create.
            await context.AuditAsync(grains, "budget.configured", $"budget:{created.EffectiveBudgetId}", BudgetReason(budget));
        }

        var view = AppView.From(created, snapshot);
        if (existing is not null)
        {
            return TypedResults.Ok(view);
        }

        await context.AuditAsync(grains, "app.created", $"app:{appId}",
            $"version 1 {(publish ? "published (admin bootstrap)" : "draft")}, owner {manifest.Owner}, audience {manifest.Audience.ToString().ToLowerInvariant()}");
        return TypedResults.Created($"/admin/apps/{appId}", view);
    }

    /// <summary>What a create body describes, checked exactly as create checks it (also for POST /admin/manifests/validate).</summary>
    internal sealed record CheckedCreate(string AppId, AppManifest? Manifest, BudgetSettings? Budget, bool Publish, IResult? Error);

    /// <summary>
    /// Checks a create body: its fields, the manifest's rules (<see cref="AppManifestRules"/>) and its catalog references
    /// and caps (<see cref="ManifestValidation"/>). Nothing is changed; ownership and roles are the caller's to check.
    /// </summary>
    internal static async Task<CheckedCreate> CheckCreateAsync(CreateAppBody body, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var principal = context.AdminPrincipal();
        var errors = new Errors();

        if (!ApiKeys.IsValidAppId(body.AppId))
        {
            errors.Add("appId", "Must be 3–40 characters of lower-case letters, digits and '-', not starting or ending with '-'.");
        }

        var publish = false;
        switch (body.InitialState?.Trim().ToLowerInvariant())
        {
            case null or "draft":
                break;
            case "published":
                publish = true;
                break;
            default:
                errors.Add("initialState", "Must be 'draft' (the default) or 'published' (admins only).");
                break;
        }

        var manifest = BuildManifest(body, basis: null, principal, errors);
        BudgetSettings? budget = null;
        if (body.Budget is not null)
        {
            budget = ValidateBudget(body.Budget, "budget.", errors);
        }

        if (errors.Any)
        {
            return new(body.AppId ?? "", null, null, publish, errors.ToResult());
        }

        var appId = body.AppId!;

        // The grain applies the same rules; checking here names the field instead of failing the grain call.
        foreach (var (field, message) in AppManifestRules.Validate(appId, manifest))
        {
            errors.Add(field, message);
        }

        if (!errors.Any)
        {
            await ManifestValidation.CheckAsync(manifest!, context, grains, cluster, errors);
        }

        return errors.Any ? new(appId, null, null, publish, errors.ToResult()) : new(appId, manifest, budget, publish, null);
    }

    /// <summary>
    /// The manifest a create or new-version body describes; fields the body omits come from <paramref name="basis"/>
    /// (the app's current manifest for a new version) or the defaults. Errors name the body's fields.
    /// </summary>
    internal static AppManifest? BuildManifest(CreateAppBody body, AppManifest? basis, AdminPrincipal principal, Errors errors)
    {
        var name = body.Name ?? basis?.Name;
        errors.RequireText("name", name);
        var owner = body.Owner ?? basis?.Owner ?? principal.Name;
        errors.RequireText("owner", owner);
        var team = body.Team ?? basis?.Team;
        errors.RequireText("team", team);
        var audience = basis?.Audience ?? Audience.Internal;
        if (body.Audience is not null && !AdminQuery.TryParseName(body.Audience, out audience))
        {
            errors.Add("audience", "Must be 'internal' or 'external'.");
        }

        var dataClasses = body.DataClasses is null && basis is not null ? [.. basis.DataClasses] : CleanList(body.DataClasses, "dataClasses", errors);
        var allowedTiers = body.AllowedTiers is null && basis is not null ? [.. basis.AllowedTiers] : CleanList(body.AllowedTiers, "allowedTiers", errors);
        if (allowedTiers.Count == 0)
        {
            errors.Add("allowedTiers", "At least one tier is required, e.g. [\"local\", \"standard\"].");
        }

        var defaultTier = !string.IsNullOrWhiteSpace(body.DefaultTier) ? body.DefaultTier.Trim()
            : basis is not null && allowedTiers.Contains(basis.DefaultTier, StringComparer.Ordinal) ? basis.DefaultTier
            : allowedTiers.FirstOrDefault() ?? "";
        if (allowedTiers.Count > 0 && !allowedTiers.Contains(defaultTier, StringComparer.Ordinal))
        {
            errors.Add("defaultTier", $"'{defaultTier}' is not one of allowedTiers.");
        }

        var quotas = body.Quotas is null ? basis?.Quotas ?? AppQuotas.Default : ValidateQuotas(body.Quotas, "quotas.", errors, basis?.Quotas ?? AppQuotas.Default);
        var budgetId = body.BudgetId?.Trim() ?? basis?.BudgetId ?? "";
        if (budgetId.Length > 0 && !BudgetIdPattern().IsMatch(budgetId))
        {
            errors.Add("budgetId", "Must be 1–100 characters of letters, digits and ':', '.', '_', '-'.");
        }

        var promptVersion = !string.IsNullOrWhiteSpace(body.PromptVersion) ? body.PromptVersion.Trim() : basis?.PromptVersion ?? "v1";

        var prompts = body.Prompts is null ? basis?.Prompts ?? [] : [.. body.Prompts.Select((p, i) => Pin(p, i, errors))];
        var tests = body.Tests is null ? basis?.Tests ?? [] : [.. body.Tests.Select((t, i) => Test(t, i, errors))];
        var connectors = body.Connectors is null
            ? basis?.Connectors ?? []
            : [.. body.Connectors.Select((c, i) => new ConnectorRef(
                c?.Name?.Trim() ?? "",
                c?.Host?.Trim() ?? "",
                CleanList(c?.DataClasses, $"connectors[{i}].dataClasses", errors),
                CatalogRefOf(c?.Use, $"connectors[{i}].use", errors),
                ManifestDocument.ValuesOf(c?.Settings, $"connectors[{i}].settings", errors)))];
        var egress = body.EgressAllowlist is null ? basis?.EgressAllowlist ?? [] : [.. body.EgressAllowlist.Select(e => e?.Trim() ?? "")];
        var expected = body.ExpectedCallsPerMonth ?? basis?.ExpectedCallsPerMonth ?? 0;
        var sampleShare = body.PromptSampleShare ?? basis?.PromptSampleShare ?? 0;
        if (!AppManifestRules.IsValidPromptSampleShare(sampleShare))
        {
            errors.Add("promptSampleShare", "Must be a number from 0 (no prompt samples, the default) to 1 (every call is sampled, redacted).");
        }

        var savings = body.Savings is null ? basis?.Savings : SavingsOf(body.Savings, errors);

        var template = body.Template is null ? basis?.Template : CatalogRefOf(body.Template, "template", errors);
        var parameters = body.Parameters is null ? basis?.Parameters : ManifestDocument.ValuesOf(body.Parameters, "parameters", errors);
        var components = body.Components is null ? basis?.Components : [.. body.Components.Select((c, i) => CatalogRefOf(c, $"components[{i}]", errors)!)];
        var limits = body.Limits is null ? basis?.Limits : LimitsOf(body.Limits, template);

        // Lineage records where an app came from; only the platform writes it (pack import, fork, pack upgrade). A document
        // may carry the current one back (an exported manifest does), but not a different one.
        var lineage = basis?.Lineage;
        if (body.Lineage is not null && !SameLineage(body.Lineage, lineage))
        {
            errors.Add("lineage", "Set by the platform when an app is imported from a pack or forked; leave it out (or keep the app's current lineage).");
        }

        if (errors.Any)
        {
            return null;
        }

        return new AppManifest(
            name!.Trim(), owner!.Trim(), team!.Trim(), audience, dataClasses, allowedTiers, defaultTier, quotas!, budgetId, promptVersion,
            prompts, tests, connectors, egress, expected, sampleShare, savings, template, parameters, components, lineage, limits);
    }

    /// <summary>A <c>name@version</c> reference, or null (and an error naming <paramref name="field"/>) when it is not one.</summary>
    private static Catalog.CatalogRef? CatalogRefOf(string? text, string field, Errors errors)
    {
        if (text is null)
        {
            return null;
        }

        if (!Catalog.CatalogRef.TryParse(text, out var reference))
        {
            errors.Add(field, $"'{text}' is not a catalog reference ({Catalog.CatalogRef.Format}).");
        }

        return reference;
    }

    /// <summary>Limits the body gives; the ones it leaves out are the template's defaults.</summary>
    private static Catalog.RunLimits LimitsOf(LimitsBody body, Catalog.CatalogRef? template)
    {
        var defaults = Catalog.BuiltInCatalog.DefaultLimits(template?.Name ?? "");
        return new Catalog.RunLimits(body.MaxTokens ?? defaults.MaxTokens, body.MaxSteps ?? defaults.MaxSteps, body.MaxSeconds ?? defaults.MaxSeconds);
    }

    private static bool SameLineage(Catalog.AppLineage a, Catalog.AppLineage? b) =>
        b is not null && a.CanonicalAppId == b.CanonicalAppId && a.CanonicalVersion == b.CanonicalVersion
        && (a.Steps ?? []).SequenceEqual(b.Steps ?? []);

    private static Savings.SavingsSettings SavingsOf(SavingsBody body, Errors errors)
    {
        var sampling = body.Sampling;
        if (sampling is not null && (sampling.MinShare is null || sampling.MaxShare is null))
        {
            errors.Add(sampling.MinShare is null ? "savings.sampling.minShare" : "savings.sampling.maxShare", "Required when sampling is given: the bounds of the share of premium requests kept on premium, 0 to 1.");
        }

        var settings = new Savings.SavingsSettings(
            body.Routing ?? false,
            body.QualitySlo ?? 0.9,
            string.IsNullOrWhiteSpace(body.Task) ? null : Savings.QueryTypes.Parse(body.Task) ?? body.Task.Trim(),
            sampling is null ? null : new Savings.PremiumSampling(sampling.MinShare ?? 0, sampling.MaxShare ?? 1),
            body.NearDuplicate is { } near ? new Savings.NearDuplicateSettings(near.Enabled ?? true, near.Threshold) : null);
        foreach (var (field, message) in AppManifestRules.SavingsErrors(settings))
        {
            errors.Add(field, message);
        }

        return settings;
    }

    private static PromptPin Pin(PromptPinBody? body, int index, Errors errors)
    {
        if (body?.Version is null)
        {
            errors.Add($"prompts[{index}].version", "Required: the registry version to pin (1 or more).");
        }

        return new PromptPin(body?.Name?.Trim() ?? "", body?.Version ?? 0);
    }

    private static RegressionTestCase Test(RegressionTestBody? body, int index, Errors errors)
    {
        var assertions = (body?.Assertions ?? []).Select((a, j) =>
        {
            if (a?.Value is null)
            {
                errors.Add($"tests[{index}].assertions[{j}].value", "Required.");
            }

            return new RegressionAssertion(a?.Kind?.Trim() ?? "", a?.Value ?? "");
        }).ToList();
        return new RegressionTestCase(body?.Name?.Trim() ?? "", body?.Input ?? "", assertions, body?.Model?.Trim() ?? "");
    }

    internal static async Task<IResult> ListAppsAsync(IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var registry = grains.GetGrain<IAppRegistryGrain>(0);
        var ids = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<string>>(registry.ListAsync()), cancellationToken);
        var views = await Task.WhenAll(ids.Select(id => LoadViewAsync(grains, cluster, id, cancellationToken)));
        return TypedResults.Ok(views.Where(v => v is not null).OrderBy(v => v!.AppId, StringComparer.Ordinal).ToArray());
    }

    internal static async Task<IResult> GetAppAsync(string appId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            return InvalidAppId();
        }

        var view = await LoadViewAsync(grains, cluster, appId, cancellationToken);
        return view is null ? AppNotFound(appId) : TypedResults.Ok(view);
    }

    internal static async Task<IResult> IssueKeyAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        // Ownership first: another author learns nothing about what a valid body would be.
        var (app, _, error) = await LoadOwnedAppAsync(appId, context, grains, cluster);
        if (error is not null)
        {
            return error;
        }

        var read = await AdminJson.ReadAsync<IssueKeyBody>(context, allowEmpty: true);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var label = read.Value?.Label?.Trim() ?? "";
        if (label.Length > 100)
        {
            return AdminJson.Invalid("label", "At most 100 characters.");
        }

        // Not retried: a retry after a lost reply would issue a second key; the admin can simply ask again.
        var issued = await app!.IssueKeyAsync(label.Length == 0 ? "default" : label);
        await context.AuditAsync(grains, "key.issued", $"app:{appId}", $"key {issued.KeyId} labelled '{label}'");
        return TypedResults.Created($"/admin/apps/{appId}/keys/{issued.KeyId}", new IssuedKeyView(issued.KeyId, issued.ApiKey, issued.CreatedAt));
    }

    internal static async Task<IResult> RevokeKeyAsync(string appId, string keyId, HttpContext context, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var (app, info, error) = await LoadOwnedAppAsync(appId, context, grains, cluster);
        if (error is not null)
        {
            return error;
        }

        if (info!.Keys.FirstOrDefault(k => k.KeyId == keyId) is not { } key)
        {
            return TypedResults.Problem(title: "Key not found", detail: $"App '{appId}' has no key '{keyId}'.", statusCode: StatusCodes.Status404NotFound);
        }

        // Revoking is idempotent: revoking a revoked key again changes nothing, and is not audited again.
        await cluster.RunAsync(_ => new ValueTask<bool>(app!.RevokeKeyAsync(keyId)), cancellationToken);
        if (key.RevokedAt is null)
        {
            await context.AuditAsync(grains, "key.revoked", $"app:{appId}", $"key {keyId} labelled '{key.Label}'");
        }

        return TypedResults.NoContent();
    }

    internal static async Task<IResult> SetQuotasAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            return InvalidAppId();
        }

        var read = await AdminJson.ReadAsync<QuotasBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var errors = new Errors();
        var quotas = ValidateQuotas(read.Value!, "", errors, defaults: null);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var (app, _, error) = await LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var updated = await cluster.RunAsync(_ => new ValueTask<AppInfo>(app!.SetQuotasAsync(quotas!)), context.RequestAborted);
        await context.AuditAsync(grains, "app.quotas.set", $"app:{appId}", $"requestsPerMinute={quotas!.RequestsPerMinute}, tokensPerDay={quotas.TokensPerDay}");
        return TypedResults.Ok(await WithBudgetAsync(grains, cluster, updated, context.RequestAborted));
    }

    private static async Task<IResult> SetLifecycleAsync(string appId, AppLifecycle lifecycle, IGrainFactory grains, HttpContext context)
    {
        var cluster = context.RequestServices.GetRequiredService<ClusterCalls>();
        var (app, info, error) = await LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        if (info!.Lifecycle == AppLifecycle.Retired)
        {
            return LifecycleEndpoints.RetiredConflict(appId);
        }

        AppInfo updated;
        try
        {
            updated = await cluster.RunAsync(_ => new ValueTask<AppInfo>(app!.SetLifecycleAsync(lifecycle)), context.RequestAborted);
        }
        catch (InvalidOperationException ex)
        {
            // Retired between the load above and the change.
            return TypedResults.Problem(title: "Lifecycle change refused", detail: ex.Message, statusCode: StatusCodes.Status409Conflict);
        }

        await context.AuditAsync(grains, lifecycle == AppLifecycle.Suspended ? "app.suspended" : "app.resumed", $"app:{appId}", $"lifecycle set to {lifecycle.ToString().ToLowerInvariant()}");
        return TypedResults.Ok(await WithBudgetAsync(grains, cluster, updated, context.RequestAborted));
    }

    /// <summary>
    /// The app in the path, or the problem details to answer instead: 400 naming <c>appId</c> when it is malformed,
    /// 404 when no app has it. Every endpoint under <c>/admin/apps/{appId}</c> that needs the app starts here.
    /// </summary>
    internal static async Task<(IMicroAppGrain? App, AppInfo? Info, IResult? Error)> LoadAppAsync(
        string appId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            return (null, null, InvalidAppId());
        }

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var info = await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), cancellationToken);
        return info is null ? (null, null, AppNotFound(appId)) : (app, info, null);
    }

    /// <summary>
    /// <see cref="LoadAppAsync"/>, then 403 unless the caller may act on the app (authors only on their own): the start
    /// of every change an author may make to an app, before its body is read.
    /// </summary>
    internal static async Task<(IMicroAppGrain? App, AppInfo? Info, IResult? Error)> LoadOwnedAppAsync(
        string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var loaded = await LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (loaded.Error is null && context.AdminPrincipal() is var principal && !principal.MayActOnApp(loaded.Info!.Manifest.Owner))
        {
            return (null, null, AdminAccess.NotOwner(principal, appId, loaded.Info.Manifest.Owner));
        }

        return loaded;
    }

    private static async Task<AppView?> LoadViewAsync(IGrainFactory grains, ClusterCalls cluster, string appId, CancellationToken cancellationToken)
    {
        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var info = await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), cancellationToken);
        return info is null ? null : await WithBudgetAsync(grains, cluster, info, cancellationToken);
    }

    internal static async Task<AppView> WithBudgetAsync(IGrainFactory grains, ClusterCalls cluster, AppInfo info, CancellationToken cancellationToken)
    {
        var budget = grains.GetGrain<IBudgetGrain>(info.EffectiveBudgetId);
        var snapshot = await cluster.RunAsync(_ => new ValueTask<BudgetSnapshot>(budget.GetAsync()), cancellationToken);
        return AppView.From(info, snapshot);
    }

    private static AppQuotas? ValidateQuotas(QuotasBody body, string prefix, Errors errors, AppQuotas? defaults)
    {
        int? rpm = body.RequestsPerMinute ?? defaults?.RequestsPerMinute;
        long? tpd = body.TokensPerDay ?? defaults?.TokensPerDay;
        if (rpm is null)
        {
            errors.Add(prefix + "requestsPerMinute", "Required.");
        }
        else if (rpm < 0)
        {
            errors.Add(prefix + "requestsPerMinute", "Must be 0 or more.");
        }

        if (tpd is null)
        {
            errors.Add(prefix + "tokensPerDay", "Required.");
        }
        else if (tpd < 0)
        {
            errors.Add(prefix + "tokensPerDay", "Must be 0 or more.");
        }

        return rpm is >= 0 && tpd is >= 0 ? new AppQuotas(rpm.Value, tpd.Value) : null;
    }

    internal static BudgetSettings? ValidateBudget(BudgetBody body, string prefix, Errors errors)
    {
        if (body.LimitUsd is null)
        {
            errors.Add(prefix + "limitUsd", "Required.");
        }
        else if (body.LimitUsd < 0)
        {
            errors.Add(prefix + "limitUsd", "Must be 0 or more.");
        }

        var period = BudgetPeriod.Month;
        if (body.Period is not null && !AdminQuery.TryParseName(body.Period, out period))
        {
            errors.Add(prefix + "period", "Must be 'day' or 'month'.");
        }

        var alerting = BudgetEndpoints.ValidateAlerting(body, prefix, errors);
        return errors.Any ? null : new BudgetSettings(body.LimitUsd!.Value, period)
        {
            Thresholds = alerting.Thresholds,
            OnExceeded = alerting.OnExceeded,
            Notify = alerting.Notify,
        };
    }

    internal static string BudgetReason(BudgetSettings settings) =>
        $"limitUsd={settings.LimitUsd.ToString(System.Globalization.CultureInfo.InvariantCulture)}, period={settings.Period.ToString().ToLowerInvariant()}"
        + BudgetEndpoints.AlertingReason(settings);



    private static List<string> CleanList(IReadOnlyList<string>? values, string field, Errors errors)
    {
        var list = new List<string>();
        if (values is null)
        {
            return list;
        }

        for (var i = 0; i < values.Count; i++)
        {
            var value = values[i]?.Trim();
            if (string.IsNullOrEmpty(value))
            {
                errors.Add($"{field}[{i}]", "Must be a non-empty string.");
            }
            else if (!list.Contains(value, StringComparer.Ordinal))
            {
                list.Add(value);
            }
        }

        return list;
    }

    private static IResult Conflict(string appId) => TypedResults.Problem(
        title: "App already exists",
        detail: $"App '{appId}' already exists with a different manifest; change it with the update endpoints instead.",
        statusCode: StatusCodes.Status409Conflict);

    internal static IResult AppNotFound(string appId) =>
        TypedResults.Problem(title: "App not found", detail: $"No app has the id '{appId}'.", statusCode: StatusCodes.Status404NotFound);

    internal static IResult InvalidAppId() =>
        AdminJson.Invalid("appId", "Must be 3–40 characters of lower-case letters, digits and '-', not starting or ending with '-'.");

    internal sealed class Errors
    {
        private readonly Dictionary<string, List<string>> errors = new(StringComparer.Ordinal);

        public bool Any => errors.Count > 0;

        public void Add(string field, string message)
        {
            if (!errors.TryGetValue(field, out var list))
            {
                errors[field] = list = [];
            }

            list.Add(message);
        }

        public void RequireText(string field, string? value)
        {
            if (string.IsNullOrWhiteSpace(value))
            {
                Add(field, "Required.");
            }
            else if (value.Length > 200)
            {
                Add(field, "At most 200 characters.");
            }
        }

        public IResult ToResult() =>
            TypedResults.ValidationProblem(errors.ToDictionary(e => e.Key, e => e.Value.ToArray()), title: "Invalid request");
    }
}
