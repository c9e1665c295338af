using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;

namespace MicroApps.Orleans.Client.Admin;

// Bodies of the admin API (camelCase JSON, enums as lower-case strings). Request bodies use nullable
// members and strings for enums so that the endpoints, not the serializer, decide what is wrong and say which field.

/// <summary>Request and token quotas of an app.</summary>
public sealed record QuotasBody(int? RequestsPerMinute = null, long? TokensPerDay = null);

/// <summary>Limit and period of a budget; <c>period</c> is <c>day</c> or <c>month</c>.</summary>
public sealed record BudgetBody(decimal? LimitUsd = null, string? Period = null);

/// <summary>Body of <c>POST /admin/apps</c>.</summary>
public sealed record CreateAppBody(
    string? AppId = null,
    string? Name = null,
    string? Owner = null,
    string? Team = null,
    string? Audience = null,
    IReadOnlyList<string>? DataClasses = null,
    IReadOnlyList<string>? AllowedTiers = null,
    string? DefaultTier = null,
    QuotasBody? Quotas = null,
    string? BudgetId = null,
    string? PromptVersion = null,
    BudgetBody? Budget = null);

/// <summary>Body of <c>POST /admin/apps/{appId}/keys</c>.</summary>
public sealed record IssueKeyBody(string? Label = null);

/// <summary>A key as admins see it: never its secret.</summary>
public sealed record KeyView(string KeyId, string Label, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt);

/// <summary>Quotas as admins see them.</summary>
public sealed record QuotasView(int RequestsPerMinute, long TokensPerDay);

/// <summary>An app with the state of the budget it is charged to.</summary>
public sealed record AppView(
    string AppId,
    string Name,
    string Owner,
    string Team,
    Audience Audience,
    IReadOnlyList<string> DataClasses,
    IReadOnlyList<string> AllowedTiers,
    string DefaultTier,
    QuotasView Quotas,
    string BudgetId,
    string PromptVersion,
    AppLifecycle Lifecycle,
    IReadOnlyList<KeyView> Keys,
    DateTimeOffset CreatedAt,
    decimal SpentUsd,
    decimal ReservedUsd,
    decimal LimitUsd,
    bool BudgetConfigured)
{
    public static AppView From(AppInfo app, BudgetSnapshot? budget) => new(
        app.AppId,
        app.Manifest.Name,
        app.Manifest.Owner,
        app.Manifest.Team,
        app.Manifest.Audience,
        app.Manifest.DataClasses,
        app.Manifest.AllowedTiers,
        app.Manifest.DefaultTier,
        new QuotasView(app.Manifest.Quotas.RequestsPerMinute, app.Manifest.Quotas.TokensPerDay),
        app.EffectiveBudgetId,
        app.Manifest.PromptVersion,
        app.Lifecycle,
        app.Keys.Select(k => new KeyView(k.KeyId, k.Label, k.CreatedAt, k.RevokedAt)).ToArray(),
        app.CreatedAt,
        budget?.SpentUsd ?? 0m,
        budget?.ReservedUsd ?? 0m,
        budget?.LimitUsd ?? 0m,
        budget?.Configured ?? false);
}

/// <summary>A newly issued key; <c>apiKey</c> is shown once.</summary>
public sealed record IssuedKeyView(string KeyId, string ApiKey, DateTimeOffset CreatedAt);

/// <summary>A budget as admins see it.</summary>
public sealed record BudgetView(
    string BudgetId,
    bool Configured,
    decimal LimitUsd,
    BudgetPeriod Period,
    DateTimeOffset PeriodStart,
    decimal SpentUsd,
    decimal ReservedUsd,
    decimal AvailableUsd,
    int ReservationsInFlight)
{
    public static BudgetView From(BudgetSnapshot b) =>
        new(b.BudgetId, b.Configured, b.LimitUsd, b.Period, b.PeriodStart, b.SpentUsd, b.ReservedUsd, b.AvailableUsd, b.ReservationsInFlight);
}
