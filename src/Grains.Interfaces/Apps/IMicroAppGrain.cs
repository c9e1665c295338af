namespace MicroApps.Orleans.Apps;

/// <summary>
/// One micro app (key: app id, lower-case letters, digits and '-'): manifest, lifecycle,
/// salted-hash API keys and quota windows.
/// </summary>
public interface IMicroAppGrain : IGrainWithStringKey
{
    /// <summary>Creates the app. Repeating the same create is a no-op; a different manifest for an existing app is refused.</summary>
    Task<AppInfo> CreateAsync(AppManifest manifest);

    /// <summary>Replaces the manifest of an existing app.</summary>
    Task<AppInfo> UpdateManifestAsync(AppManifest manifest);

    /// <summary>The app, or null when it does not exist.</summary>
    [ReadOnly]
    Task<AppInfo?> GetAsync();

    /// <summary>Issues a key; the returned secret is shown once and only its salted hash is stored.</summary>
    Task<IssuedKey> IssueKeyAsync(string label);

    /// <summary>Revokes a key; true when it existed and was active.</summary>
    Task<bool> RevokeKeyAsync(string keyId);

    Task<AppInfo> SetQuotasAsync(AppQuotas quotas);

    Task<AppInfo> SetLifecycleAsync(AppLifecycle lifecycle);

    [ReadOnly]
    Task<QuotaUsage> GetQuotaUsageAsync();

    /// <summary>Authenticates the key, checks the lifecycle and counts the call against the quotas, in one call.</summary>
    Task<Admission> AdmitAsync(AdmissionRequest request);

    /// <summary>Checks a key without counting a call (for listing models); null when the key or app is not usable.</summary>
    [ReadOnly]
    Task<AppProfile?> AuthenticateAsync(string keyId, string keySecret);

    /// <summary>
    /// The version (with its manifest) the key reaches, split by <paramref name="stickyKey"/> like <see cref="AdmitAsync"/>,
    /// without counting a call: the hosted runtime runs that manifest and governs each model call separately.
    /// Null when the key or app is not usable, or nothing is served to it.
    /// </summary>
    [ReadOnly]
    Task<Runtime.ServedManifest?> ResolveManifestAsync(string keyId, string keySecret, string stickyKey);

    // ---- Versions and lifecycle. Refused transitions throw InvalidOperationException naming the state and what is allowed.

    /// <summary>Creates the app with version 1 as a draft written by <paramref name="author"/>. A repeated identical create is a no-op.</summary>
    Task<AppInfo> CreateDraftAsync(AppManifest manifest, string author);

    /// <summary>Adds a new draft version (the next number) with its own manifest.</summary>
    Task<AppVersionInfo> AddVersionAsync(AppManifest manifest, string author);

    /// <summary>One version, or null when it does not exist.</summary>
    [ReadOnly]
    Task<AppVersionInfo?> GetVersionAsync(int version);

    /// <summary>Draft → Submitted. The promotion grain then runs the gates and records them.</summary>
    Task<AppVersionInfo> SubmitAsync(int version, string actor);

    /// <summary>
    /// Records the gates of a submitted version. Any failed gate returns it to Draft with the reasons. All passed:
    /// an internal app that <paramref name="needsApprover"/> does not flag is approved automatically (with the
    /// tighter auto-approval quotas); otherwise it waits in the approvals queue.
    /// </summary>
    Task<AppVersionInfo> RecordGatesAsync(int version, IReadOnlyList<GateResult> gates, bool needsApprover);

    /// <summary>
    /// An approver approves (Submitted → Approved) or rejects (→ Rejected) a version whose gates passed, with a
    /// (non-empty) comment. The version's author may not decide on it: <see cref="UnauthorizedAccessException"/>.
    /// </summary>
    Task<AppVersionInfo> DecideAsync(int version, string approver, bool approve, string comment);

    /// <summary>
    /// Approved → Canary, taking <paramref name="share"/> (0 &lt; share ≤ 1; NaN for the configured default) of production
    /// callers beside the published version. Called again for the running canary, it only changes the share.
    /// </summary>
    Task<AppInfo> StartCanaryAsync(int version, double share, string actor);

    /// <summary>Approved or Canary → Published; the previously published version becomes Superseded.</summary>
    Task<AppInfo> PromoteAsync(int version, string actor);

    /// <summary>
    /// Rolls back: a canary is withdrawn (→ RolledBack) and production stays on the published version; with no
    /// canary, the published version is rolled back and the last superseded one serves again. Takes effect on the next request.
    /// </summary>
    Task<AppInfo> RollbackAsync(string actor, string reason);

    /// <summary>Sets a per-app feature flag the app reads with its key.</summary>
    Task<AppInfo> SetFeatureFlagAsync(string name, bool enabled);

    /// <summary>The app's feature flags, for a caller holding a valid key; null when the key is not usable.</summary>
    [ReadOnly]
    Task<IReadOnlyDictionary<string, bool>?> GetFlagsAsync(string keyId, string keySecret);

    /// <summary>
    /// Issues a test key (held by <paramref name="holder"/>, the app's author) or a gate key. It serves
    /// <paramref name="pinnedVersion"/>, or the newest unreleased version when null.
    /// </summary>
    Task<IssuedKey> IssueScopedKeyAsync(KeyKind kind, string holder, string label, int? pinnedVersion);

    /// <summary>The app's adaptive premium sampling: current share, bounds and the burn rate it was last adjusted by; null when the app does not exist.</summary>
    [ReadOnly]
    Task<Savings.PremiumShareStatus?> GetPremiumShareAsync();

    /// <summary>Corrects today's token count once the real usage is known.</summary>
    [OneWay]
    Task RecordUsageAsync(long tokensEstimated, long tokensActual);
}

/// <summary>Every app id, for listing (key: 0).</summary>
public interface IAppRegistryGrain : IGrainWithIntegerKey
{
    Task RegisterAsync(string appId);

    [ReadOnly]
    Task<IReadOnlyList<string>> ListAsync();
}
