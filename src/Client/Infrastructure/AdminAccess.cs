using MicroApps.Orleans.Audit;
using MicroApps.Orleans.Client.AdminConsole;
using MicroApps.Orleans.Client.OpenAI;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.Infrastructure;

/// <summary>Admin-API roles. Each endpoint names the roles it allows; there is no implied hierarchy.</summary>
public enum AdminRole
{
    /// <summary>Reads everything, changes nothing.</summary>
    Viewer = 0,

    /// <summary>Creates apps and acts on the apps they own: versions, test keys, submissions.</summary>
    Author = 1,

    /// <summary>Approves or rejects submitted versions; promotes and rolls back.</summary>
    Approver = 2,

    /// <summary>Everything, including policies, budgets and the audit log.</summary>
    Admin = 3,
}

/// <summary>Who is calling the admin API.</summary>
public sealed record AdminPrincipal(string Name, AdminRole Role)
{
    public string RoleName => Role.ToString().ToLowerInvariant();
}

/// <summary>The roles an admin endpoint allows (endpoint metadata read by the admin group's filter).</summary>
public sealed record AdminRolesMetadata(IReadOnlyList<AdminRole> Roles);

/// <summary>
/// Authentication and authorization of the admin API: a bearer token names a principal with a role, and every
/// endpoint declares its roles with <see cref="AllowRoles{TBuilder}"/>. An endpoint that declares none is refused
/// to everyone, so a forgotten declaration fails closed.
/// </summary>
public static class AdminAccess
{
    private const string PrincipalItem = "microapps.admin-principal";

    /// <summary>Declares the roles that may call an endpoint.</summary>
    public static TBuilder AllowRoles<TBuilder>(this TBuilder builder, params AdminRole[] roles)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(new AdminRolesMetadata(roles));

    /// <summary>Registers the admin principals and their start-up validation.</summary>
    public static IServiceCollection AddAdminAccess(this IServiceCollection services)
    {
        services.AddSingleton<AdminPrincipals>();
        services.AddSingleton<IValidateOptions<FrontDoorOptions>, AdminPrincipalsValidator>();
        return services;
    }

    /// <summary>
    /// Parses a role name (<c>viewer</c>, <c>author</c>, <c>approver</c>, <c>admin</c>; any case). Unlike
    /// <see cref="Enum.TryParse{TEnum}(string?, bool, out TEnum)"/> it refuses numbers and unknown names.
    /// </summary>
    public static bool TryParseRole(string? value, out AdminRole role)
    {
        switch (value?.Trim().ToLowerInvariant())
        {
            case "viewer":
                role = AdminRole.Viewer;
                return true;
            case "author":
                role = AdminRole.Author;
                return true;
            case "approver":
                role = AdminRole.Approver;
                return true;
            case "admin":
                role = AdminRole.Admin;
                return true;
            default:
                role = default;
                return false;
        }
    }

    /// <summary>Every role: reads.</summary>
    public static AdminRole[] Everyone { get; } = [AdminRole.Viewer, AdminRole.Author, AdminRole.Approver, AdminRole.Admin];

    /// <summary>The authenticated principal of an admin request (set by <see cref="AuthorizeAsync"/>).</summary>
    public static AdminPrincipal AdminPrincipal(this HttpContext context) =>
        context.Items[PrincipalItem] as AdminPrincipal ?? throw new InvalidOperationException("The admin principal is set by the admin group's filter.");

    /// <summary>
    /// Whether a principal may act on an app owned by <paramref name="owner"/>: admins and approvers on any, authors
    /// only on their own. Reads are not limited by owner.
    /// </summary>
    public static bool MayActOnApp(this AdminPrincipal principal, string owner) =>
        principal.Role is AdminRole.Admin or AdminRole.Approver ||
        (principal.Role == AdminRole.Author && string.Equals(principal.Name, owner, StringComparison.Ordinal));

    /// <summary>403 problem details for an author acting on someone else's app.</summary>
    public static IResult NotOwner(AdminPrincipal principal, string appId, string owner) => Results.Problem(
        title: "Forbidden",
        detail: $"'{principal.Name}' ({principal.RoleName}) may act only on their own apps; app '{appId}' is owned by '{owner}'.",
        statusCode: StatusCodes.Status403Forbidden);

    /// <summary>
    /// Whether a principal may publish versions of prompts someone else owns: admins only. Authors publish to their
    /// own prompts and fork others' into new ones.
    /// </summary>
    public static bool MayPublishToAnyPrompt(this AdminPrincipal principal) => principal.Role == AdminRole.Admin;

    /// <summary>403 problem details for an author publishing a version of someone else's prompt; names the owner and the way out (a fork).</summary>
    public static IResult NotPromptOwner(AdminPrincipal principal, string prompt, string owner, string latest) => Results.Problem(
        title: "Forbidden",
        detail: $"'{principal.Name}' ({principal.RoleName}) may publish versions only of their own prompts; prompt '{prompt}' is owned by '{owner}'. " +
            $"Fork it into a new name instead (forkedFrom: \"{latest}\").",
        statusCode: StatusCodes.Status403Forbidden,
        extensions: new Dictionary<string, object?>(StringComparer.Ordinal) { ["owner"] = owner });

    /// <summary>Optional request header in which the caller says why they make a change; it is added to the audit reason.</summary>
    public const string ReasonHeader = "X-Audit-Reason";

    /// <summary>
    /// Appends to the audit log as the calling principal; durable before it returns. Call it after the change
    /// succeeded, so the log records what happened. The caller's <see cref="ReasonHeader"/>, when sent, is appended
    /// to <paramref name="reason"/>.
    /// </summary>
    public static Task<AuditEntry> AuditAsync(this HttpContext context, IGrainFactory grains, string action, string target, string reason)
    {
        var principal = context.AdminPrincipal();
        var why = context.Request.Headers[ReasonHeader].ToString().Trim();
        var full = why.Length == 0 ? reason : reason.Length == 0 ? why : $"{reason}; reason: {why}";
        return AuditLog.Get(grains).AppendAsync(new AuditRecord(principal.Name, principal.RoleName, action, target, full));
    }

    /// <summary>
    /// The admin group's filter: 401 without a known token or console session, 403 when the endpoint does not allow
    /// the role (or a console session's change lacks <see cref="ConsoleAccess.RequestHeader"/>).
    /// </summary>
    public static async ValueTask<object?> AuthorizeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var principals = http.RequestServices.GetRequiredService<AdminPrincipals>();
        var token = BearerTokens.Read(http.Request);
        var principal = token is null ? await ConsoleAccess.SessionPrincipalAsync(http) : principals.Authenticate(token);
        if (principal is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Results.Problem(
                title: "Unauthorized",
                detail: "The admin API needs 'Authorization: Bearer <token>' with FrontDoor:AdminToken or a token of FrontDoor:Principals.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        if (token is null && !ConsoleAccess.MayChange(http.Request))
        {
            return ConsoleAccess.MissingRequestHeader();
        }

        var allowed = http.GetEndpoint()?.Metadata.GetMetadata<AdminRolesMetadata>()?.Roles ?? [];
        if (!allowed.Contains(principal.Role))
        {
            var who = allowed.Count == 0 ? "no role" : string.Join(", ", allowed.Select(r => r.ToString().ToLowerInvariant()));
            return Results.Problem(
                title: "Forbidden",
                detail: $"Role '{principal.RoleName}' may not call {http.Request.Method} {http.Request.Path}; allowed: {who}.",
                statusCode: StatusCodes.Status403Forbidden);
        }

        http.Items[PrincipalItem] = principal;
        return await next(context);
    }
}

/// <summary>The configured admin principals, looked up by token (constant time per comparison).</summary>
/// <remarks>
/// <see cref="AdminPrincipalsValidator"/> stops the host at start on a bad principal; should one get here anyway
/// (options not validated, e.g. a test host), it is left out rather than failing requests: it fails closed.
/// </remarks>
public sealed class AdminPrincipals(IOptions<FrontDoorOptions> options)
{
    /// <summary>The principal of <c>FrontDoor:AdminToken</c>.</summary>
    public const string AdminName = "admin";

    private readonly IReadOnlyList<(string Token, AdminPrincipal Principal)> _principals =
        [
            (options.Value.AdminToken, new AdminPrincipal(AdminName, AdminRole.Admin)),
            .. options.Value.Principals
                .Where(p => !string.IsNullOrEmpty(p.Token) && p.Token.Length >= AdminPrincipalsValidator.MinTokenLength && AdminPrincipalsValidator.IsValidName(p.Name?.Trim() ?? ""))
                .Select(p => (Valid: AdminAccess.TryParseRole(p.Role, out var role), p.Token, Principal: new AdminPrincipal(p.Name.Trim(), role)))
                .Where(p => p.Valid)
                .Select(p => (p.Token, p.Principal)),
        ];

    public AdminPrincipal? Authenticate(string? token)
    {
        AdminPrincipal? found = null;
        foreach (var (expected, principal) in _principals)
        {
            // Compare against every principal so the time does not tell which one matched.
            if (AdminTokens.Matches(token, expected))
            {
                found ??= principal;
            }
        }

        return found;
    }

    /// <summary>The configured principal with this name and role, or null (a console session's principal was removed or changed).</summary>
    public AdminPrincipal? Find(string name, AdminRole role) =>
        _principals.Select(p => p.Principal).FirstOrDefault(p => p.Role == role && string.Equals(p.Name, name, StringComparison.Ordinal));
}
