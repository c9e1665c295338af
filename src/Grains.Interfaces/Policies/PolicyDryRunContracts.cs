using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Policies;

/// <summary>A request to judge without making it: what would the policies do to this call of this app?</summary>
/// <param name="AppId">The app whose published manifest supplies the app facts.</param>
/// <param name="Model">Model or tier name as a caller would send it; empty or <c>auto</c> for the app's default tier.</param>
/// <param name="Messages">The messages; they are scanned for PII and counted, never stored.</param>
/// <param name="User">The caller's <c>user</c> (the sticky key for samples); null uses <paramref name="RequestId"/>.</param>
/// <param name="MaxTokens">Output tokens the call would reserve; null for the gateway default.</param>
/// <param name="RequestId">Stands in for the request id when <paramref name="User"/> is null; empty for a fixed <c>dry-run</c>.</param>
[GenerateSerializer, Immutable, Alias("microapps.PolicyDryRunRequest")]
public sealed record PolicyDryRunRequest(
    [property: Id(0)] string AppId,
    [property: Id(1)] string Model,
    [property: Id(2)] IReadOnlyList<ChatTurn> Messages,
    [property: Id(3)] string? User = null,
    [property: Id(4)] int? MaxTokens = null,
    [property: Id(5)] string RequestId = "");

/// <summary>The answer of a dry run.</summary>
/// <param name="Found">False when the app does not exist (then nothing else is set).</param>
/// <param name="Facts">The facts the policies were evaluated against.</param>
/// <param name="Decision">Every matching policy (applied or overridden, with why) and the final decision.</param>
/// <param name="PiiClasses">PII classes found in the messages (names only).</param>
/// <param name="RedactedMessages">The messages as the model would see them when a redact applies; null otherwise.</param>
[GenerateSerializer, Immutable, Alias("microapps.PolicyDryRunResult")]
public sealed record PolicyDryRunResult(
    [property: Id(0)] bool Found,
    [property: Id(1)] PolicyFacts? Facts,
    [property: Id(2)] PolicyDecision? Decision,
    [property: Id(3)] IReadOnlyList<string> PiiClasses,
    [property: Id(4)] IReadOnlyList<ChatTurn>? RedactedMessages);

/// <summary>
/// Evaluates the active policy set against a request that is not made (key: 0; a stateless worker, so dry runs
/// scale with the silos). Nothing is admitted, counted, charged or cached.
/// </summary>
public interface IPolicyDryRunGrain : IGrainWithIntegerKey
{
    Task<PolicyDryRunResult> DryRunAsync(PolicyDryRunRequest request);
}
