using System.Security.Claims;
using MicroApps.Orleans.Client.Infrastructure;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.FileProviders;

namespace MicroApps.Orleans.Client.AdminConsole;

/// <summary>
/// The admin console: static pages under <see cref="BasePath"/> (embedded in this assembly) that call the admin API.
/// Signing in exchanges an admin-API token for an HTTP-only, same-site cookie; the admin API and the Orleans
/// dashboard accept that cookie as they accept the token, so every role check, validation and audit entry is the
/// admin API's own and the console adds no second way to change anything.
/// </summary>
/// <remarks>
/// Cross-site request forgery: the cookie is <c>SameSite=Strict</c>, and a cookie-authenticated request that changes
/// something must also carry <see cref="RequestHeader"/>, which a cross-site form cannot send and a cross-site script
/// cannot send without a CORS preflight the front door never grants.
/// </remarks>
public static class ConsoleAccess
{
    public const string BasePath = "/console";
    public const string Scheme = "MicroAppsConsole";
    public const string CookieName = "microapps_console";

    /// <summary>The header the console's scripts send on every request (value <c>1</c>).</summary>
    public const string RequestHeader = "X-MicroApps-Console";

    /// <summary>How long a sign-in lasts without use (sliding).</summary>
    public static readonly TimeSpan SessionLifetime = TimeSpan.FromHours(8);

    private const string RoleClaim = "microapps.role";

    /// <summary>
    /// Content security policy of the console's pages: scripts only from the front door (no inline script, no eval),
    /// nothing fetched from elsewhere, never framed.
    /// </summary>
    public const string ContentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; " +
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

    public static IServiceCollection AddAdminConsole(this IServiceCollection services)
    {
        services.AddAuthentication()
            .AddCookie(Scheme, cookie =>
            {
                cookie.Cookie.Name = CookieName;
                cookie.Cookie.HttpOnly = true;
                cookie.Cookie.SameSite = SameSiteMode.Strict;
                cookie.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                cookie.Cookie.Path = "/";
                cookie.ExpireTimeSpan = SessionLifetime;
                cookie.SlidingExpiration = true;

                // The console is a script over an API: answer with status codes, never redirect to a login page.
                cookie.Events.OnRedirectToLogin = context => Status(context, StatusCodes.Status401Unauthorized);
                cookie.Events.OnRedirectToAccessDenied = context => Status(context, StatusCodes.Status403Forbidden);
            });

        services.AddDataProtection().SetApplicationName("MicroApps.Orleans");
        services.AddOptions<KeyManagementOptions>()
            .Configure<IGrainFactory>((options, grains) => options.XmlRepository = new GrainXmlRepository(grains));
        return services;
    }

    /// <summary>
    /// The principal of the request's console cookie, when it is valid and its principal is still configured with
    /// the same role (removing or changing a principal in configuration ends its sessions).
    /// </summary>
    public static async Task<AdminPrincipal?> SessionPrincipalAsync(HttpContext context)
    {
        if (!context.Request.Cookies.ContainsKey(CookieName))
        {
            return null;
        }

        var result = await context.AuthenticateAsync(Scheme);
        if (!result.Succeeded
            || result.Principal.FindFirstValue(ClaimTypes.Name) is not { } name
            || !AdminAccess.TryParseRole(result.Principal.FindFirstValue(RoleClaim), out var role))
        {
            return null;
        }

        return context.RequestServices.GetRequiredService<AdminPrincipals>().Find(name, role);
    }

    /// <summary>Whether a cookie-authenticated request may change something: safe methods always, others with <see cref="RequestHeader"/>.</summary>
    public static bool MayChange(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) || HttpMethods.IsHead(request.Method) || HttpMethods.IsOptions(request.Method) ||
        request.Headers[RequestHeader] == "1";

    /// <summary>403 problem details for a cookie-authenticated change without <see cref="RequestHeader"/>.</summary>
    public static IResult MissingRequestHeader() => Results.Problem(
        title: "Forbidden",
        detail: $"A console session may change something only from the console: the request must carry '{RequestHeader}: 1'. API clients use 'Authorization: Bearer <token>'.",
        statusCode: StatusCodes.Status403Forbidden);

    /// <summary>Maps the session endpoints and the console's pages.</summary>
    public static WebApplication MapAdminConsole(this WebApplication app)
    {
        var files = new ManifestEmbeddedFileProvider(typeof(ConsoleAccess).Assembly, "wwwroot/console");
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            RequestPath = BasePath,
            OnPrepareResponse = context => SecureHeaders(context.Context.Response, cache: true),
        });

        var session = app.MapGroup(BasePath + "/session").WithTags("Console").ExcludeFromDescription();
        session.MapPost("", (Func<HttpContext, Task<IResult>>)SignInAsync);
        session.MapGet("", async (HttpContext context) =>
            await SessionPrincipalAsync(context) is { } principal
                ? Results.Ok(new ConsoleSessionView(principal.Name, principal.RoleName))
                : NotSignedIn());
        session.MapDelete("", async (HttpContext context) =>
        {
            if (!MayChange(context.Request))
            {
                return MissingRequestHeader();
            }

            await context.SignOutAsync(Scheme);
            return Results.NoContent();
        });

        // Every other path under /console without a dot is a page of the console's router: answer with its shell.
        // A path with a dot never matches here, so the static-file middleware serves it (or it is a 404): that
        // middleware steps aside for any request that matched an endpoint.
        app.MapGet(BasePath + "/{**path:nonfile}", (HttpContext context) => Shell(context, files)).ExcludeFromDescription();
        app.MapGet("/", () => Results.Redirect(BasePath + "/")).ExcludeFromDescription();
        return app;
    }

    private static async Task<IResult> SignInAsync(HttpContext context)
    {
        if (!MayChange(context.Request))
        {
            return MissingRequestHeader();
        }

        SignInBody? body;
        try
        {
            body = await context.Request.ReadFromJsonAsync<SignInBody>(context.RequestAborted);
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or InvalidOperationException)
        {
            return Results.Problem(title: "Bad request", detail: "The body must be JSON: {\"token\": \"…\"}.", statusCode: StatusCodes.Status400BadRequest);
        }

        if (string.IsNullOrWhiteSpace(body?.Token))
        {
            return Results.ValidationProblem(new Dictionary<string, string[]> { ["token"] = ["Enter your admin token."] });
        }

        var principal = context.RequestServices.GetRequiredService<AdminPrincipals>().Authenticate(body.Token.Trim());
        if (principal is null)
        {
            return Results.Problem(
                title: "Unauthorized",
                detail: "That token is not FrontDoor:AdminToken or a token of FrontDoor:Principals.",
                statusCode: StatusCodes.Status401Unauthorized);
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, principal.Name), new Claim(RoleClaim, principal.RoleName)],
            Scheme);
        await context.SignInAsync(Scheme, new ClaimsPrincipal(identity));
        return Results.Ok(new ConsoleSessionView(principal.Name, principal.RoleName));
    }

    private static IResult NotSignedIn() => Results.Problem(
        title: "Unauthorized", detail: "Not signed in to the console.", statusCode: StatusCodes.Status401Unauthorized);

    private static Task Shell(HttpContext context, IFileProvider files)
    {
        SecureHeaders(context.Response, cache: false);
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.SendFileAsync(files.GetFileInfo("index.html"), context.RequestAborted);
    }

    private static void SecureHeaders(HttpResponse response, bool cache)
    {
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers["Referrer-Policy"] = "no-referrer";

        // Files are revalidated (ETag) rather than cached blind, so a new front door's console is picked up at once.
        response.Headers.CacheControl = cache ? "no-cache" : "no-store";
    }

    private static Task Status(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        context.Response.StatusCode = status;
        return Task.CompletedTask;
    }

    private sealed record SignInBody(string? Token);
}

/// <summary>Who is signed in to the console.</summary>
public sealed record ConsoleSessionView(string Name, string Role);
