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
