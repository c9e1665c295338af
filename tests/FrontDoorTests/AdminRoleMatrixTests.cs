using System.Net;
using System.Text.Json;
using MicroApps.Orleans.Client.Infrastructure;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// Every endpoint under <c>/admin</c>, read from the running app's endpoint data source (so endpoints added later are
/// covered without touching this file), called with every role: roles it declares are let through, the others get
/// 403 problem details, no token gets 401; an endpoint that declares no roles fails the test.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class AdminRoleMatrixTests(FrontDoorFixture fixture)
{
    public static readonly IReadOnlyList<(AdminRole Role, string Token)> Roles =
    [
        (AdminRole.Viewer, FrontDoorFixture.ViewerToken),
        (AdminRole.Approver, FrontDoorFixture.ApproverToken),
        (AdminRole.Author, FrontDoorFixture.AuthorToken),
        (AdminRole.Admin, FrontDoorFixture.AdminToken),
    ];

    [Fact]
    public async Task Every_admin_endpoint_admits_exactly_the_roles_it_declares()
    {
        var target = await AliceAppAsync();
        var failures = new List<string>();
        foreach (var endpoint in AdminEndpoints())
        {
            var roles = endpoint.Metadata.GetMetadata<AdminRolesMetadata>()?.Roles;
            if (roles is null || roles.Count == 0)
            {
                failures.Add($"{Describe(endpoint)} declares no roles (.AllowRoles(...)): every admin endpoint must.");
                continue;
            }

            // Refused roles first, so the allowed calls (which may change things) cannot hide a refusal.
            foreach (var (role, token) in Roles.OrderBy(r => roles.Contains(r.Role)))
            {
                foreach (var method in Methods(endpoint))
                {
                    using var response = await SendAsync(endpoint, method, PathFor(endpoint, target), token);
                    var status = (int)response.StatusCode;
                    var body = await response.Content.ReadAsStringAsync();
                    if (!roles.Contains(role))
                    {
                        if (response.StatusCode != HttpStatusCode.Forbidden || response.Content.Headers.ContentType?.MediaType != "application/problem+json")
                        {
                            failures.Add($"{method} {Describe(endpoint)} as {Name(role)} (not declared): expected 403 problem details, got {status} {Cut(body)}");
                        }
                    }
                    else if (status is 401 or 403 or >= 500)
                    {
                        failures.Add($"{method} {Describe(endpoint)} as {Name(role)} (declared): expected the call to be authorized and handled, got {status} {Cut(body)}");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, $"{failures.Count} role-matrix failure(s):\n" + string.Join("\n", failures));
    }

    [Fact]
    public async Task Every_admin_endpoint_answers_401_without_a_known_token()
    {
        var target = await AliceAppAsync();
        var failures = new List<string>();
        foreach (var endpoint in AdminEndpoints())
        {
            foreach (var method in Methods(endpoint))
            {
                foreach (var token in new[] { null, "not-a-known-token-at-all" })
                {
                    using var response = await SendAsync(endpoint, method, PathFor(endpoint, target), token);
                    if (response.StatusCode != HttpStatusCode.Unauthorized || response.Headers.WwwAuthenticate.FirstOrDefault()?.Scheme != "Bearer")
                    {
                        failures.Add($"{method} {Describe(endpoint)} with {(token is null ? "no token" : "an unknown token")}: expected 401 with WWW-Authenticate: Bearer, got {(int)response.StatusCode}");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task An_author_gets_403_on_every_change_to_another_authors_app()
    {
        var failures = new List<string>();
        var checkedCount = 0;
        foreach (var endpoint in AdminEndpoints().Where(e =>
                     e.RoutePattern.GetParameter("appId") is not null
                     && e.Metadata.GetMetadata<AdminRolesMetadata>()?.Roles.Contains(AdminRole.Author) == true
                     && !NotChangesOfTheApp.Contains(e.RoutePattern.RawText ?? "")))
        {
            foreach (var method in Methods(endpoint).Where(m => m != "GET" && m != "HEAD"))
            {
                // A fresh app of alice's for each call, so no earlier call (a retire, a revoke) changes the answer.
                var target = await AliceAppAsync();
                using var response = await SendAsync(endpoint, method, PathFor(endpoint, target), FrontDoorFixture.OtherAuthorToken, ValidBodies.GetValueOrDefault($"{method} {Describe(endpoint)}"));
                checkedCount++;
                if (response.StatusCode != HttpStatusCode.Forbidden)
                {
                    failures.Add($"{method} {Describe(endpoint)} by author-bob on author-alice's app: expected 403, got {(int)response.StatusCode} {Cut(await response.Content.ReadAsStringAsync())}" +
                        " (check the owner before validating the body, or add a valid body to ValidBodies so the call reaches the owner check)");
                }
            }
        }

        Assert.True(checkedCount >= 2, "the issue-key and revoke-key endpoints at least are author changes on an app");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task An_author_issues_and_revokes_keys_on_their_own_app_but_not_on_anothers()
    {
        var target = await AliceAppAsync();

        using var bobIssues = await fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{target.AppId}/keys", new { label = "bob" }, FrontDoorFixture.OtherAuthorToken);
        using var bobRevokes = await fixture.AdminAsync(HttpMethod.Delete, $"admin/apps/{target.AppId}/keys/{target.KeyId}", token: FrontDoorFixture.OtherAuthorToken);
        using var aliceIssues = await fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{target.AppId}/keys", new { label = "alice" }, FrontDoorFixture.AuthorToken);
        using var aliceRevokes = await fixture.AdminAsync(HttpMethod.Delete, $"admin/apps/{target.AppId}/keys/{target.KeyId}", token: FrontDoorFixture.AuthorToken);

        Assert.Equal(HttpStatusCode.Forbidden, bobIssues.StatusCode);
        Assert.Contains("author-alice", await bobIssues.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, bobRevokes.StatusCode);
        Assert.Equal(HttpStatusCode.Created, aliceIssues.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, aliceRevokes.StatusCode);

        using var app = await fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{target.AppId}", token: FrontDoorFixture.ViewerToken);
        using var json = JsonDocument.Parse(await app.Content.ReadAsStringAsync());
        var labels = json.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("label").GetString()).ToList();
        Assert.DoesNotContain("bob", labels);
        Assert.Contains("alice", labels);
    }

    [Fact]
    public void The_matrix_sees_the_admin_endpoints_of_the_base_api()
    {
        var seen = AdminEndpoints().SelectMany(e => Methods(e).Select(m => $"{m} {e.RoutePattern.RawText}")).ToHashSet();

        foreach (var expected in new[]
                 {
                     "POST /admin/apps", "GET /admin/apps", "GET /admin/apps/{appId}", "POST /admin/apps/{appId}/keys",
                     "DELETE /admin/apps/{appId}/keys/{keyId}", "PUT /admin/apps/{appId}/quotas", "POST /admin/apps/{appId}/suspend",
                     "POST /admin/apps/{appId}/resume", "PUT /admin/budgets/{budgetId}", "GET /admin/budgets/{budgetId}",
                     "GET /admin/audit", "GET /admin/audit/verify",
                     "GET /admin/budgets/{budgetId}/alerts", "GET /admin/alerts", "POST /admin/budgets/{budgetId}/acknowledge",
                     "GET /admin/cost/spend", "GET /admin/cost/summary", "GET /admin/cost/budgets", "GET /admin/kpis",
                     "GET /admin/traces", "GET /admin/traces/{appId}/{requestId}", "GET /admin/prompts/search",
                     "GET /admin/traces/{appId}/{requestId}/sample",
                     "GET /admin/apps/{appId}/savings",
                     "GET /admin/savings/quality", "POST /admin/savings/quality/{queryType}/evidence",
                     "GET /admin/apps/{appId}/workflows", "GET /admin/apps/{appId}/workflows/{workflowId}",
                     "POST /admin/apps/{appId}/workflows/{workflowId}/approve", "POST /admin/apps/{appId}/workflows/{workflowId}/reject",
                     "GET /admin/workflows",
                     "GET /admin/catalog", "GET /admin/catalog/usage", "GET /admin/catalog/retirement", "POST /admin/catalog/prompts",
                     "POST /admin/catalog/chains", "GET /admin/catalog/{kind}/{name}", "GET /admin/catalog/{kind}/{name}/{version}",
                     "GET /admin/apps/{appId}/upgrades", "POST /admin/apps/{appId}/upgrades/accept",
                     "GET /admin/cluster", "GET /admin/tiers",
                     "GET /admin/apps/{appId}/pack", "POST /admin/packs/import", "POST /admin/apps/{appId}/fork",
                     "POST /admin/apps/{appId}/pack/upgrade", "GET /admin/apps/{appId}/lineage",
                     "POST /admin/manifests/validate", "GET /admin/manifests/schema", "GET /admin/apps/{appId}/manifest",
                 })
        {
            Assert.Contains(expected, seen);
        }
    }

    /// <summary>
    /// Bodies that pass validation, for author changes whose handlers validate the body before the owner check: with
    /// them bob's call reaches the owner check, so a 403 proves it. Others get <c>{}</c>.
    /// </summary>
    private static readonly Dictionary<string, string> ValidBodies = new(StringComparer.Ordinal)
    {
        ["POST /admin/apps/{appId}/keys"] = """{"label":"bob"}""",
        ["POST /admin/apps/{appId}/test-keys"] = """{"label":"bob"}""",
        ["PUT /admin/apps/{appId}/flags/{name}"] = """{"enabled":true}""",
    };

    /// <summary>
    /// Author endpoints under <c>/apps/{appId}</c> that read the app and change only something new of the caller's:
    /// a fork makes the caller's own app from any app they may read (tests/FrontDoorTests/Packs checks bob forks alice's).
    /// </summary>
    private static readonly HashSet<string> NotChangesOfTheApp = new(StringComparer.Ordinal)
    {
        "/admin/apps/{appId}/fork",
    };

    private sealed record Target(string AppId, string KeyId, string BudgetId);

    /// <summary>A fresh app owned by author-alice with one key; its budget is the app's own.</summary>
    private async Task<Target> AliceAppAsync()
    {
        var appId = FrontDoorFixture.NewAppId("rbac");
        await fixture.CreateAppWithKeyAsync(appId, owner: FrontDoorFixture.AuthorName);
        using var app = await fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        using var json = JsonDocument.Parse(await app.Content.ReadAsStringAsync());
        var keyId = json.RootElement.GetProperty("keys")[0].GetProperty("keyId").GetString()!;
        var budgetId = json.RootElement.GetProperty("budgetId").GetString()!;
        return new Target(appId, keyId, budgetId);
    }

    private IReadOnlyList<RouteEndpoint> AdminEndpoints()
    {
        var endpoints = fixture.FrontDoor.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText is { } raw && (raw == "/admin" || raw.StartsWith("/admin/", StringComparison.Ordinal)))
            .OrderBy(e => e.RoutePattern.RawText, StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(endpoints);
        return endpoints;
    }

    private static IEnumerable<string> Methods(RouteEndpoint endpoint) =>
        endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods is { Count: > 0 } methods ? methods : ["GET"];

    /// <summary>Fills route parameters with real values where the name says what they are.</summary>
    private static string PathFor(RouteEndpoint endpoint, Target target)
    {
        var segments = endpoint.RoutePattern.PathSegments.Select(segment => string.Concat(segment.Parts.Select(part => part switch
        {
            RoutePatternLiteralPart literal => literal.Content,
            RoutePatternSeparatorPart separator => separator.Content,
            RoutePatternParameterPart parameter => Uri.EscapeDataString(ValueFor(parameter, target)),
            _ => "",
        })));
        return string.Join("/", segments).TrimStart('/');
    }

    private static string ValueFor(RoutePatternParameterPart parameter, Target target)
    {
        var name = parameter.Name;
        if (name.Equals("appId", StringComparison.OrdinalIgnoreCase))
        {
            return target.AppId;
        }

        if (name.Equals("keyId", StringComparison.OrdinalIgnoreCase))
        {
            return target.KeyId;
        }

        if (name.Equals("budgetId", StringComparison.OrdinalIgnoreCase))
        {
            return target.BudgetId;
        }

        var numeric = parameter.ParameterPolicies.Any(p => p.Content is "int" or "long" or "min(1)")
            || name.Contains("version", StringComparison.OrdinalIgnoreCase)
            || name.Contains("number", StringComparison.OrdinalIgnoreCase);
        return numeric ? "1" : "rbac-matrix-value";
    }

    /// <summary>
    /// Sends a minimal body in the content type the endpoint declares (routing answers 415 before any filter when it
    /// does not match): <c>{}</c> for JSON, a malformed document for anything else, so a call that is let through
    /// ends in a 400/422 rather than changing shared state.
    /// </summary>
    private Task<HttpResponseMessage> SendAsync(RouteEndpoint endpoint, string method, string path, string? token, string? body = null)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (token is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        }

        if (method is "POST" or "PUT" or "PATCH")
        {
            var contentType = endpoint.Metadata.GetMetadata<IAcceptsMetadata>()?.ContentTypes.FirstOrDefault() ?? "application/json";
            var json = contentType.Contains("json", StringComparison.OrdinalIgnoreCase);
            request.Content = new StringContent(body ?? (json ? "{}" : "{ rbac-matrix: ["), System.Text.Encoding.UTF8, contentType);
        }

        return fixture.Http.SendAsync(request);
    }

    private static string Describe(RouteEndpoint endpoint) => endpoint.RoutePattern.RawText ?? endpoint.DisplayName ?? "?";

    private static string Name(AdminRole role) => role.ToString().ToLowerInvariant();

    private static string Cut(string body) => body.Length <= 300 ? body : body[..300] + "…";
}
