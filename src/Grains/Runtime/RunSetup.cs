using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Runtime;

/// <summary>
/// What a run of an app needs before its first step: the version the caller's key reaches, the template as resolved
/// (safe patches applied), the parameters with defaults, the capped limits and the resolved components.
/// </summary>
public sealed record RunSetup(
    ServedManifest Served,
    CatalogEntry Template,
    IReadOnlyDictionary<string, string> Parameters,
    RunLimits Limits,
    IReadOnlyList<ChatTurn> SharedPrompts,
    IReadOnlyList<CatalogEntry> Chains)
{
    /// <summary>Longest run id: <c>run/{RunId}/{step}</c> must stay within the governed call's request-id limit.</summary>
    public const int MaxRunIdLength = 64;

    /// <summary>
    /// Resolves what the caller's key reaches of <paramref name="appId"/>, or the refusal: a malformed key or a key of
    /// another app (401), an unknown app (404), a suspended or retired app (403), an invalid or revoked key (401), an
    /// app without a template (403 <c>not_a_hosted_app</c>), a template or component missing from the catalog (403).
    /// </summary>
    public static async Task<(RunSetup? Setup, AppRunResult? Failure)> PrepareAsync(
        IGrainFactory grains, RuntimeOptions options, string appId, AppRunRequest request)
    {
        var runId = request.RunId ?? "";
        AppRunResult Refuse(RunOutcome outcome, string code, string message, string? param = null) =>
            AppRunResult.Failure(outcome, runId, code, message, param);

        if (!IsValidRunId(runId))
        {
            return (null, Refuse(RunOutcome.InvalidRequest, "invalid_run_id",
                $"the run id must be 1-{MaxRunIdLength} characters of letters, digits and '.', '_', ':', '-'", "runId"));
        }

        if (!ApiKeys.TryParse(request.ApiKey, out var keyApp, out var keyId, out var secret))
        {
            return (null, Refuse(RunOutcome.Unauthorized, "invalid_api_key", "The API key is malformed; app keys look like mak.{appId}.{keyId}.{secret}."));
        }

        if (!string.Equals(keyApp, appId, StringComparison.Ordinal))
        {
            return (null, Refuse(RunOutcome.Unauthorized, "invalid_api_key", $"The API key is not a key of app '{appId}'."));
        }

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        var served = await app.ResolveManifestAsync(keyId, secret, request.User ?? runId);
        if (served is null)
        {
            var info = await app.GetAsync();
            return (null, info switch
            {
                null => Refuse(RunOutcome.NotFound, "app_not_found", $"There is no app '{appId}'."),
                { Lifecycle: not AppLifecycle.Active } => Refuse(RunOutcome.Forbidden, "app_" + info.Lifecycle.ToString().ToLowerInvariant(),
                    $"App '{appId}' is {info.Lifecycle.ToString().ToLowerInvariant()}."),
                _ => Refuse(RunOutcome.Unauthorized, "invalid_api_key",
                    "The API key is not valid, was revoked, or reaches no released version of the app."),
            });
        }

        var manifest = served.Manifest;
        if (manifest.Template is not { } templateRef)
        {
            return (null, Refuse(RunOutcome.Forbidden, "not_a_hosted_app",
                $"App '{appId}' (version {served.Version}) has no template, so the hosted runtime cannot run it; call /v1/chat/completions instead."));
        }

        var catalog = grains.GetGrain<ICatalogGrain>("default");
        var template = await catalog.ResolveAsync(CatalogKind.Template, templateRef);
        if (template is null)
        {
            return (null, Refuse(RunOutcome.Forbidden, "template_not_runnable", $"The template {templateRef} of app '{appId}' is not in the catalog."));
        }

        var parameters = TemplateParameters.WithDefaults(template.Parameters, manifest.Parameters);
        var limits = options.Cap(manifest.Limits ?? BuiltInCatalog.DefaultLimits(template.Name));

        var prompts = new List<ChatTurn>();
        var chains = new List<CatalogEntry>();
        foreach (var component in manifest.Components ?? [])
        {
            if (await catalog.ResolveAsync(CatalogKind.Prompt, component) is { } prompt)
            {
                prompts.Add(new ChatTurn("system", CatalogComponents.Fill(prompt.Text, parameters)));
            }
            else if (await catalog.ResolveAsync(CatalogKind.Chain, component) is { } chain)
            {
                chains.Add(chain);
            }
            else
            {
                return (null, Refuse(RunOutcome.Forbidden, "component_not_found",
                    $"The component {component} of app '{appId}' is neither a prompt nor a chain in the catalog."));
            }
        }

        return (new RunSetup(served, template, parameters, limits, prompts, chains), null);
    }

    /// <summary>
    /// <paramref name="id"/> cut to <paramref name="maxLength"/>: as it is when it fits, else its start, '~' and 12 hex
    /// digits of the SHA-256 of the whole id, so ids that differ only past the cut stay distinct.
    /// </summary>
    public static string Fit(string id, int maxLength)
    {
        if (id.Length <= maxLength)
        {
            return id;
        }

        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(id)))[..12];
        return $"{id[..(maxLength - 13)]}~{hash}";
    }

    public static bool IsValidRunId(string? runId) =>
        runId is { Length: > 0 and <= MaxRunIdLength } && runId.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');
}
