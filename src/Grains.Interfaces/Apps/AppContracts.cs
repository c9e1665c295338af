namespace MicroApps.Orleans.Apps;

/// <summary>Who a micro app serves; external apps face people outside the organisation.</summary>
public enum Audience
{
    Internal = 0,
    External = 1,
}

/// <summary>Lifecycle state of a micro app. Only <see cref="Active"/> apps may call models.</summary>
public enum AppLifecycle
{
    Active = 0,
    Suspended = 1,
}

/// <summary>Per-app limits enforced by the app's grain before any spend is reserved.</summary>
/// <param name="RequestsPerMinute">Model calls admitted per calendar minute (UTC); 0 means no limit.</param>
/// <param name="TokensPerDay">Tokens admitted per UTC day, counted by estimate at admission and corrected by the real usage; 0 means no limit.</param>
[GenerateSerializer, Immutable, Alias("microapps.AppQuotas")]
public sealed record AppQuotas(
    [property: Id(0)] int RequestsPerMinute,
    [property: Id(1)] long TokensPerDay)
{
    public static AppQuotas Default { get; } = new(60, 200_000);
}

/// <summary>What a citizen developer declares about an app; the platform governs calls by it.</summary>
/// <param name="Name">Display name.</param>
/// <param name="Owner">Person accountable for the app.</param>
/// <param name="Team">Owning team; team budgets are shared by id.</param>
/// <param name="Audience">Internal or external users.</param>
/// <param name="DataClasses">Data the app handles, e.g. <c>email</c>, <c>ssn</c>, <c>phone</c>.</param>
/// <param name="AllowedTiers">Model tiers the app may use (e.g. <c>local</c>, <c>standard</c>).</param>
/// <param name="DefaultTier">Tier used when a request names no model or names <c>auto</c>.</param>
/// <param name="Quotas">Request and token quotas.</param>
/// <param name="BudgetId">Budget charged for the app's calls; empty means the app's own budget <c>app:{appId}</c>.</param>
/// <param name="PromptVersion">Version label of the app's prompt, part of the cache key and trace.</param>
[GenerateSerializer, Immutable, Alias("microapps.AppManifest")]
public sealed record AppManifest(
    [property: Id(0)] string Name,
    [property: Id(1)] string Owner,
    [property: Id(2)] string Team,
    [property: Id(3)] Audience Audience,
    [property: Id(4)] IReadOnlyList<string> DataClasses,
    [property: Id(5)] IReadOnlyList<string> AllowedTiers,
    [property: Id(6)] string DefaultTier,
    [property: Id(7)] AppQuotas Quotas,
    [property: Id(8)] string BudgetId,
    [property: Id(9)] string PromptVersion);

/// <summary>A key as listed to admins: never the secret, only its public id and prefix.</summary>
[GenerateSerializer, Immutable, Alias("microapps.KeySummary")]
public sealed record KeySummary(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Label,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset? RevokedAt);

/// <summary>A newly issued key. <see cref="ApiKey"/> is shown once and never stored in clear.</summary>
[GenerateSerializer, Immutable, Alias("microapps.IssuedKey")]
public sealed record IssuedKey(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string ApiKey,
    [property: Id(2)] DateTimeOffset CreatedAt);

/// <summary>An app as the admin API shows it.</summary>
[GenerateSerializer, Immutable, Alias("microapps.AppInfo")]
public sealed record AppInfo(
    [property: Id(0)] string AppId,
    [property: Id(1)] AppManifest Manifest,
    [property: Id(2)] AppLifecycle Lifecycle,
    [property: Id(3)] IReadOnlyList<KeySummary> Keys,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] string EffectiveBudgetId);

/// <summary>What the governed call asks of an app before anything is spent.</summary>
/// <param name="KeyId">Key id parsed from the presented API key.</param>
/// <param name="KeySecret">Secret part of the presented API key, checked against the salted hash.</param>
/// <param name="TokensEstimate">Tokens the call is expected to use (input plus reserved output).</param>
[GenerateSerializer, Immutable, Alias("microapps.AdmissionRequest")]
public sealed record AdmissionRequest(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string KeySecret,
    [property: Id(2)] long TokensEstimate);

/// <summary>Why an admission was or was not granted.</summary>
public enum AdmissionOutcome
{
    Admitted = 0,
    UnknownApp = 1,
    InvalidKey = 2,
    RevokedKey = 3,
    Suspended = 4,
    RequestRateExceeded = 5,
    TokenQuotaExceeded = 6,
}

/// <summary>The slice of an app's manifest the governed call needs, returned with an admission.</summary>
[GenerateSerializer, Immutable, Alias("microapps.AppProfile")]
public sealed record AppProfile(
    [property: Id(0)] string AppId,
    [property: Id(1)] string Team,
    [property: Id(2)] Audience Audience,
    [property: Id(3)] IReadOnlyList<string> DataClasses,
    [property: Id(4)] IReadOnlyList<string> AllowedTiers,
    [property: Id(5)] string DefaultTier,
    [property: Id(6)] string BudgetId,
    [property: Id(7)] string PromptVersion);

/// <summary>Answer to <see cref="IMicroAppGrain.AdmitAsync"/>.</summary>
[GenerateSerializer, Immutable, Alias("microapps.Admission")]
public sealed record Admission(
    [property: Id(0)] AdmissionOutcome Outcome,
    [property: Id(1)] string Message,
    [property: Id(2)] TimeSpan? RetryAfter,
    [property: Id(3)] AppProfile? Profile)
{
    public bool IsAdmitted => Outcome == AdmissionOutcome.Admitted;
}

/// <summary>Quota usage as the admin API shows it.</summary>
[GenerateSerializer, Immutable, Alias("microapps.QuotaUsage")]
public sealed record QuotaUsage(
    [property: Id(0)] int RequestsThisMinute,
    [property: Id(1)] long TokensToday,
    [property: Id(2)] AppQuotas Quotas);
