using System.Security.Cryptography;
using System.Text;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Policies;

/// <summary>Stored state of the policy set. Never renumber the ids: stored state depends on them.</summary>
[GenerateSerializer, Alias("microapps.PolicySetState")]
public sealed class PolicySetState
{
    /// <summary>Accepted versions, oldest first; the last one is active.</summary>
    [Id(0)] public List<PolicySetVersion> Versions { get; set; } = [];

    /// <summary>Highest version number ever given, so numbers are never reused after old versions are dropped.</summary>
    [Id(1)] public int LastVersion { get; set; }
}

/// <summary>
/// The organisation's policy set: every accepted version of the YAML, the latest active. A new document is parsed
/// and validated (including that routed tiers exist) before it is stored; an invalid one changes nothing.
/// Publishing the same content as the active version is answered with that version, so a retried publish does
/// not create a second one.
/// </summary>
public sealed class PolicySetGrain(
    [PersistentState("policies", "store")] IPersistentState<PolicySetState> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    ModelCatalog catalog,
    ILogger<PolicySetGrain> logger) : Grain, IPolicySetGrain
{
    /// <summary>Versions kept; older ones are dropped (the active one is always the newest).</summary>
    public const int MaxVersionsKept = 100;

    private CompiledPolicySet? _compiled;

    public async Task<PolicyPublishResult> PublishAsync(string yaml, string author, string comment)
    {
        var active = Active;
        var parsed = PolicyParser.Parse(yaml, catalog.TierNames);
        if (!parsed.IsValid)
        {
            return new PolicyPublishResult(false, active?.Version ?? 0, parsed.Errors);
        }

        var hash = ContentHash(yaml);
        if (active is not null && active.ContentHash == hash)
        {
            return new PolicyPublishResult(true, active.Version, []);
        }

        var version = new PolicySetVersion(state.State.LastVersion + 1, yaml, author ?? "", comment ?? "", time.GetUtcNow(), hash);
        state.State.Versions.Add(version);
        state.State.LastVersion = version.Version;
        if (state.State.Versions.Count > MaxVersionsKept)
        {
            state.State.Versions.RemoveRange(0, state.State.Versions.Count - MaxVersionsKept);
        }

        await state.WriteStateAsync();
        _compiled = new CompiledPolicySet(version.Version, parsed.Document!, hash);
        logger.LogInformation("Policy set version {Version} published by {Author}", version.Version, author);
        return new PolicyPublishResult(true, version.Version, []);
    }

    public Task<PolicySetVersion?> GetActiveAsync() => Task.FromResult(Active);

    public Task<IReadOnlyList<PolicySetVersion>> ListVersionsAsync() =>
        Task.FromResult<IReadOnlyList<PolicySetVersion>>(state.State.Versions.ToArray());

    public Task<PolicyDecision> EvaluateAsync(PolicyFacts facts) => Task.FromResult(Compiled.Evaluate(facts));

    private PolicySetVersion? Active => state.State.Versions.Count == 0 ? null : state.State.Versions[^1];

    private CompiledPolicySet Compiled
    {
        get
        {
            var active = Active;
            if (active is null)
            {
                return CompiledPolicySet.None;
            }

            if (_compiled?.Version != active.Version)
            {
                // Tiers are not checked again: a version accepted once stays usable if a tier is later removed.
                _compiled = CompiledPolicySet.Compile(active);
            }

            return _compiled;
        }
    }

    /// <summary>SHA-256 of the document with line endings normalised, lower-case hex.</summary>
    public static string ContentHash(string yaml) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(yaml.ReplaceLineEndings("\n"))));
}
