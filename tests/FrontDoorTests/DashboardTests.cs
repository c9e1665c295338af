using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MicroApps.Orleans.Client;
using Microsoft.AspNetCore.Builder;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// The front door as an operator runs it (Orleans wired from configuration, here a co-hosted silo in
/// Localhost mode) serves the Orleans dashboard, and only to admin-role principals.
/// </summary>
public sealed class DashboardTests
{
    private const string SecondAdminToken = "dashboard-tests-second-admin-token";
    private const string ViewerToken = "dashboard-tests-viewer-token";

    [Fact]
    public async Task The_dashboard_asks_for_the_admin_token()
    {
        var (app, http) = await StartFrontDoorAsync();
        await using var _ = app;
        using var __ = http;

        using var anonymous = await http.GetAsync("dashboard/");
        using var wrong = await SendAsync(http, Basic("operator", "not-the-token"));
        using var basic = await SendAsync(http, Basic("operator", FrontDoorFixture.AdminToken));
        using var bearer = await SendAsync(http, new AuthenticationHeaderValue("Bearer", FrontDoorFixture.AdminToken));

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("Basic", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Equal(HttpStatusCode.OK, basic.StatusCode);
        Assert.Equal("text/html", basic.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        await app.StopAsync();
    }

    [Fact]
    public async Task The_dashboard_opens_for_admin_role_principals_and_refuses_other_roles()
    {
        var (app, http) = await StartFrontDoorAsync(
            "--FrontDoor:Principals:0:Name=ops-dana",
            "--FrontDoor:Principals:0:Role=admin",
            $"--FrontDoor:Principals:0:Token={SecondAdminToken}",
            "--FrontDoor:Principals:1:Name=viewer-vic",
            "--FrontDoor:Principals:1:Role=viewer",
            $"--FrontDoor:Principals:1:Token={ViewerToken}");
        await using var _ = app;
        using var __ = http;

        using var secondAdmin = await SendAsync(http, Basic("dana", SecondAdminToken));
        using var mainAdmin = await SendAsync(http, new AuthenticationHeaderValue("Bearer", FrontDoorFixture.AdminToken));
        using var viewer = await SendAsync(http, Basic("vic", ViewerToken));
        using var unknown = await SendAsync(http, Basic("eve", "dashboard-tests-unknown-token"));

        Assert.Equal(HttpStatusCode.OK, secondAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.OK, mainAdmin.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
        Assert.Contains("viewer", await viewer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, unknown.StatusCode);
        await app.StopAsync();
    }

    private static async Task<(WebApplication App, HttpClient Http)> StartFrontDoorAsync(params string[] principals)
    {
        var (siloPort, gatewayPort) = Ports.TwoFree();
        string[] settings =
        [
            "--urls=http://127.0.0.1:0",
            $"--FrontDoor:AdminToken={FrontDoorFixture.AdminToken}",
            .. principals,
            "--FrontDoor:CoHostSilo=true",
            "--Orleans:Provider=Localhost",
            $"--Orleans:ClusterId=dashboard-{Guid.NewGuid():N}",
            $"--Orleans:SiloPort={siloPort}",
            $"--Orleans:GatewayPort={gatewayPort}",
            "--Logging:LogLevel:Default=Warning",
        ];
        var app = FrontDoorApplication.Create(settings);
        await app.StartAsync();
        return (app, new HttpClient { BaseAddress = new Uri(FrontDoorFixture.BoundAddress(app) + "/") });
    }

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, AuthenticationHeaderValue authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "dashboard/") { Headers = { Authorization = authorization } };
        return http.SendAsync(request);
    }
}
