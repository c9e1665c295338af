using System.ComponentModel.DataAnnotations;

namespace MicroApps.Orleans.Client;

/// <summary>Settings of the front door (configuration section <c>FrontDoor</c>), validated at start.</summary>
public sealed class FrontDoorOptions
{
    public const string Section = "FrontDoor";

    public const long DefaultMaxRequestBodyBytes = 1024 * 1024;

    /// <summary>Run a silo in this process instead of connecting to a cluster as a client.</summary>
    public bool CoHostSilo { get; set; }

    /// <summary>Bearer token of the admin API. Required: an admin API without a token is not served.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "FrontDoor:AdminToken is required (the bearer token of the admin API).")]
    public string AdminToken { get; set; } = "";

    /// <summary>
    /// Further admin-API principals, each with a role and a bearer token. The <see cref="AdminToken"/> is the
    /// principal <c>admin</c> with the admin role.
    /// </summary>
    public List<AdminPrincipalOptions> Principals { get; set; } = [];

    /// <summary>Largest request body accepted, in bytes (413 above it).</summary>
    [Range(1024, 256L * 1024 * 1024, ErrorMessage = "FrontDoor:MaxRequestBodyBytes must be between 1024 and 268435456.")]
    public long MaxRequestBodyBytes { get; set; } = DefaultMaxRequestBodyBytes;

    /// <summary>How long a request keeps retrying while the cluster is unreachable before answering 503.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00", ErrorMessage = "FrontDoor:ClusterRetryWindow must be between 00:00:00 and 00:05:00.")]
    public TimeSpan ClusterRetryWindow { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Retry-After sent with a 503 when the cluster stayed unreachable.</summary>
    [Range(1, 3600, ErrorMessage = "FrontDoor:ClusterUnavailableRetryAfterSeconds must be between 1 and 3600.")]
    public int ClusterUnavailableRetryAfterSeconds { get; set; } = 5;

    /// <summary>How long the readiness probe waits for its grain call.</summary>
    [Range(typeof(TimeSpan), "00:00:00.1", "00:01:00", ErrorMessage = "FrontDoor:ReadinessTimeout must be between 00:00:00.1 and 00:01:00.")]
    public TimeSpan ReadinessTimeout { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>One admin-API principal (<c>FrontDoor:Principals:N</c>).</summary>
public sealed class AdminPrincipalOptions
{
    /// <summary>Who this is; authors act only on apps whose <c>owner</c> is this name.</summary>
    public string Name { get; set; } = "";

    /// <summary><c>viewer</c>, <c>author</c>, <c>approver</c> or <c>admin</c>.</summary>
    public string Role { get; set; } = "";

    /// <summary>The bearer token this principal presents.</summary>
    public string Token { get; set; } = "";
}
