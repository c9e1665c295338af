using System.Net.Http.Headers;
using System.Text;
using MicroApps.Orleans.Client.AdminConsole;
using MicroApps.Orleans.Client.OpenAI;
using Orleans.Dashboard;

namespace MicroApps.Orleans.Client.Infrastructure;

/// <summary>
/// Serves the Orleans dashboard under <see cref="Path"/> for operators. The dashboard has no
/// authentication of its own, so it asks for the token of an admin-API principal with the <c>admin</c> role
/// (<c>FrontDoor:AdminToken</c> or a <c>FrontDoor:Principals</c> entry with role admin): as HTTP Basic credentials
/// (any user name, the token as password), which a browser prompts for and resends, as a Bearer token, or as the
/// admin console's sign-in cookie (the console links to it).
/// </summary>
/// <remarks>
/// Admin only: the dashboard shows cluster internals (silos, grain types, call rates, errors) that the admin API's
/// viewer role does not otherwise see, and it has no per-role view of its own.
/// </remarks>
internal static class DashboardAccess
{
    public const string Path = "/dashboard";

    public static WebApplication MapDashboard(this WebApplication app)
    {
        app.UseWhen(context => context.Request.Path.StartsWithSegments(Path), branch => branch.Use(async (context, next) =>
        {
            var token = BasicPassword(context.Request) ?? BearerTokens.Read(context.Request);
            var principal = token is null
                ? await ConsoleAccess.SessionPrincipalAsync(context)
                : context.RequestServices.GetRequiredService<AdminPrincipals>().Authenticate(token);
            if (principal?.Role == AdminRole.Admin)
            {
                await next(context);
                return;
            }

            if (principal is not null)
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync($"Role '{principal.RoleName}' may not open the dashboard; it needs the admin role.");
                return;
            }

            context.Response.StatusCode = StatusCodes.Status401Unauthorized;
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"MicroApps.Orleans dashboard\", charset=\"UTF-8\"";
            await context.Response.WriteAsync("The dashboard needs the token of an admin-role principal (e.g. FrontDoor:AdminToken) as the password.");
        }));
        app.MapOrleansDashboard(routePrefix: Path);
        return app;
    }

    private static string? BasicPassword(HttpRequest request)
    {
        if (!AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header)
            || !string.Equals(header.Scheme, "Basic", StringComparison.OrdinalIgnoreCase)
            || header.Parameter is null)
        {
            return null;
        }

        try
        {
            var credentials = Encoding.UTF8.GetString(Convert.FromBase64String(header.Parameter));
            var colon = credentials.IndexOf(':');
            return colon < 0 ? null : credentials[(colon + 1)..];
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
