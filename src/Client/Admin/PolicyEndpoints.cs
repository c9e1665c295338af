using System.Text;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Policies;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>
/// Policy-as-code under <c>/admin/policies</c>: publish a new version of the YAML (admins), read the active version
/// and the history, and dry-run a request against the active version (everyone with an admin token).
/// </summary>
internal static class PolicyEndpoints
{
    /// <summary>Media types a policy document may be sent as.</summary>
    public static readonly string[] YamlMediaTypes = ["text/yaml", "application/yaml", "application/x-yaml", "text/plain"];

    private const string Target = "policy:" + PolicySetCache.PolicySetKey;
    private const int MaxCommentLength = 500;
    private const int MaxDryRunMessages = 256;

    internal static void MapPolicyEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapPut("/policies", PublishAsync)
            .WithName("PublishPolicies").AllowRoles(AdminRole.Admin)
            .WithSummary("Validates the YAML policy document (body: text/yaml, application/yaml, application/x-yaml or text/plain) and, when valid, makes it the active version.")
            .Produces<PolicyVersionView>()
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);

        admin.MapGet("/policies", GetActiveAsync)
            .WithName("GetPolicies").AllowRoles(AdminAccess.Everyone)
            .WithSummary("The active policy set version with its YAML.")
            .Produces<PolicyVersionView>().ProducesProblem(StatusCodes.Status404NotFound);

        admin.MapGet("/policies/versions", ListVersionsAsync)
            .WithName("ListPolicyVersions").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Every kept version of the policy set, oldest first.")
            .Produces<PolicyVersionView[]>();

        admin.MapPost("/policies/dry-run", DryRunAsync)
            .WithName("DryRunPolicies").AllowRoles(AdminAccess.Everyone)
            .WithSummary("What the active policies would do to this request of this app: every matching policy and the decision.")
            .Accepts<PolicyDryRunBody>("application/json")
            .Produces<PolicyDryRunView>().ProducesValidationProblem().ProducesProblem(StatusCodes.Status404NotFound);
    }

    // The body's media type is checked here rather than declared with Accepts(): routing would answer 415 to a
    // caller without a valid token before the admin filter could answer 401/403.
    internal static async Task<IResult> PublishAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster, string? comment = null)
    {
        var mediaType = context.Request.ContentType?.Split(';')[0].Trim() ?? "";
        if (!YamlMediaTypes.Contains(mediaType, StringComparer.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(
                title: "Unsupported media type",
                detail: $"Send the policy document as YAML text: Content-Type one of {string.Join(", ", YamlMediaTypes)} (got '{context.Request.ContentType}').",
                statusCode: StatusCodes.Status415UnsupportedMediaType);
        }

        comment = comment?.Trim() ?? "";
        if (comment.Length > MaxCommentLength)
        {
            return AdminJson.Invalid("comment", $"At most {MaxCommentLength} characters.");
        }

        string yaml;
        try
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            yaml = await reader.ReadToEndAsync(context.RequestAborted);
        }
        catch (BadHttpRequestException ex)
        {
            return TypedResults.Problem(title: "Bad request body", detail: ex.Message, statusCode: ex.StatusCode);
        }

        var principal = context.AdminPrincipal();
        var policySet = grains.GetGrain<IPolicySetGrain>(PolicySetCache.PolicySetKey);

        // Publishing the same content twice answers the same version, so a retried call is safe.
        var result = await cluster.RunAsync(_ => new ValueTask<PolicyPublishResult>(policySet.PublishAsync(yaml, principal.Name, comment)), context.RequestAborted);
        if (!result.Accepted)
        {
            var first = result.Errors.Count == 0 ? "invalid" : $"line {result.Errors[0].Line}, column {result.Errors[0].Column}: {result.Errors[0].Message.TrimEnd('.')}";
            await context.AuditAsync(grains, "policy.refused", Target, $"{result.Errors.Count} error(s), first at {first}; version {result.ActiveVersion} stays active");
            return TypedResults.Problem(
                title: "Invalid policy document",
                detail: $"The document has {result.Errors.Count} error(s); first at {first}. Version {result.ActiveVersion} stays active.",
                statusCode: StatusCodes.Status422UnprocessableEntity,
                extensions: new Dictionary<string, object?>
                {
                    ["errors"] = result.Errors.Select(e => new PolicyErrorView(e.Line, e.Column, e.Message)).ToArray(),
                    ["activeVersion"] = result.ActiveVersion,
                });
        }

        var versions = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<PolicySetVersion>>(policySet.ListVersionsAsync()), context.RequestAborted);
        var published = versions.First(v => v.Version == result.ActiveVersion);
        var reason = comment.Length == 0 ? $"version {published.Version}" : $"version {published.Version}: {comment}";
        await context.AuditAsync(grains, "policy.published", Target, reason);
        return TypedResults.Ok(PolicyVersionView.From(published, result.ActiveVersion));
    }

    internal static async Task<IResult> GetActiveAsync(IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var policySet = grains.GetGrain<IPolicySetGrain>(PolicySetCache.PolicySetKey);
        var active = await cluster.RunAsync(_ => new ValueTask<PolicySetVersion?>(policySet.GetActiveAsync()), cancellationToken);
        return active is null
            ? TypedResults.Problem(title: "No policy set", detail: "No policy set has been published yet; every call is allowed by default.", statusCode: StatusCodes.Status404NotFound)
            : TypedResults.Ok(PolicyVersionView.From(active, active.Version));
    }

    internal static async Task<IResult> ListVersionsAsync(IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var policySet = grains.GetGrain<IPolicySetGrain>(PolicySetCache.PolicySetKey);
        var versions = await cluster.RunAsync(_ => new ValueTask<IReadOnlyList<PolicySetVersion>>(policySet.ListVersionsAsync()), cancellationToken);
        var active = versions.Count == 0 ? 0 : versions[^1].Version;
        return TypedResults.Ok(versions.Select(v => PolicyVersionView.From(v, active)).ToArray());
    }

    internal static async Task<IResult> DryRunAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var read = await AdminJson.ReadAsync<PolicyDryRunBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var body = read.Value!;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        if (!ApiKeys.IsValidAppId(body.AppId))
        {
            errors["appId"] = ["Must be 3–40 characters of lower-case letters, digits and '-', not starting or ending with '-'."];
        }

        if (body.Messages is not { Length: > 0 })
        {
            errors["messages"] = ["At least one message {role, content} is required."];
        }
        else if (body.Messages.Length > MaxDryRunMessages)
        {
            errors["messages"] = [$"At most {MaxDryRunMessages} messages."];
        }
        else
        {
            for (var i = 0; i < body.Messages.Length; i++)
            {
                var message = body.Messages[i];
                if (message is null || !ChatRequestRules.Roles.Contains(message.Role ?? ""))
                {
                    errors[$"messages[{i}].role"] = [$"Must be one of {ChatRequestRules.RolesText}."];
                }
                else if (message.Content is null)
                {
                    errors[$"messages[{i}].content"] = ["Required."];
                }
            }
        }

        if (body.MaxTokens is <= 0)
        {
            errors["maxTokens"] = ["Must be positive."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var request = new PolicyDryRunRequest(
            body.AppId!,
            body.Model?.Trim() ?? "",
            body.Messages!.Select(m => new ChatTurn(m!.Role!, m.Content!)).ToArray(),
            string.IsNullOrWhiteSpace(body.User) ? null : body.User.Trim(),
            body.MaxTokens);
        var dryRun = grains.GetGrain<IPolicyDryRunGrain>(0);
        var result = await cluster.RunAsync(_ => new ValueTask<PolicyDryRunResult>(dryRun.DryRunAsync(request)), context.RequestAborted);
        if (!result.Found)
        {
            return TypedResults.Problem(title: "App not found", detail: $"No app is named '{body.AppId}'.", statusCode: StatusCodes.Status404NotFound);
        }

        return TypedResults.Ok(PolicyDryRunView.From(body.AppId!, result));
    }
}

/// <summary>Body of <c>POST /admin/policies/dry-run</c>.</summary>
public sealed record PolicyDryRunBody(string? AppId, string? Model, DryRunMessage?[]? Messages, string? User, int? MaxTokens);

/// <summary>One message of a dry run.</summary>
public sealed record DryRunMessage(string? Role, string? Content);

/// <summary>Where and what is wrong in a refused policy document.</summary>
public sealed record PolicyErrorView(int Line, int Column, string Message);

/// <summary>One version of the policy set.</summary>
public sealed record PolicyVersionView(int Version, bool Active, string Author, string Comment, DateTimeOffset CreatedAt, string ContentHash, string Yaml)
{
    public static PolicyVersionView From(PolicySetVersion v, int activeVersion) =>
        new(v.Version, v.Version == activeVersion, v.Author, v.Comment, v.CreatedAt, v.ContentHash, v.Yaml);
}

/// <summary>One matching policy, applied or overridden by a policy of higher precedence.</summary>
public sealed record PolicyMatchView(string PolicyId, string Description, string Action, string? Tier, bool Applied, string Why);

/// <summary>The combined outcome.</summary>
public sealed record PolicyDecisionView(int PolicyVersion, string Summary, bool Blocked, string? BlockedBy, string? RouteTier, bool Redact, bool RequiresApproval);

/// <summary>Answer of a dry run: the facts (by their policy names), the matches and the decision.</summary>
public sealed record PolicyDryRunView(
    string AppId,
    IReadOnlyDictionary<string, object?> Facts,
    IReadOnlyList<string> PiiClasses,
    IReadOnlyList<PolicyMatchView> Matches,
    PolicyDecisionView Decision,
    IReadOnlyList<DryRunMessage>? RedactedMessages)
{
    public static PolicyDryRunView From(string appId, PolicyDryRunResult result)
    {
        var f = result.Facts!;
        var d = result.Decision!;
        var facts = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["app.id"] = f.AppId,
            ["app.team"] = f.Team,
            ["app.audience"] = f.Audience,
            ["app.data_contains"] = f.DeclaredDataClasses.Union(f.RequestPii ?? [], StringComparer.OrdinalIgnoreCase).ToArray(),
            ["model.tier"] = f.ModelTier,
            ["model.external"] = f.ModelExternal,
            ["request.pii"] = f.RequestPii,
            ["request.tokens_estimate"] = f.TokensEstimate,
            ["request.cost_estimate_usd"] = f.CostEstimateUsd,
            ["prompt.version"] = f.PromptVersion,
            ["sticky_key"] = f.StickyKey,
        };
        return new PolicyDryRunView(
            appId,
            facts,
            result.PiiClasses,
            d.Matches.Select(m => new PolicyMatchView(m.PolicyId, m.Description, ActionName(m.Action), m.Tier, m.Applied, m.Why)).ToArray(),
            new PolicyDecisionView(d.PolicyVersion, d.Summary, d.Blocked, d.BlockedBy?.PolicyId, d.RouteTier, d.Redact, d.RequiresApproval),
            result.RedactedMessages?.Select(m => new DryRunMessage(m.Role, m.Content)).ToArray());
    }

    private static string ActionName(PolicyAction action) => PolicyParser.Actions.First(a => a.Value == action).Key;
}
