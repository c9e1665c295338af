using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// Versions, canary, promotion, rollback, feature flags, test keys and retirement under <c>/admin/apps/{appId}</c>.
/// Every rule lives in the app grain; refused transitions come back as 409 problem details naming the state and
/// what it could move to. Submission, the approvals queue and approve/reject are mapped by the promotion endpoints.
/// </summary>
/// <summary>What retiring an app freed: the keys it revoked and its budget.</summary>
public sealed record RetirementFreedView(IReadOnlyList<string> KeysRevoked, BudgetReleaseView Budget);

/// <summary>What happened to the retired app's budget: closed (its own, now at a limit of 0) or left as it is, and why.</summary>
/// <param name="BudgetId">The budget the app was charged to.</param>
/// <param name="Closed">True when this retire closed it.</param>
/// <param name="FreedLimitUsd">The limit per period it no longer allocates.</param>
/// <param name="Detail">What was done, in words.</param>
public sealed record BudgetReleaseView(string BudgetId, bool Closed, decimal FreedLimitUsd, string Detail);

internal static class LifecycleEndpoints
{
    public static void MapLifecycleEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapPost("/apps/{appId}/versions", AddVersionAsync)
            .WithName("AddAppVersion").AllowRoles(AdminRole.Author, AdminRole.Admin)
            .WithSummary("Adds a draft version; fields the body omits are taken from the app's current manifest. JSON or YAML.")
            .Accepts<CreateAppBody>("application/json", [.. ManifestYaml.ContentTypes])
            .Produces<VersionView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapGet("/apps/{appId}/versions", ListVersionsAsync)
            .WithName("ListAppVersions").AllowRoles(AdminAccess.Everyone)
            .Produces<VersionSummaryView[]>().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/apps/{appId}/versions/{version:int}", GetVersionAsync)
            .WithName("GetAppVersion").AllowRoles(AdminAccess.Everyone)
            .Produces<VersionView>().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPost("/apps/{appId}/versions/{version:int}/canary", StartCanaryAsync)
            .WithName("StartCanary").AllowRoles(AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Approved → canary: the version takes a share of production callers (sticky by user or request id).")
            .Accepts<CanaryBody>("application/json")
            .Produces<AppView>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/apps/{appId}/versions/{version:int}/promote", PromoteAsync)
            .WithName("PromoteVersion").AllowRoles(AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Approved or canary → published; the previously published version is superseded. Takes effect on the next request.")
            .Produces<AppView>().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/apps/{appId}/rollback", RollbackAsync)
            .WithName("RollbackApp").AllowRoles(AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Withdraws the canary, or else rolls back the published version and restores the one it superseded. Takes effect on the next request.")
            .Accepts<RollbackBody>("application/json")
            .Produces<AppView>().ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPut("/apps/{appId}/flags/{name}", SetFlagAsync)
            .WithName("SetFeatureFlag").AllowRoles(AdminRole.Author, AdminRole.Admin)
            .WithSummary("Sets a per-app feature flag; the app reads its flags at GET /v1/flags.")
            .Accepts<FlagBody>("application/json")
            .Produces<AppView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapPost("/apps/{appId}/test-keys", IssueTestKeyAsync)
            .WithName("IssueTestKey").AllowRoles(AdminRole.Author, AdminRole.Admin)
            .WithSummary("Issues a test key held by the caller: it reaches unreleased versions under the test quotas. Shown once.")
            .Accepts<TestKeyBody>("application/json")
            .Produces<TestKeyView>(StatusCodes.Status201Created).ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);

        admin.MapPost("/apps/{appId}/retire", RetireAsync)
            .WithName("RetireApp").AllowRoles(AdminRole.Admin)
            .WithSummary("Retires the app for good and frees what it held: every key is revoked, and its own budget (app:{appId}, not a shared one) is closed at a limit of 0. The answer is the app with 'freed' saying what was freed.")
            .Produces<AppView>().ProducesProblem(StatusCodes.Status404NotFound);
    }

    internal static async Task<IResult> AddVersionAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var (app, info, error) = await AdminEndpoints.LoadOwnedAppAsync(appId, context, grains, cluster);
        if (error is not null)
        {
            return error;
        }

        var principal = context.AdminPrincipal();

        var read = await ManifestDocument.ReadAsync(context, allowEmpty: true);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var body = read.Value ?? new CreateAppBody();
        var errors = new AdminEndpoints.Errors();
        if (body.AppId is not null && body.AppId != appId)
        {
            errors.Add("appId", $"A version belongs to the app in the path ('{appId}'); leave appId out.");
        }

        if (body.InitialState is not null || body.Budget is not null)
        {
            errors.Add(body.InitialState is not null ? "initialState" : "budget", "Not part of a version: a new version is always a draft, and the budget belongs to the app.");
        }

        var manifest = AdminEndpoints.BuildManifest(body, info!.Manifest, principal, errors);
        if (manifest is not null)
        {
            foreach (var (field, message) in AppManifestRules.Validate(appId, manifest))
            {
                errors.Add(field, message);
            }

            if (!errors.Any)
            {
                await ManifestValidation.CheckAsync(manifest, context, grains, cluster, errors);
            }
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        if (!principal.MayActOnApp(manifest!.Owner))
        {
            return AdminAccess.NotOwner(principal, appId, manifest.Owner);
        }

        var result = await AddDraftVersionAsync(appId, app!, manifest, principal.Name);
        if (result.Error is not null)
        {
            return result.Error;
        }

        var version = result.Value!;
        await context.AuditAsync(grains, "app.version.created", $"app:{appId}", $"version {version.Version} draft by {principal.Name}");
        return TypedResults.Created($"/admin/apps/{appId}/versions/{version.Version}", VersionView.From(appId, version));
    }

    internal static async Task<IResult> ListVersionsAsync(string appId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var (_, info, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, cancellationToken);
        return error ?? TypedResults.Ok((info!.Versions ?? []).Select(VersionView.Summary).ToArray());
    }

    internal static async Task<IResult> GetVersionAsync(string appId, int version, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var (app, _, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, cancellationToken);
        if (error is not null)
        {
            return error;
        }

        var found = await cluster.RunAsync(_ => new ValueTask<AppVersionInfo?>(app!.GetVersionAsync(version)), cancellationToken);
        return found is null ? VersionNotFound(appId, version) : TypedResults.Ok(VersionView.From(appId, found));
    }

    internal static async Task<IResult> StartCanaryAsync(string appId, int version, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var read = await AdminJson.ReadAsync<CanaryBody>(context, allowEmpty: true);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var share = read.Value?.Share;
        if (share is { } s && !(s > 0 && s <= 1))
        {
            return AdminJson.Invalid("share", $"Must be greater than 0 and at most 1 (got {s}).");
        }

        var (app, _, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var principal = context.AdminPrincipal();

        // NaN asks the grain for Lifecycle:DefaultCanaryShare, which only the silo knows.
        var result = await RefusalsAsync(appId, () => app!.StartCanaryAsync(version, share ?? double.NaN, principal.Name));
        if (result.Error is not null)
        {
            return result.Error;
        }

        var info = result.Value!;
        await context.AuditAsync(grains, "app.canary.started", $"app:{appId}", $"version {version} takes {info.Release?.CanaryShare:0.###} of production callers");
        return TypedResults.Ok(await AdminEndpoints.WithBudgetAsync(grains, cluster, info, context.RequestAborted));
    }

    internal static async Task<IResult> PromoteAsync(string appId, int version, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var (app, before, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var principal = context.AdminPrincipal();
        var result = await RefusalsAsync(appId, () => app!.PromoteAsync(version, principal.Name));
        if (result.Error is not null)
        {
            return result.Error;
        }

        var previous = before!.Release?.PublishedVersion is { } p ? $", superseding version {p}" : "";
        await context.AuditAsync(grains, "app.promoted", $"app:{appId}", $"version {version} published{previous}");
        return TypedResults.Ok(await AdminEndpoints.WithBudgetAsync(grains, cluster, result.Value!, context.RequestAborted));
    }

    internal static async Task<IResult> RollbackAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var read = await AdminJson.ReadAsync<RollbackBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var reason = read.Value!.Reason?.Trim() ?? "";
        if (reason.Length == 0 || reason.Length > 500)
        {
            return AdminJson.Invalid("reason", "Required: why the release is rolled back (at most 500 characters).");
        }

        var (app, before, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        var principal = context.AdminPrincipal();

        // Not retried: a second rollback would roll back one version further.
        var result = await RefusalsAsync(appId, () => app!.RollbackAsync(principal.Name, reason));
        if (result.Error is not null)
        {
            return result.Error;
        }

        var after = result.Value!;
        var what = before!.Release?.CanaryVersion is { } canary
            ? $"canary version {canary} withdrawn; version {after.Release?.PublishedVersion} serves"
            : $"version {before.Release?.PublishedVersion} rolled back; version {after.Release?.PublishedVersion} restored";
        await context.AuditAsync(grains, "app.rolled_back", $"app:{appId}", $"{what}: {reason}");
        return TypedResults.Ok(await AdminEndpoints.WithBudgetAsync(grains, cluster, after, context.RequestAborted));
    }

    internal static async Task<IResult> SetFlagAsync(string appId, string name, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        // Ownership first: another author learns nothing about what a valid body would be.
        var (app, _, error) = await AdminEndpoints.LoadOwnedAppAsync(appId, context, grains, cluster);
        if (error is not null)
        {
            return error;
        }

        if (!FeatureFlags.IsValidName(name))
        {
            return AdminJson.Invalid("name", $"A flag name is {FeatureFlags.NameRule}.");
        }

        var read = await AdminJson.ReadAsync<FlagBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        if (read.Value!.Enabled is not { } enabled)
        {
            return AdminJson.Invalid("enabled", "Required: true or false.");
        }

        var result = await RefusalsAsync(appId, () => app!.SetFeatureFlagAsync(name, enabled));
        if (result.Error is not null)
        {
            return result.Error;
        }

        await context.AuditAsync(grains, "app.flag.set", $"app:{appId}", $"flag {name} = {(enabled ? "true" : "false")}");
        return TypedResults.Ok(await AdminEndpoints.WithBudgetAsync(grains, cluster, result.Value!, context.RequestAborted));
    }

    internal static async Task<IResult> IssueTestKeyAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        // Ownership first: another author learns nothing about what a valid body would be.
        var (app, _, error) = await AdminEndpoints.LoadOwnedAppAsync(appId, context, grains, cluster);
        if (error is not null)
        {
            return error;
        }

        var principal = context.AdminPrincipal();

        var read = await AdminJson.ReadAsync<TestKeyBody>(context, allowEmpty: true);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var label = read.Value?.Label?.Trim() ?? "";
        if (label.Length > 100)
        {
            return AdminJson.Invalid("label", "At most 100 characters.");
        }

        var pinned = read.Value?.Version;

        // Not retried: a retry after a lost reply would issue a second key; the author can simply ask again.
        var result = await RefusalsAsync(appId, () => app!.IssueScopedKeyAsync(KeyKind.Test, principal.Name, label.Length == 0 ? "test" : label, pinned));
        if (result.Error is not null)
        {
            return result.Error;
        }

        var issued = result.Value!;
        await context.AuditAsync(grains, "key.issued", $"app:{appId}",
            $"test key {issued.KeyId} held by {principal.Name}{(pinned is { } v ? $", pinned to version {v}" : "")}");
        return TypedResults.Created($"/admin/apps/{appId}/keys/{issued.KeyId}",
            new TestKeyView(issued.KeyId, issued.ApiKey, issued.CreatedAt, KeyKind.Test, principal.Name, pinned));
    }

    internal static async Task<IResult> RetireAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var (app, info, error) = await AdminEndpoints.LoadAppAsync(appId, grains, cluster, context.RequestAborted);
        if (error is not null)
        {
            return error;
        }

        // Repeatable: a repeat frees whatever an earlier retire left (keys or a budget retired before retiring freed them).
        var wasRetired = info!.Lifecycle == AppLifecycle.Retired;
        var retired = await cluster.RunAsync(_ => new ValueTask<AppInfo>(app!.SetLifecycleAsync(AppLifecycle.Retired)), context.RequestAborted);
        var revoked = info.Keys.Where(k => k.RevokedAt is null).Select(k => k.KeyId)
            .Where(id => retired.Keys.Any(k => k.KeyId == id && k.RevokedAt is not null))
            .ToArray();
        var budget = await ReleaseBudgetAsync(appId, retired, grains, cluster, context.RequestAborted);
        if (!wasRetired || revoked.Length > 0 || budget.Closed)
        {
            await context.AuditAsync(grains, wasRetired ? "app.retirement.freed" : "app.retired", $"app:{appId}",
                $"{(wasRetired ? "already retired" : "retired: every key is refused from now on")}; "
                + $"{revoked.Length} key(s) revoked{(revoked.Length > 0 ? $" ({string.Join(", ", revoked)})" : "")}; {budget.Detail}");
        }

        var view = await AdminEndpoints.WithBudgetAsync(grains, cluster, retired, context.RequestAborted);
        var json = context.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;

        // The app view as every app endpoint answers it, plus what retiring freed.
        var answer = System.Text.Json.JsonSerializer.SerializeToNode(view, json)!.AsObject();
        answer["freed"] = System.Text.Json.JsonSerializer.SerializeToNode(new RetirementFreedView(revoked, budget), json);
        return TypedResults.Ok(answer);
    }

    /// <summary>
    /// Closes the app's own budget (<c>app:{appId}</c>) unless another app that is not retired is charged to it; a shared
    /// (team) budget is never touched.
    /// </summary>
    private static async Task<BudgetReleaseView> ReleaseBudgetAsync(string appId, AppInfo app, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var budgetId = app.EffectiveBudgetId;
        var own = $"app:{appId}";
        var budget = grains.GetGrain<Budgets.IBudgetGrain>(budgetId);
        if (!string.Equals(budgetId, own, StringComparison.Ordinal))
        {
            return new BudgetReleaseView(budgetId, false, 0m, $"budget '{budgetId}' is shared (not the app's own '{own}'): left as it is");
        }

        var ids = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<string>>(grains.GetGrain<IAppRegistryGrain>(0).ListAsync()), cancellationToken);
        var others = await Task.WhenAll(ids.Where(id => id != appId).Select(id => cluster.RunAsync(_ => new ValueTask<AppInfo?>(grains.GetGrain<IMicroAppGrain>(id).GetAsync()), cancellationToken).AsTask()));
        var sharers = others.Where(o => o is not null && o.Lifecycle != AppLifecycle.Retired && o.EffectiveBudgetId == budgetId).Select(o => o!.AppId).ToList();
        if (sharers.Count > 0)
        {
            return new BudgetReleaseView(budgetId, false, 0m, $"budget '{budgetId}' is also charged by {string.Join(", ", sharers)}: left as it is");
        }

        var before = await cluster.RunAsync(_ => new ValueTask<Budgets.BudgetSnapshot>(budget.GetAsync()), cancellationToken);
        if (before.ClosedAt is not null)
        {
            return new BudgetReleaseView(budgetId, false, 0m, $"budget '{budgetId}' was already closed");
        }

        var after = await cluster.RunAsync(_ => new ValueTask<Budgets.BudgetSnapshot>(budget.CloseAsync($"app '{appId}' retired")), cancellationToken);
        return new BudgetReleaseView(budgetId, true, before.Configured ? before.LimitUsd : 0m,
            $"budget '{budgetId}' closed: limit ${before.LimitUsd:0.######} → $0, nothing more can be reserved (spent ${after.SpentUsd:0.######} this period is kept)");
    }

    /// <summary>Suspend and resume: a retired app stays retired, so both are refused with 409.</summary>
    internal static IResult RetiredConflict(string appId) => TypedResults.Problem(
        title: "Lifecycle change refused",
        detail: $"app '{appId}' is retired; a retired app cannot be suspended or resumed",
        statusCode: StatusCodes.Status409Conflict);

    /// <summary>Runs a grain command, turning its refusals into problem details: 409 refused transition, 404 unknown version, 400 bad argument.</summary>
    /// <summary>
    /// Adds a draft version written by <paramref name="author"/>; a refusal comes back as problem details, an invalid
    /// manifest naming <paramref name="field"/> (else the argument's name). Not retried: a retry after a lost reply
    /// would add a second version.
    /// </summary>
    internal static Task<(AppVersionInfo? Value, IResult? Error)> AddDraftVersionAsync(string appId, IMicroAppGrain app, AppManifest manifest, string author, string? field = null) =>
        RefusalsAsync(appId, () => app.AddVersionAsync(manifest, author), field);

    private static async Task<(T? Value, IResult? Error)> RefusalsAsync<T>(string appId, Func<Task<T>> command, string? field = null)
        where T : class
    {
        try
        {
            return (await command(), null);
        }
        catch (InvalidOperationException ex)
        {
            return (null, TypedResults.Problem(title: "Transition refused", detail: ex.Message, statusCode: StatusCodes.Status409Conflict));
        }
        catch (KeyNotFoundException ex)
        {
            return (null, TypedResults.Problem(title: "Version not found", detail: ex.Message, statusCode: StatusCodes.Status404NotFound));
        }
        catch (ArgumentException ex)
        {
            return (null, AdminJson.Invalid(field ?? ex.ParamName ?? "body", ex.Message));
        }
    }

    private static IResult VersionNotFound(string appId, int version) =>
        TypedResults.Problem(title: "Version not found", detail: $"App '{appId}' has no version {version}.", statusCode: StatusCodes.Status404NotFound);
}
