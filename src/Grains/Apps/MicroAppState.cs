namespace MicroApps.Orleans.Apps;

/// <summary>Stored state of a micro app. Never renumber the ids: stored state depends on them.</summary>
[GenerateSerializer, Alias("microapps.MicroAppState")]
public sealed class MicroAppState
{
    [Id(0)] public bool Exists { get; set; }
    [Id(1)] public AppManifest? Manifest { get; set; }
    [Id(2)] public AppLifecycle Lifecycle { get; set; }
    [Id(3)] public List<StoredKey> Keys { get; set; } = [];
    [Id(4)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Token-per-day window, saved behind admissions (see MicroAppGrain).</summary>
    [Id(5)] public DateOnly TokensDay { get; set; }
    [Id(6)] public long TokensToday { get; set; }
}

/// <summary>An app key as stored: the secret only as a salted SHA-256 hash.</summary>
[GenerateSerializer, Immutable, Alias("microapps.StoredKey")]
public sealed record StoredKey(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Label,
    [property: Id(2)] byte[] Salt,
    [property: Id(3)] byte[] Hash,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? RevokedAt);

[GenerateSerializer, Alias("microapps.AppRegistryState")]
public sealed class AppRegistryState
{
    [Id(0)] public List<string> AppIds { get; set; } = [];
}
