using System.Net;
using System.Net.Http.Headers;
using System.Text;
using MicroApps.Orleans.Client;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>The Orleans dashboard opens for any admin-role principal and for no other role.</summary>
public sealed class DashboardRoleTests
{
    private const string SecondAdminToken = "dashboard-tests-second-admin-token";
    private const string ViewerToken = "dashboard-tests-viewer-token";

    [Fact]
    public async Task The_dashboard_opens_for_admin_role_principals_and_refuses_other_roles()
    {
        var (siloPort, gatewayPort) = Ports.TwoFree();
        string[] settings =
        [
            "--urls=http://127.0.0.1:0",
            $"--FrontDoor:AdminToken={FrontDoorFixture.AdminToken}",
            "--FrontDoor:Principals:0:Name=ops-dana",
            "--FrontDoor:Principals:0:Role=admin",
            $"--FrontDoor:Principals:0:Token={SecondAdminToken}",
            "--FrontDoor:Principals:1:Name=viewer-vic",
            "--FrontDoor:Principals:1:Role=viewer",
            $"--FrontDoor:Principals:1:Token={ViewerToken}",
            "--FrontDoor:CoHostSilo=true",
            "--Orleans:Provider=Localhost",
            $"--Orleans:ClusterId=dashboard-roles-{Guid.NewGuid():N}",
            $"--Orleans:SiloPort={siloPort}",
            $"--Orleans:GatewayPort={gatewayPort}",
            "--Logging:LogLevel:Default=Warning",
        ];
        await using var app = FrontDoorApplication.Create(settings);
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(FrontDoorFixture.BoundAddress(app) + "/") };

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

    private static AuthenticationHeaderValue Basic(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")));

    private static Task<HttpResponseMessage> SendAsync(HttpClient http, AuthenticationHeaderValue authorization)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "dashboard/") { Headers = { Authorization = authorization } };
        return http.SendAsync(request);
    }
}
