namespace MicroApps.Orleans.Apps;

/// <summary>Who a micro app serves; external apps face people outside the organisation.</summary>
public enum Audience
{
    Internal = 0,
    External = 1,
}

/// <summary>
/// Operational state of a micro app as a whole. Only <see cref="Active"/> apps may call models; which
/// version serves is decided by the versions' <see cref="VersionState"/>.
/// </summary>
public enum AppLifecycle
{
    Active = 0,
    Suspended = 1,

    /// <summary>Retired for good: keys are refused and the app serves nothing.</summary>
    Retired = 2,
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
/// <param name="PromptVersion">Version label of the app's prompt, part of the cache key and trace; when <paramref name="Prompts"/> pins registry prompts, the label is derived from the pins.</param>
/// <param name="Prompts">Registry prompts this version pins (<c>name@version</c>); null or empty for none.</param>
/// <param name="Tests">Prompt regression tests run against the app's model before promotion.</param>
/// <param name="Connectors">Connectors the app reads from or writes to, with the hosts they reach.</param>
/// <param name="EgressAllowlist">Hosts the app's connectors may reach (<c>api.example.com</c> or <c>*.example.com</c>); everything else is refused.</param>
/// <param name="ExpectedCallsPerMonth">Expected monthly call volume, for the promotion cost estimate; 0 when unknown.</param>
/// <param name="PromptSampleShare">
/// Share of calls (0 to 1) whose prompt and response go, redacted by the PII scanner, to the searchable prompt store;
/// 0 (the default) keeps only the prompt hash. Apps that declare restricted data classes may opt in too: the text is redacted either way.
/// </param>
/// <param name="Savings">Savings-engine settings (routing, quality SLO, declared task, premium sampling, near-duplicate cache); null for the defaults.</param>
/// <param name="Template">The catalog template the hosted runtime runs for this app (<c>summarizer@1.0.0</c>); null for an app that only calls models itself.</param>
/// <param name="Parameters">The template's parameters as filled in (stored as strings; list items one per line), validated against the template.</param>
/// <param name="Components">Shared prompts and chains from the catalog the app uses (<c>name@version</c>).</param>
/// <param name="Lineage">Where the app came from (pack import, fork, upgrade); null for an app created from nothing.</param>
/// <param name="Limits">Per-run limits of the hosted runtime; null for the template's defaults.</param>
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
    [property: Id(9)] string PromptVersion,
    [property: Id(10)] IReadOnlyList<PromptPin>? Prompts = null,
    [property: Id(11)] IReadOnlyList<RegressionTestCase>? Tests = null,
    [property: Id(12)] IReadOnlyList<ConnectorRef>? Connectors = null,
    [property: Id(13)] IReadOnlyList<string>? EgressAllowlist = null,
    [property: Id(14)] long ExpectedCallsPerMonth = 0,
    [property: Id(15)] double PromptSampleShare = 0,
    [property: Id(16)] Savings.SavingsSettings? Savings = null,
    [property: Id(17)] Catalog.CatalogRef? Template = null,
    [property: Id(18)] IReadOnlyDictionary<string, string>? Parameters = null,
    [property: Id(19)] IReadOnlyList<Catalog.CatalogRef>? Components = null,
    [property: Id(20)] Catalog.AppLineage? Lineage = null,
    [property: Id(21)] Catalog.RunLimits? Limits = null);

/// <summary>A registry prompt pinned by an app version.</summary>
[GenerateSerializer, Immutable, Alias("microapps.PromptPin")]
public sealed record PromptPin(
    [property: Id(0)] string Name,
    [property: Id(1)] int Version)
{
    public override string ToString() => $"{Name}@{Version}";
}

/// <summary>
/// One assertion of a prompt regression test. <see cref="Kind"/> is one of <c>contains</c>, <c>not_contains</c>,
/// <c>regex</c>, <c>json_schema</c>, <c>max_tokens</c>, <c>max_cost_usd</c>; <see cref="Value"/> is its argument
/// (text, pattern, schema JSON, or a number).
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.RegressionAssertion")]
public sealed record RegressionAssertion(
    [property: Id(0)] string Kind,
    [property: Id(1)] string Value);

/// <summary>A prompt regression test: a user input, sent after the app's pinned prompts, and what the answer must satisfy.</summary>
/// <param name="Name">Test name, unique within the app version.</param>
/// <param name="Input">The user message.</param>
/// <param name="Assertions">Every one must hold.</param>
/// <param name="Model">Model or tier to run against; empty means the app's default tier.</param>
[GenerateSerializer, Immutable, Alias("microapps.RegressionTestCase")]
public sealed record RegressionTestCase(
    [property: Id(0)] string Name,
    [property: Id(1)] string Input,
    [property: Id(2)] IReadOnlyList<RegressionAssertion> Assertions,
    [property: Id(3)] string Model = "");

/// <summary>
/// A connector an app uses: its name within the app, the host it reaches, and the data classes it returns; with
/// <paramref name="Use"/> the catalog connector that implements it (<c>http-json@1.0.0</c>) and its settings.
/// </summary>
/// <param name="Name">The app's name for it (what a run or a template parameter refers to).</param>
/// <param name="Host">Host it reaches; must be inside the app's egress allowlist.</param>
/// <param name="DataClasses">Data classes it returns.</param>
/// <param name="Use">The catalog connector (<c>http-json</c>, <c>azure-blob</c>, <c>webhook</c> at a version); null for a declared-only connector the runtime cannot call.</param>
/// <param name="Settings">The connector's parameters as filled in (e.g. <c>baseUrl</c>, <c>container</c>), validated against the catalog entry.</param>
[GenerateSerializer, Immutable, Alias("microapps.ConnectorRef")]
public sealed record ConnectorRef(
    [property: Id(0)] string Name,
    [property: Id(1)] string Host,
    [property: Id(2)] IReadOnlyList<string> DataClasses,
    [property: Id(3)] Catalog.CatalogRef? Use = null,
    [property: Id(4)] IReadOnlyDictionary<string, string>? Settings = null);

/// <summary>A key as listed to admins: never the secret, only its public id and prefix.</summary>
[GenerateSerializer, Immutable, Alias("microapps.KeySummary")]
public sealed record KeySummary(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Label,
    [property: Id(2)] DateTimeOffset CreatedAt,
    [property: Id(3)] DateTimeOffset? RevokedAt,
    [property: Id(4)] KeyKind Kind = KeyKind.Production,
    [property: Id(5)] string Holder = "",
    [property: Id(6)] int? PinnedVersion = null);

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
    [property: Id(5)] string EffectiveBudgetId,
    [property: Id(6)] AppRelease? Release = null,
    [property: Id(7)] IReadOnlyList<AppVersionInfo>? Versions = null,
    [property: Id(8)] IReadOnlyDictionary<string, bool>? Flags = null);

/// <summary>What the governed call asks of an app before anything is spent.</summary>
/// <param name="KeyId">Key id parsed from the presented API key.</param>
/// <param name="KeySecret">Secret part of the presented API key, checked against the salted hash.</param>
/// <param name="TokensEstimate">Tokens the call is expected to use (input plus reserved output).</param>
/// <param name="StickyKey">What keeps a caller on one side of a canary split: the request's <c>user</c>, else its request id.</param>
/// <param name="PolicyQuotas">Quotas the active policy set gives this app, or null when it says nothing.</param>
[GenerateSerializer, Immutable, Alias("microapps.AdmissionRequest")]
public sealed record AdmissionRequest(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string KeySecret,
    [property: Id(2)] long TokensEstimate,
    [property: Id(3)] string StickyKey = "",
    [property: Id(4)] PolicyQuotas? PolicyQuotas = null);

/// <summary>
/// Quotas from the policy set (<c>quotas:</c>). A per-app override replaces the app's own quotas; the default is
/// a ceiling on them (each limit separately; 0 means no limit).
/// </summary>
[GenerateSerializer, Immutable, Alias("microapps.PolicyQuotas")]
public sealed record PolicyQuotas(
    [property: Id(0)] AppQuotas Quotas,
    [property: Id(1)] bool IsAppOverride);

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

    /// <summary>A production key was used but no version is published or in canary.</summary>
    NotPublished = 7,
}

/// <summary>The slice of an app's manifest the governed call needs, returned with an admission.</summary>
/// <remarks>
/// <c>PromptSampleShare</c> is the manifest's share of calls sampled to the redacted prompt store (0 = none).
/// <c>Savings</c> is the manifest's savings settings; <c>PremiumShare</c> is the app's current adaptive share of
/// premium requests that stay on premium (null when the app has no premium sampling).
/// </remarks>
[GenerateSerializer, Immutable, Alias("microapps.AppProfile")]
public sealed record AppProfile(
    [property: Id(0)] string AppId,
    [property: Id(1)] string Team,
    [property: Id(2)] Audience Audience,
    [property: Id(3)] IReadOnlyList<string> DataClasses,
    [property: Id(4)] IReadOnlyList<string> AllowedTiers,
    [property: Id(5)] string DefaultTier,
    [property: Id(6)] string BudgetId,
    [property: Id(7)] string PromptVersion,
    [property: Id(8)] int Version = 1,
    [property: Id(9)] ReleaseChannel Channel = ReleaseChannel.Published,
    [property: Id(10)] string Owner = "",
    [property: Id(11)] double PromptSampleShare = 0,
    [property: Id(12)] Savings.SavingsSettings? Savings = null,
    [property: Id(13)] double? PremiumShare = null);

/// <summary>Which side of the app's release a call was served by.</summary>
public enum ReleaseChannel
{
    Published = 0,
    Canary = 1,

    /// <summary>An unreleased version, reached only with its author's test key (or a promotion gate's key).</summary>
    Test = 2,
}

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
