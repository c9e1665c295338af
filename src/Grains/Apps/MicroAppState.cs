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

    /// <summary>Every version, oldest first; version numbers start at 1 and are never reused.</summary>
    [Id(7)] public List<StoredVersion> Versions { get; set; } = [];

    /// <summary>The version serving production keys; null before the first publication.</summary>
    [Id(8)] public int? PublishedVersion { get; set; }

    /// <summary>The version taking <see cref="CanaryShare"/> of production callers; null when none.</summary>
    [Id(9)] public int? CanaryVersion { get; set; }

    [Id(10)] public double CanaryShare { get; set; }

    /// <summary>Per-app feature flags the app reads with its key.</summary>
    [Id(11)] public Dictionary<string, bool> Flags { get; set; } = [];

    /// <summary>Adaptive premium sampling; saved behind admissions like the token counter (see MicroAppGrain). Null before the first adjustment.</summary>
    [Id(12)] public StoredPremiumShare? PremiumShare { get; set; }
}

/// <summary>An app's premium share and the budget reading of its last adjustment.</summary>
[GenerateSerializer, Alias("microapps.StoredPremiumShare")]
public sealed class StoredPremiumShare
{
    [Id(0)] public double Share { get; set; }
    [Id(1)] public DateTimeOffset AdjustedAt { get; set; }
    [Id(2)] public double? BurnRatio { get; set; }
    [Id(3)] public double SpentShare { get; set; }
    [Id(4)] public double ElapsedShare { get; set; }
}

/// <summary>One version of an app as stored. Its manifest changes only by admin quota changes and auto-approval.</summary>
[GenerateSerializer, Alias("microapps.StoredVersion")]
public sealed class StoredVersion
{
    [Id(0)] public int Number { get; set; }
    [Id(1)] public AppManifest Manifest { get; set; } = null!;
    [Id(2)] public VersionState State { get; set; }
    [Id(3)] public string Author { get; set; } = "";
    [Id(4)] public DateTimeOffset CreatedAt { get; set; }
    [Id(5)] public List<GateResult> Gates { get; set; } = [];
    [Id(6)] public ApprovalDecision? Approval { get; set; }
    [Id(7)] public List<VersionTransition> History { get; set; } = [];
    [Id(8)] public bool NeedsApprover { get; set; }
    [Id(9)] public DateTimeOffset? SubmittedAt { get; set; }
}

/// <summary>An app key as stored: the secret only as a salted SHA-256 hash.</summary>
[GenerateSerializer, Immutable, Alias("microapps.StoredKey")]
public sealed record StoredKey(
    [property: Id(0)] string KeyId,
    [property: Id(1)] string Label,
    [property: Id(2)] byte[] Salt,
    [property: Id(3)] byte[] Hash,
    [property: Id(4)] DateTimeOffset CreatedAt,
    [property: Id(5)] DateTimeOffset? RevokedAt,
    [property: Id(6)] KeyKind Kind = KeyKind.Production,
    [property: Id(7)] string Holder = "",
    [property: Id(8)] int? PinnedVersion = null);

[GenerateSerializer, Alias("microapps.AppRegistryState")]
public sealed class AppRegistryState
{
    [Id(0)] public List<string> AppIds { get; set; } = [];
}
