using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MicroApps.Orleans.Client;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// The front door as an operator runs it (Orleans wired from configuration, here a co-hosted silo in
/// Localhost mode) serves the Orleans dashboard, and only to holders of the admin token.
/// </summary>
public sealed class DashboardTests
{
    [Fact]
    public async Task The_dashboard_asks_for_the_admin_token()
    {
        var (siloPort, gatewayPort) = Ports.TwoFree();
        string[] settings =
        [
            "--urls=http://127.0.0.1:0",
            $"--FrontDoor:AdminToken={FrontDoorFixture.AdminToken}",
            "--FrontDoor:CoHostSilo=true",
            "--Orleans:Provider=Localhost",
            $"--Orleans:ClusterId=dashboard-{Guid.NewGuid():N}",
            $"--Orleans:SiloPort={siloPort}",
            $"--Orleans:GatewayPort={gatewayPort}",
            "--Logging:LogLevel:Default=Warning",
        ];
        await using var app = FrontDoorApplication.Create(settings);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(FrontDoorFixture.BoundAddress(app) + "/") };

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

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, AuthenticationHeaderValue authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "dashboard/") { Headers = { Authorization = authorization } };
        return http.SendAsync(request);
    }
}
