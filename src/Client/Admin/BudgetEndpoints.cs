using System.Globalization;
using MicroApps.Orleans.Alerts;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Client.Infrastructure;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// Budgets and their alerts under <c>/admin</c>: configure (limit, period, thresholds, behaviour at 100%, notification
/// targets), read, list alerts, and the owner's acknowledgement of a budget that reached 100%.
/// </summary>
internal static class BudgetEndpoints
{
    private const int MaxEmails = 20;

    internal static void MapBudgetEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapPut("/budgets/{budgetId}", ConfigureBudgetAsync)
            .WithName("ConfigureBudget").AllowRoles(AdminRole.Admin)
            .WithSummary("Sets a budget's limit and period, and optionally its alert thresholds, behaviour at 100% and notification targets.")
            .Accepts<BudgetBody>("application/json")
            .Produces<BudgetView>().ProducesValidationProblem();

        admin.MapGet("/budgets/{budgetId}", GetBudgetAsync)
            .WithName("GetBudget").AllowRoles(AdminAccess.Everyone)
            .Produces<BudgetView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/budgets/{budgetId}/alerts", ListBudgetAlertsAsync)
            .WithName("ListBudgetAlerts").AllowRoles(AdminAccess.Everyone).WithSummary("A budget's alerts, newest first, with their delivery per channel.")
            .Produces<AlertView[]>().ProducesValidationProblem();

        admin.MapGet("/alerts", ListAlertsAsync)
            .WithName("ListAlerts").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Every budget's alerts, newest first; filter with ?budgetId= and ?state=pending|delivered|failed|recorded, at most ?limit= (default 100, up to 1000).")
            .Produces<AlertView[]>().ProducesValidationProblem();

        admin.MapPost("/budgets/{budgetId}/acknowledge", AcknowledgeAsync)
            .WithName("AcknowledgeBudget").AllowRoles(AdminRole.Author, AdminRole.Admin)
            .WithSummary("The owner of an app charged to the budget (or an admin) acknowledges that it reached 100%: a pending raised limit takes effect and a soft shutdown lifts.")
            .Produces<BudgetView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
    }

    internal static async Task<IResult> ConfigureBudgetAsync(string budgetId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        if (!AdminEndpoints.BudgetIdPattern().IsMatch(budgetId))
        {
            return InvalidBudgetId();
        }

        var read = await AdminJson.ReadAsync<BudgetBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var errors = new AdminEndpoints.Errors();
        var settings = AdminEndpoints.ValidateBudget(read.Value!, "", errors);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var budget = grains.GetGrain<IBudgetGrain>(budgetId);
        var snapshot = await cluster.RunAsync(_ => new ValueTask<BudgetSnapshot>(budget.ConfigureAsync(settings!)), context.RequestAborted);
        var reason = AdminEndpoints.BudgetReason(settings!);
        if (snapshot.PendingLimitUsd is { } pending && pending == settings!.LimitUsd)
        {
            reason += $"; limit {Usd(pending)} pending the owner's acknowledgement (the budget reached 100% this period)";
        }

        await context.AuditAsync(grains, "budget.configured", $"budget:{budgetId}", reason);
        return TypedResults.Ok(BudgetView.From(snapshot));
    }

    internal static async Task<IResult> GetBudgetAsync(string budgetId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!AdminEndpoints.BudgetIdPattern().IsMatch(budgetId))
        {
            return InvalidBudgetId();
        }

        var budget = grains.GetGrain<IBudgetGrain>(budgetId);
        var snapshot = await cluster.RunAsync(_ => new ValueTask<BudgetSnapshot>(budget.GetAsync()), cancellationToken);
        return snapshot.Configured ? TypedResults.Ok(BudgetView.From(snapshot)) : BudgetNotFound(budgetId);
    }

    internal static async Task<IResult> ListBudgetAlertsAsync(string budgetId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        if (!AdminEndpoints.BudgetIdPattern().IsMatch(budgetId))
        {
            return InvalidBudgetId();
        }

        var alerts = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<BudgetAlertView>>(grains.GetGrain<IBudgetGrain>(budgetId).GetAlertsAsync()), cancellationToken);
        return TypedResults.Ok(alerts.Select(AlertView.From).ToArray());
    }

    internal static async Task<IResult> ListAlertsAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var query = context.Request.Query;
        var errors = new AdminEndpoints.Errors();
        string? budgetId = query["budgetId"].ToString() is { Length: > 0 } b ? b.Trim() : null;
        if (budgetId is not null && !AdminEndpoints.BudgetIdPattern().IsMatch(budgetId))
        {
            errors.Add("budgetId", "Must be 1–100 characters of letters, digits and ':', '.', '_', '-'.");
        }

        AlertState? state = null;
        if (query["state"].ToString() is { Length: > 0 } s)
        {
            if (AdminQuery.TryParseName<AlertState>(s, out var parsed))
            {
                state = parsed;
            }
            else
            {
                errors.Add("state", "Must be 'pending', 'delivered', 'failed' or 'recorded'.");
            }
        }

        var limit = 100;
        if (query["limit"].ToString() is { Length: > 0 } l && (!int.TryParse(l, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > 1000))
        {
            errors.Add("limit", "Must be a whole number from 1 to 1000.");
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        IReadOnlyList<string> budgetIds = budgetId is not null
            ? [budgetId]
            : await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<string>>(grains.GetGrain<IAlertIndexGrain>(0).ListBudgetsAsync()), context.RequestAborted);
        var perBudget = await Task.WhenAll(budgetIds.Select(id =>
            cluster.RunAsync(_ => new ValueTask<IReadOnlyList<BudgetAlertView>>(grains.GetGrain<IBudgetGrain>(id).GetAlertsAsync()), context.RequestAborted).AsTask()));
        var alerts = perBudget.SelectMany(a => a)
            .Where(a => state is null || a.State == state)
            .OrderByDescending(a => a.Alert.RaisedAt)
            .ThenBy(a => a.Alert.BudgetId, StringComparer.Ordinal)
            .ThenByDescending(a => a.Alert.Threshold)
            .Take(limit)
            .Select(AlertView.From)
            .ToArray();
        return TypedResults.Ok(alerts);
    }

    internal static async Task<IResult> AcknowledgeAsync(string budgetId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        if (!AdminEndpoints.BudgetIdPattern().IsMatch(budgetId))
        {
            return InvalidBudgetId();
        }

        var budget = grains.GetGrain<IBudgetGrain>(budgetId);
        var current = await cluster.RunAsync(_ => new ValueTask<BudgetSnapshot>(budget.GetAsync()), context.RequestAborted);
        if (!current.Configured)
        {
            return BudgetNotFound(budgetId);
        }

        var principal = context.AdminPrincipal();
        if (principal.Role != AdminRole.Admin)
        {
            var owners = await OwnersOfAppsUsingAsync(budgetId, grains, cluster, context.RequestAborted);
            if (!owners.Contains(principal.Name, StringComparer.Ordinal))
            {
                return Results.Problem(
                    title: "Forbidden",
                    detail: $"'{principal.Name}' ({principal.RoleName}) owns no app charged to budget '{budgetId}'; only those owners or an admin may acknowledge it" +
                        (owners.Count == 0 ? " (no app uses it)." : $" (owners: {string.Join(", ", owners)})."),
                    statusCode: StatusCodes.Status403Forbidden);
            }
        }

        var result = await cluster.RunAsync(_ => new ValueTask<BudgetAcknowledgement>(budget.AcknowledgeAsync(principal.Name)), context.RequestAborted);
        if (!result.Acknowledged)
        {
            return TypedResults.Problem(title: "Nothing to acknowledge", detail: result.Detail, statusCode: StatusCodes.Status409Conflict);
        }

        await context.AuditAsync(grains, "budget.acknowledged", $"budget:{budgetId}", result.Detail);
        return TypedResults.Ok(BudgetView.From(result.Budget));
    }

    /// <summary>Owners of the registered apps whose effective budget is <paramref name="budgetId"/>.</summary>
    private static async Task<IReadOnlyList<string>> OwnersOfAppsUsingAsync(string budgetId, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var ids = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<string>>(grains.GetGrain<IAppRegistryGrain>(0).ListAsync()), cancellationToken);
        var apps = await Task.WhenAll(ids.Select(id => cluster.RunAsync(_ => new ValueTask<AppInfo?>(grains.GetGrain<IMicroAppGrain>(id).GetAsync()), cancellationToken).AsTask()));
        return [.. apps
            .Where(a => a is not null && string.Equals(a.EffectiveBudgetId, budgetId, StringComparison.Ordinal))
            .Select(a => a!.Manifest.Owner)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>Validates the alerting fields of a budget body; null members mean "leave as they are".</summary>
    internal static (IReadOnlyList<decimal>? Thresholds, BudgetExceededBehavior? OnExceeded, AlertTargets? Notify) ValidateAlerting(BudgetBody body, string prefix, AdminEndpoints.Errors errors)
    {
        IReadOnlyList<decimal>? thresholds = null;
        if (body.Thresholds is { } given)
        {
            foreach (var problem in AlertThresholds.Problems(given))
            {
                errors.Add(prefix + "thresholds", char.ToUpperInvariant(problem[0]) + problem[1..] + ".");
            }

            thresholds = [.. given.Order()];
        }

        BudgetExceededBehavior? onExceeded = null;
        if (body.OnExceeded is { } behaviour)
        {
            if (AdminQuery.TryParseName<BudgetExceededBehavior>(behaviour, out var parsed))
            {
                onExceeded = parsed;
            }
            else
            {
                errors.Add(prefix + "onExceeded", "Must be 'throttle', 'degrade' or 'soft_shutdown'.");
            }
        }

        AlertTargets? notify = null;
        if (body.Notify is { } n)
        {
            var url = string.IsNullOrWhiteSpace(n.WebhookUrl) ? null : n.WebhookUrl.Trim();
            if (url is not null && (url.Length > 2000 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") || !string.IsNullOrEmpty(uri.UserInfo)))
            {
                errors.Add(prefix + "notify.webhookUrl", "Must be an absolute http:// or https:// URL without credentials, at most 2000 characters.");
            }

            var emails = new List<string>();
            var addresses = n.Emails ?? [];
            if (addresses.Count > MaxEmails)
            {
                errors.Add(prefix + "notify.emails", $"At most {MaxEmails} addresses.");
            }

            for (var i = 0; i < addresses.Count; i++)
            {
                var email = addresses[i]?.Trim();
                if (string.IsNullOrEmpty(email) || email.Length > 254 || !IsPlainAddress(email))
                {
                    errors.Add($"{prefix}notify.emails[{i}]", "Must be an e-mail address such as finance-alerts@example.com.");
                }
                else if (!emails.Contains(email, StringComparer.OrdinalIgnoreCase))
                {
                    emails.Add(email);
                }
            }

            notify = new AlertTargets(url, emails);
        }

        return (thresholds, onExceeded, notify);
    }

    /// <summary>Whether <paramref name="settings"/> change the alerting of an already configured budget (for the author check on app creation).</summary>
    internal static bool ChangesAlerting(BudgetSnapshot current, BudgetSettings settings) =>
        (settings.Thresholds is { } t && (current.DefaultThresholds || !current.Thresholds.SequenceEqual(t)))
        || (settings.OnExceeded is { } b && b != current.OnExceeded)
        || (settings.Notify is { } n && (n.WebhookUrl != current.Notify.WebhookUrl || !n.Emails.SequenceEqual(current.Notify.Emails)));

    internal static string AlertingReason(BudgetSettings settings)
    {
        var parts = new List<string>();
        if (settings.Thresholds is { } t)
        {
            parts.Add($"thresholds=[{string.Join(", ", t.Select(x => x.ToString(CultureInfo.InvariantCulture)))}]");
        }

        if (settings.OnExceeded is { } b)
        {
            parts.Add($"onExceeded={AdminQuery.NameOf(b)}");
        }

        if (settings.Notify is { } n)
        {
            parts.Add($"notify.webhookUrl={(n.WebhookUrl is null ? "none" : "set")}, notify.emails={n.Emails.Count}");
        }

        return parts.Count == 0 ? "" : ", " + string.Join(", ", parts);
    }



    /// <summary>A bare address (<c>local@domain</c>), not a display-name form, as MimeKit parses it.</summary>
    private static bool IsPlainAddress(string email) =>
        MimeKit.MailboxAddress.TryParse(email, out var address) && string.IsNullOrEmpty(address.Name)
        && string.Equals(address.Address, email, StringComparison.OrdinalIgnoreCase) && address.Address.Contains('@', StringComparison.Ordinal);

    private static string Usd(decimal amount) => "$" + amount.ToString("0.######", CultureInfo.InvariantCulture);

    private static IResult InvalidBudgetId() =>
        AdminJson.Invalid("budgetId", "Must be 1–100 characters of letters, digits and ':', '.', '_', '-'.");

    private static IResult BudgetNotFound(string budgetId) =>
        TypedResults.Problem(title: "Budget not found", detail: $"Budget '{budgetId}' has no limit configured.", statusCode: StatusCodes.Status404NotFound);
}

/// <summary>An alert as admins see it.</summary>
public sealed record AlertView(
    string AlertId,
    string BudgetId,
    decimal Threshold,
    decimal SpentUsd,
    decimal LimitUsd,
    string Period,
    DateTimeOffset PeriodStart,
    DateTimeOffset RaisedAt,
    string Trigger,
    string State,
    IReadOnlyList<DeliveryView> Deliveries)
{
    public static AlertView From(BudgetAlertView view)
    {
        var a = view.Alert;
        return new AlertView(
            a.AlertId, a.BudgetId, a.Threshold, a.SpentUsd, a.LimitUsd, a.Period.ToString().ToLowerInvariant(), a.PeriodStart, a.RaisedAt, a.Trigger,
            view.State.ToString().ToLowerInvariant(),
            [.. view.Deliveries.Select(d => new DeliveryView(
                d.Channel.ToString().ToLowerInvariant(), d.Target, d.State.ToString().ToLowerInvariant(), d.Attempts, d.LastAttemptAt, d.LastError,
                d.DeliveredAt, d.NextAttemptAt, [.. d.Backoffs.Select(b => b.TotalMilliseconds)]))]);
    }
}

/// <summary>The delivery of an alert on one channel (<c>webhook</c> or <c>email</c>); <c>backoffsMs</c> are the waits before each retry.</summary>
public sealed record DeliveryView(
    string Channel,
    string Target,
    string State,
    int Attempts,
    DateTimeOffset? LastAttemptAt,
    string? LastError,
    DateTimeOffset? DeliveredAt,
    DateTimeOffset? NextAttemptAt,
    IReadOnlyList<double> BackoffsMs);
