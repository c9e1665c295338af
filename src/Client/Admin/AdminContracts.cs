using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;

namespace MicroApps.Orleans.Client.Admin;

// Bodies of the admin API (camelCase JSON, enums as lower-case strings). Request bodies use nullable
// members and strings for enums so that the endpoints, not the serializer, decide what is wrong and say which field.

/// <summary>Request and token quotas of an app.</summary>
public sealed record QuotasBody(int? RequestsPerMinute = null, long? TokensPerDay = null);

/// <summary>
/// Limit and period of a budget (<c>period</c> is <c>day</c> or <c>month</c>) and, optionally, its alerting:
/// <c>thresholds</c> (shares of the limit in (0, 1]), <c>onExceeded</c> (<c>throttle</c>, <c>degrade</c>,
/// <c>soft_shutdown</c>) and <c>notify</c>. Omitted alerting fields stay as they are.
/// </summary>
public sealed record BudgetBody(
    decimal? LimitUsd = null,
    string? Period = null,
    IReadOnlyList<decimal>? Thresholds = null,
    string? OnExceeded = null,
    NotifyBody? Notify = null);

/// <summary>Where a budget's alerts go: <c>{webhookUrl?, emails?}</c>; both omitted or empty means nowhere (alerts are only recorded).</summary>
public sealed record NotifyBody(string? WebhookUrl = null, IReadOnlyList<string>? Emails = null);

/// <summary>
/// Body of <c>POST /admin/apps</c>, <c>POST /admin/apps/{appId}/versions</c> and <c>POST /admin/manifests/validate</c>:
/// the manifest document (JSON or YAML). Its fields are <see cref="AppManifest"/>'s in camelCase plus <c>appId</c>,
/// <c>budget</c> and <c>initialState</c>, so an AppManifest serialised with the admin JSON options is a valid document.
/// The JSON Schema docs/schemas/microapp-manifest.schema.json describes it.
/// </summary>
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
    BudgetBody? Budget = null,
    string? InitialState = null,
    IReadOnlyList<PromptPinBody>? Prompts = null,
    IReadOnlyList<RegressionTestBody>? Tests = null,
    IReadOnlyList<ConnectorBody>? Connectors = null,
    IReadOnlyList<string>? EgressAllowlist = null,
    long? ExpectedCallsPerMonth = null,
    double? PromptSampleShare = null,
    SavingsBody? Savings = null,
    string? Template = null,
    IReadOnlyDictionary<string, System.Text.Json.JsonElement>? Parameters = null,
    IReadOnlyList<string>? Components = null,
    LimitsBody? Limits = null,
    Catalog.AppLineage? Lineage = null);

/// <summary>Per-run limits of the hosted runtime: <c>{maxTokens, maxSteps, maxSeconds}</c>; omitted ones take the template's defaults.</summary>
public sealed record LimitsBody(int? MaxTokens = null, int? MaxSteps = null, int? MaxSeconds = null);

/// <summary>
/// An app's savings settings: <c>{routing, qualitySlo, task, sampling: {minShare, maxShare}, nearDuplicate: {enabled, threshold}}</c>;
/// omitted fields take their defaults (routing off, SLO 0.9, task classified per call, no sampling, platform near-duplicate default).
/// </summary>
public sealed record SavingsBody(
    bool? Routing = null,
    double? QualitySlo = null,
    string? Task = null,
    SamplingBody? Sampling = null,
    NearDuplicateBody? NearDuplicate = null);

/// <summary>Premium sampling bounds: <c>{minShare, maxShare}</c>, each 0 to 1.</summary>
public sealed record SamplingBody(double? MinShare = null, double? MaxShare = null);

/// <summary>Near-duplicate cache: <c>{enabled, threshold}</c>.</summary>
public sealed record NearDuplicateBody(bool? Enabled = null, double? Threshold = null);

/// <summary>A registry prompt a version pins: <c>{name, version}</c>.</summary>
public sealed record PromptPinBody(string? Name = null, int? Version = null);

/// <summary>A prompt regression test: <c>{name, input, model?, assertions:[{kind, value}]}</c>.</summary>
public sealed record RegressionTestBody(string? Name = null, [property: System.Text.Json.Serialization.JsonConverter(typeof(ScalarTextJsonConverter))] string? Input = null, string? Model = null, IReadOnlyList<AssertionBody>? Assertions = null);

/// <summary>One regression assertion: <c>kind</c> is contains, not_contains, regex, json_schema, max_tokens or max_cost_usd.</summary>
public sealed record AssertionBody(string? Kind = null, [property: System.Text.Json.Serialization.JsonConverter(typeof(ScalarTextJsonConverter))] string? Value = null);

/// <summary>
/// A connector the app uses: <c>{name, host, dataClasses, use?, settings?}</c>; <c>use</c> names the catalog connector
/// (<c>http-json@1.0.0</c>) and <c>settings</c> fill in its parameters.
/// </summary>
public sealed record ConnectorBody(
    string? Name = null,
    string? Host = null,
    IReadOnlyList<string>? DataClasses = null,
    string? Use = null,
    IReadOnlyDictionary<string, System.Text.Json.JsonElement>? Settings = null);

/// <summary>Body of <c>POST /admin/apps/{appId}/keys</c>.</summary>
public sealed record IssueKeyBody(string? Label = null);

/// <summary>A key as admins see it: never its secret. Test keys name their holder and, when pinned, their version.</summary>
public sealed record KeyView(string KeyId, string Label, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, KeyKind Kind = KeyKind.Production, string Holder = "", int? PinnedVersion = null);

/// <summary>What serves production traffic: the published version and the canary beside it with its share.</summary>
public sealed record ReleaseView(int? PublishedVersion, int? CanaryVersion, double CanaryShare);

/// <summary>One version of an app in a listing.</summary>
public sealed record VersionSummaryView(int Version, VersionState State, string Author, DateTimeOffset CreatedAt, bool NeedsApprover, string PromptVersion);

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
    bool BudgetConfigured,
    int? Version = null,
    VersionState? State = null,
    ReleaseView? Release = null,
    IReadOnlyDictionary<string, bool>? Flags = null,
    IReadOnlyList<VersionSummaryView>? Versions = null,
    IReadOnlyList<PromptPin>? Prompts = null,
    IReadOnlyList<RegressionTestCase>? Tests = null,
    IReadOnlyList<ConnectorRef>? Connectors = null,
    IReadOnlyList<string>? EgressAllowlist = null,
    long ExpectedCallsPerMonth = 0,
    double PromptSampleShare = 0,
    Savings.SavingsSettings? Savings = null,
    Catalog.CatalogRef? Template = null,
    IReadOnlyDictionary<string, string>? Parameters = null,
    IReadOnlyList<Catalog.CatalogRef>? Components = null,
    Catalog.RunLimits? Limits = null,
    Catalog.AppLineage? Lineage = null)
{
    /// <summary>The version whose manifest the view shows: the published one, else the newest.</summary>
    private static AppVersionInfo? Shown(AppInfo app) =>
        app.Versions?.FirstOrDefault(v => v.Version == app.Release?.PublishedVersion) ?? app.Versions?.MaxBy(v => v.Version);

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
        app.Keys.Select(k => new KeyView(k.KeyId, k.Label, k.CreatedAt, k.RevokedAt, k.Kind, k.Holder, k.PinnedVersion)).ToArray(),
        app.CreatedAt,
        budget?.SpentUsd ?? 0m,
        budget?.ReservedUsd ?? 0m,
        budget?.LimitUsd ?? 0m,
        budget?.Configured ?? false,
        Shown(app)?.Version,
        Shown(app)?.State,
        app.Release is { } r ? new ReleaseView(r.PublishedVersion, r.CanaryVersion, r.CanaryShare) : null,
        app.Flags ?? new Dictionary<string, bool>(),
        (app.Versions ?? []).Select(VersionView.Summary).ToArray(),
        app.Manifest.Prompts ?? [],
        app.Manifest.Tests ?? [],
        app.Manifest.Connectors ?? [],
        app.Manifest.EgressAllowlist ?? [],
        app.Manifest.ExpectedCallsPerMonth,
        app.Manifest.PromptSampleShare,
        app.Manifest.Savings,
        app.Manifest.Template,
        app.Manifest.Parameters ?? new Dictionary<string, string>(),
        app.Manifest.Components ?? [],
        app.Manifest.Limits,
        app.Manifest.Lineage);
}

/// <summary>One version in full: its manifest, gates, approval and history.</summary>
public sealed record VersionView(
    string AppId,
    int Version,
    VersionState State,
    string Author,
    DateTimeOffset CreatedAt,
    bool NeedsApprover,
    AppManifest Manifest,
    IReadOnlyList<GateResult> Gates,
    ApprovalDecision? Approval,
    IReadOnlyList<VersionTransition> History)
{
    public static VersionView From(string appId, AppVersionInfo v) =>
        new(appId, v.Version, v.State, v.Author, v.CreatedAt, v.NeedsApprover, v.Manifest, v.Gates, v.Approval, v.History);

    public static VersionSummaryView Summary(AppVersionInfo v) =>
        new(v.Version, v.State, v.Author, v.CreatedAt, v.NeedsApprover, v.Manifest.PromptVersion);
}

/// <summary>Body of <c>POST /admin/apps/{appId}/versions/{version}/canary</c>; <c>share</c> defaults to Lifecycle:DefaultCanaryShare.</summary>
public sealed record CanaryBody(double? Share = null);

/// <summary>Body of <c>POST /admin/apps/{appId}/rollback</c>.</summary>
public sealed record RollbackBody(string? Reason = null);

/// <summary>Body of <c>PUT /admin/apps/{appId}/flags/{name}</c>.</summary>
public sealed record FlagBody(bool? Enabled = null);

/// <summary>Body of <c>POST /admin/apps/{appId}/test-keys</c>; <c>version</c> pins the key (else it follows the newest unreleased version).</summary>
public sealed record TestKeyBody(string? Label = null, int? Version = null);

/// <summary>A newly issued test key; <c>apiKey</c> is shown once.</summary>
public sealed record TestKeyView(string KeyId, string ApiKey, DateTimeOffset CreatedAt, KeyKind Kind, string Holder, int? PinnedVersion);

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
    int ReservationsInFlight,
    IReadOnlyList<decimal>? Thresholds = null,
    bool DefaultThresholds = true,
    string OnExceeded = "throttle",
    NotifyView? Notify = null,
    decimal? PendingLimitUsd = null,
    double Utilisation = 0,
    DateTimeOffset? ReachedLimitAt = null,
    bool SoftShutdown = false,
    IReadOnlyList<decimal>? RaisedThresholds = null,
    DateTimeOffset? AcknowledgedAt = null,
    string? AcknowledgedBy = null)
{
    public static BudgetView From(BudgetSnapshot b) =>
        new(b.BudgetId, b.Configured, b.LimitUsd, b.Period, b.PeriodStart, b.SpentUsd, b.ReservedUsd, b.AvailableUsd, b.ReservationsInFlight,
            b.Thresholds, b.DefaultThresholds, AdminQuery.NameOf(b.OnExceeded), new NotifyView(b.Notify.WebhookUrl, b.Notify.Emails),
            b.PendingLimitUsd, b.Utilisation, b.ReachedLimitAt, b.SoftShutdown, b.RaisedThresholds, b.AcknowledgedAt, b.AcknowledgedBy);
}

/// <summary>A budget's notification targets as admins see them.</summary>
public sealed record NotifyView(string? WebhookUrl, IReadOnlyList<string> Emails);
