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
    private static partial Regex BudgetIdPattern();

    public static IEndpointRouteBuilder MapAdminEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var admin = endpoints.MapGroup("/admin")
            .WithTags("Admin")
            .AddEndpointFilter(AdminAccess.AuthorizeAsync)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);

        admin.MapPost("/apps", CreateAppAsync)
            .WithName("CreateApp").AllowRoles(AdminRole.Author, AdminRole.Admin).WithSummary("Creates an app and, when given, configures its budget.")
            .Accepts<CreateAppBody>("application/json")
            .Produces<AppView>(StatusCodes.Status201Created)
            .Produces<AppView>(StatusCodes.Status200OK)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict);

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

        admin.MapPut("/budgets/{budgetId}", ConfigureBudgetAsync)
            .WithName("ConfigureBudget").AllowRoles(AdminRole.Admin).Accepts<BudgetBody>("application/json")
            .Produces<BudgetView>().ProducesValidationProblem();

        admin.MapGet("/budgets/{budgetId}", GetBudgetAsync)
            .WithName("GetBudget").AllowRoles(AdminAccess.Everyone).Produces<BudgetView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapApprovalEndpoints();
        admin.MapPromptEndpoints();

        return endpoints;
    }

    internal static async Task<IResult> CreateAppAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var read = await AdminJson.ReadAsync<CreateAppBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var body = read.Value!;
        var errors = new Errors();
        if (!ApiKeys.IsValidAppId(body.AppId))
        {
            errors.Add("appId", "Must be 3–40 characters of lower-case letters, digits and '-', not starting or ending with '-'.");
        }

        errors.RequireText("name", body.Name);
        errors.RequireText("owner", body.Owner);
        errors.RequireText("team", body.Team);
        var audience = Audience.Internal;
        if (body.Audience is not null && !TryParseAudience(body.Audience, out audience))
        {
            errors.Add("audience", "Must be 'internal' or 'external'.");
        }

        var dataClasses = CleanList(body.DataClasses, "dataClasses", errors);
        var allowedTiers = CleanList(body.AllowedTiers, "allowedTiers", errors);
        if (body.AllowedTiers is null || allowedTiers.Count == 0)
        {
            errors.Add("allowedTiers", "At least one tier is required, e.g. [\"local\", \"standard\"].");
        }

        var defaultTier = string.IsNullOrWhiteSpace(body.DefaultTier) ? allowedTiers.FirstOrDefault() ?? "" : body.DefaultTier.Trim();
        if (allowedTiers.Count > 0 && !allowedTiers.Contains(defaultTier, StringComparer.Ordinal))
        {
            errors.Add("defaultTier", $"'{defaultTier}' is not one of allowedTiers.");
        }

        var quotas = body.Quotas is null ? AppQuotas.Default : ValidateQuotas(body.Quotas, "quotas.", errors, AppQuotas.Default);
        var budgetId = body.BudgetId?.Trim() ?? "";
        if (budgetId.Length > 0 && !BudgetIdPattern().IsMatch(budgetId))
        {
            errors.Add("budgetId", "Must be 1–100 characters of letters, digits and ':', '.', '_', '-'.");
        }

        BudgetSettings? budget = null;
        if (body.Budget is not null)
        {
            budget = ValidateBudget(body.Budget, "budget.", errors);
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var appId = body.AppId!;
        var manifest = new AppManifest(
            body.Name!.Trim(), body.Owner!.Trim(), body.Team!.Trim(), audience, dataClasses, allowedTiers, defaultTier,
            quotas!, budgetId, string.IsNullOrWhiteSpace(body.PromptVersion) ? "v1" : body.PromptVersion.Trim());

        // The grain applies the same rules; checking here names the field instead of failing the grain call.
        foreach (var (field, message) in AppManifestRules.Validate(appId, manifest))
        {
            errors.Add(field, message);
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var existing = await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), context.RequestAborted);
        if (existing is not null && !SameManifest(existing.Manifest, manifest))
        {
            return Conflict(appId);
        }

        AppInfo created;
        try
        {
            created = existing ?? await cluster.RunAsync(_ => new ValueTask<AppInfo>(app.CreateAsync(manifest)), context.RequestAborted);
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

        var view = AppView.From(created, snapshot);
        return existing is null ? TypedResults.Created($"/admin/apps/{appId}", view) : TypedResults.Ok(view);
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
        if (!ApiKeys.IsValidAppId(appId))
        {
            return InvalidAppId();
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

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        if (await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), context.RequestAborted) is null)
        {
            return AppNotFound(appId);
        }

        // Not retried: a retry after a lost reply would issue a second key; the admin can simply ask again.
        var issued = await app.IssueKeyAsync(label.Length == 0 ? "default" : label);
        return TypedResults.Created($"/admin/apps/{appId}/keys/{issued.KeyId}", new IssuedKeyView(issued.KeyId, issued.ApiKey, issued.CreatedAt));
    }

    internal static async Task<IResult> RevokeKeyAsync(string appId, string keyId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            return InvalidAppId();
        }

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var info = await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), cancellationToken);
        if (info is null)
        {
            return AppNotFound(appId);
        }

        if (!info.Keys.Any(k => k.KeyId == keyId))
        {
            return TypedResults.Problem(title: "Key not found", detail: $"App '{appId}' has no key '{keyId}'.", statusCode: StatusCodes.Status404NotFound);
        }

        // Revoking is idempotent: revoking a revoked key again changes nothing.
        await cluster.RunAsync(_ => new ValueTask<bool>(app.RevokeKeyAsync(keyId)), cancellationToken);
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

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        if (await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), context.RequestAborted) is null)
        {
            return AppNotFound(appId);
        }

        var updated = await cluster.RunAsync(_ => new ValueTask<AppInfo>(app.SetQuotasAsync(quotas!)), context.RequestAborted);
        return TypedResults.Ok(await WithBudgetAsync(grains, cluster, updated, context.RequestAborted));
    }

    private static async Task<IResult> SetLifecycleAsync(string appId, AppLifecycle lifecycle, IGrainFactory grains, HttpContext context)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            return InvalidAppId();
        }

        var cluster = context.RequestServices.GetRequiredService<ClusterCalls>();
        var app = grains.GetGrain<IMicroAppGrain>(appId);
        if (await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), context.RequestAborted) is null)
        {
            return AppNotFound(appId);
        }

        var updated = await cluster.RunAsync(_ => new ValueTask<AppInfo>(app.SetLifecycleAsync(lifecycle)), context.RequestAborted);
        return TypedResults.Ok(await WithBudgetAsync(grains, cluster, updated, context.RequestAborted));
    }

    internal static async Task<IResult> ConfigureBudgetAsync(string budgetId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        if (!BudgetIdPattern().IsMatch(budgetId))
        {
            return AdminJson.Invalid("budgetId", "Must be 1–100 characters of letters, digits and ':', '.', '_', '-'.");
        }

        var read = await AdminJson.ReadAsync<BudgetBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var errors = new Errors();
        var settings = ValidateBudget(read.Value!, "", errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var budget = grains.GetGrain<IBudgetGrain>(budgetId);
        var snapshot = await cluster.RunAsync(_ => new ValueTask<BudgetSnapshot>(budget.ConfigureAsync(settings!)), context.RequestAborted);
        return TypedResults.Ok(BudgetView.From(snapshot));
    }

    internal static async Task<IResult> GetBudgetAsync(string budgetId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!BudgetIdPattern().IsMatch(budgetId))
        {
            return AdminJson.Invalid("budgetId", "Must be 1–100 characters of letters, digits and ':', '.', '_', '-'.");
        }

        var budget = grains.GetGrain<IBudgetGrain>(budgetId);
        var snapshot = await cluster.RunAsync(_ => new ValueTask<BudgetSnapshot>(budget.GetAsync()), cancellationToken);
        return snapshot.Configured
            ? TypedResults.Ok(BudgetView.From(snapshot))
            : TypedResults.Problem(title: "Budget not found", detail: $"Budget '{budgetId}' has no limit configured.", statusCode: StatusCodes.Status404NotFound);
    }

    private static async Task<AppView?> LoadViewAsync(IGrainFactory grains, ClusterCalls cluster, string appId, CancellationToken cancellationToken)
    {
        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var info = await cluster.RunAsync(_ => new ValueTask<AppInfo?>(app.GetAsync()), cancellationToken);
        return info is null ? null : await WithBudgetAsync(grains, cluster, info, cancellationToken);
    }

    private static async Task<AppView> WithBudgetAsync(IGrainFactory grains, ClusterCalls cluster, AppInfo info, CancellationToken cancellationToken)
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

    private static BudgetSettings? ValidateBudget(BudgetBody body, string prefix, Errors errors)
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
        if (body.Period is not null && !TryParsePeriod(body.Period, out period))
        {
            errors.Add(prefix + "period", "Must be 'day' or 'month'.");
        }

        return errors.Any ? null : new BudgetSettings(body.LimitUsd!.Value, period);
    }

    private static bool TryParseAudience(string value, out Audience audience)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "internal":
                audience = Audience.Internal;
                return true;
            case "external":
                audience = Audience.External;
                return true;
            default:
                audience = default;
                return false;
        }
    }

    private static bool TryParsePeriod(string value, out BudgetPeriod period)
    {
        switch (value.Trim().ToLowerInvariant())
        {
            case "day":
                period = BudgetPeriod.Day;
                return true;
            case "month":
                period = BudgetPeriod.Month;
                return true;
            default:
                period = default;
                return false;
        }
    }

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

    private static bool SameManifest(AppManifest a, AppManifest b) =>
        a.Name == b.Name && a.Owner == b.Owner && a.Team == b.Team && a.Audience == b.Audience
        && a.DataClasses.SequenceEqual(b.DataClasses) && a.AllowedTiers.SequenceEqual(b.AllowedTiers)
        && a.DefaultTier == b.DefaultTier && a.Quotas == b.Quotas && a.BudgetId == b.BudgetId && a.PromptVersion == b.PromptVersion;

    private static IResult Conflict(string appId) => TypedResults.Problem(
        title: "App already exists",
        detail: $"App '{appId}' already exists with a different manifest; change it with the update endpoints instead.",
        statusCode: StatusCodes.Status409Conflict);

    private static IResult AppNotFound(string appId) =>
        TypedResults.Problem(title: "App not found", detail: $"No app has the id '{appId}'.", statusCode: StatusCodes.Status404NotFound);

    private static IResult InvalidAppId() =>
        AdminJson.Invalid("appId", "Must be 3–40 characters of lower-case letters, digits and '-', not starting or ending with '-'.");

    private sealed class Errors
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
