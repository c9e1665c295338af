using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using MicroApps.Orleans.Client;
using MicroApps.Orleans.Client.Admin;
using MicroApps.Orleans.Tiers;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;
using Orleans.Configuration;
using Orleans.Runtime;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary><c>GET /admin/cluster</c> and <c>GET /admin/tiers</c>, which the console's overview and model-tier pages read.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class ClusterEndpointsTests(FrontDoorFixture fixture)
{
    [Fact]
    public async Task Cluster_lists_the_co_hosted_silo_as_active_with_its_activations_for_a_viewer()
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, "admin/cluster", token: FrontDoorFixture.ViewerToken);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var root = json.RootElement;

        Assert.True(root.GetProperty("complete").GetBoolean(), body);
        Assert.Equal(1, root.GetProperty("activeSilos").GetInt32());
        var silo = Assert.Single(root.GetProperty("silos").EnumerateArray(), s => s.GetProperty("status").GetString() == "active");
        Assert.Matches(@"^\S+:\d+@\d+$", silo.GetProperty("address").GetString());
        Assert.NotEqual(JsonValueKind.Null, silo.GetProperty("startedAt").ValueKind);
        Assert.NotEqual(JsonValueKind.Null, silo.GetProperty("iAmAliveAt").ValueKind);
        var statistics = silo.GetProperty("statistics");
        Assert.True(statistics.GetProperty("activations").GetInt32() > 0, body);
        Assert.True(statistics.GetProperty("maximumMemoryBytes").GetInt64() > 0, body);
        Assert.Equal(JsonValueKind.Null, silo.GetProperty("statisticsError").ValueKind);
        Assert.Equal(statistics.GetProperty("activations").GetInt64(), root.GetProperty("activations").GetInt64());
    }

    [Fact]
    public async Task Cluster_answers_what_it_knows_when_a_silo_hangs_or_fails_and_does_not_ask_dead_silos()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T12:00:00Z"));
        var answering = Entry(11111, SiloStatus.Active, "silo-a");
        var hanging = Entry(11112, SiloStatus.Active, "silo-b");
        var failing = Entry(11113, SiloStatus.Joining, "silo-c");
        var dead = Entry(11114, SiloStatus.Dead, "silo-d");
        var asked = new List<SiloAddress>();
        var never = new TaskCompletionSource<SiloStatisticsView>();

        var describing = ClusterEndpoints.DescribeClusterAsync(
            _ => ValueTask.FromResult(new[] { dead, answering, hanging, failing }),
            (silo, _) =>
            {
                asked.Add(silo);
                return silo.Equals(answering.SiloAddress) ? Task.FromResult(Statistics(activations: 7))
                    : silo.Equals(hanging.SiloAddress) ? never.Task
                    : Task.FromException<SiloStatisticsView>(new SiloUnavailableException("gone"));
            },
            TimeSpan.FromSeconds(5),
            time,
            CancellationToken.None);
        Assert.False(describing.IsCompleted, "the hanging silo holds the answer until its timeout");
        time.Advance(TimeSpan.FromSeconds(5));
        var view = await describing;

        Assert.DoesNotContain(dead.SiloAddress, asked);
        Assert.False(view.Complete);
        Assert.Equal(2, view.ActiveSilos);
        Assert.Equal(3, view.LiveSilos);
        Assert.Equal(1, view.DeadSilos);
        Assert.Equal(7, view.Activations);
        Assert.Equal("dead", view.Silos[^1].Status);
        var a = Assert.Single(view.Silos, s => s.Name == "silo-a");
        Assert.Equal(7, a.Statistics!.Activations);
        Assert.Null(a.StatisticsError);
        var b = Assert.Single(view.Silos, s => s.Name == "silo-b");
        Assert.Null(b.Statistics);
        Assert.Contains("did not answer within 5 s", b.StatisticsError);
        var c = Assert.Single(view.Silos, s => s.Name == "silo-c");
        Assert.Equal("joining", c.Status);
        Assert.Contains("SiloUnavailableException", c.StatisticsError);
        var d = Assert.Single(view.Silos, s => s.Name == "silo-d");
        Assert.Null(d.StatisticsError);
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 10, 0, 0, TimeSpan.Zero), d.StartedAt);
    }

    [Fact]
    public async Task Tiers_lists_every_configured_tier_with_prices_and_the_health_a_real_call_leaves()
    {
        var appId = FrontDoorFixture.NewAppId("tiers");
        var key = await fixture.CreateAppWithKeyAsync(appId);
        using (var chat = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "Say hello to the tiers page.")))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        // The gateway reports the outcome to the tier grain one-way, after answering: read until the call is counted.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        string body;
        Dictionary<string, JsonElement> tiers;
        while (true)
        {
            using var response = await fixture.AdminAsync(HttpMethod.Get, "admin/tiers", token: FrontDoorFixture.ViewerToken);
            body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            tiers = JsonDocument.Parse(body).RootElement.EnumerateArray().ToDictionary(t => t.GetProperty("tier").GetString()!, t => t.Clone());
            var counted = tiers["standard"].GetProperty("models")[0].GetProperty("health").GetProperty("successes").GetInt64();
            if (counted >= 1)
            {
                break;
            }

            Assert.True(DateTime.UtcNow < deadline, $"the call was not counted within 30 s: {body}");
            await Task.Yield();
        }

        Assert.Equal(new[] { "local", "premium", "standard" }, tiers.Keys.Order().ToArray());
        var standard = Assert.Single(tiers["standard"].GetProperty("models").EnumerateArray());
        Assert.Equal(FrontDoorFixture.StandardModel, standard.GetProperty("name").GetString());
        Assert.Equal("fake-openai", standard.GetProperty("backend").GetString());
        Assert.Equal(0.5m, standard.GetProperty("inputPricePer1K").GetDecimal());
        Assert.Equal(1.5m, standard.GetProperty("outputPricePer1K").GetDecimal());
        Assert.Equal(128000, standard.GetProperty("contextWindow").GetInt32());
        Assert.True(standard.GetProperty("external").GetBoolean());
        Assert.Equal(1, standard.GetProperty("routeOrder").GetInt32());
        var health = standard.GetProperty("health");
        Assert.True(health.GetProperty("available").GetBoolean());
        Assert.True(health.GetProperty("successes").GetInt64() >= 1, body);
        Assert.True(health.GetProperty("latencyMsEstimate").GetDouble() > 0, body);
        Assert.Equal(0, health.GetProperty("consecutiveFailures").GetInt32());
        Assert.True(tiers["standard"].GetProperty("available").GetBoolean());
        Assert.Equal(JsonValueKind.Null, tiers["standard"].GetProperty("healthError").ValueKind);

        var premium = Assert.Single(tiers["premium"].GetProperty("models").EnumerateArray());
        Assert.Equal(5m, premium.GetProperty("inputPricePer1K").GetDecimal());
        Assert.Equal(15m, premium.GetProperty("outputPricePer1K").GetDecimal());
        var local = Assert.Single(tiers["local"].GetProperty("models").EnumerateArray());
        Assert.Equal(FrontDoorFixture.LocalModel, local.GetProperty("name").GetString());
        Assert.False(local.GetProperty("external").GetBoolean());
        Assert.Equal(8192, local.GetProperty("contextWindow").GetInt32());
    }

    [Fact]
    public async Task A_tier_whose_grain_does_not_answer_is_listed_with_its_models_but_without_health()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T12:00:00Z"));
        var tier = new TierDescription("premium", [new ModelSpec("big-model", "remote", 5m, 15m, 128_000, true)]);
        var never = new TaskCompletionSource<TierRoute>();

        var describing = ClusterEndpoints.DescribeTierAsync(tier, (_, _) => never.Task, TimeSpan.FromSeconds(5), time, CancellationToken.None);
        Assert.False(describing.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(5));
        var view = await describing;

        Assert.Null(view.Available);
        Assert.Contains("did not answer within 5 s", view.HealthError);
        var model = Assert.Single(view.Models);
        Assert.Equal(("big-model", 5m, 15m), (model.Name, model.InputPricePer1K, model.OutputPricePer1K));
        Assert.Null(model.Health);
        Assert.Null(model.RouteOrder);
    }

    [Fact]
    public async Task A_tier_with_every_model_skipped_is_unavailable_and_shows_when_the_models_return()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T12:00:00Z"));
        var spec = new ModelSpec("flaky", "remote", 1m, 2m, 8_000, true);
        var openUntil = time.GetUtcNow().AddSeconds(30);
        var route = new TierRoute("standard", [spec], [new ModelHealth("flaky", false, 3, openUntil, 120, 4, 3)]);

        var view = await ClusterEndpoints.DescribeTierAsync(
            new TierDescription("standard", [spec]), (_, _) => Task.FromResult(route), TimeSpan.FromSeconds(5), time, CancellationToken.None);

        Assert.False(view.Available);
        var health = Assert.Single(view.Models).Health!;
        Assert.Equal((false, 3, openUntil, 4L, 3L), (health.Available, health.ConsecutiveFailures, health.OpenUntil, health.Successes, health.Failures));
    }

    [Fact]
    public async Task Tier_names_come_from_the_cluster_when_the_front_door_is_a_client_without_models_configuration()
    {
        var (siloPort, gatewayPort) = Ports.TwoFree();
        var clusterId = "tiers-client-" + Guid.NewGuid().ToString("N")[..8];
        const string serviceId = "tiers-client-tests";

        // The silo has the fixture's tiers (standard, premium, local); the front door has no Models section at all, so
        // on its own it would know only the default local tier.
        var siloBuilder = Host.CreateApplicationBuilder();
        siloBuilder.Configuration.AddCommandLine(FrontDoorFixture.Settings("http://127.0.0.1:9/v1"));
        siloBuilder.Logging.SetMinimumLevel(LogLevel.Warning);
        siloBuilder.UseOrleans(s => s
            .UseLocalhostClustering(siloPort, gatewayPort, serviceId: serviceId, clusterId: clusterId)
            .AddMemoryGrainStorage("store")
            .ConfigureServices(services => services.AddMicroAppsGrains(siloBuilder.Configuration)));
        using var silo = siloBuilder.Build();
        await silo.StartAsync();

        var frontDoor = FrontDoorApplication.Create(
            ["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning", $"--FrontDoor:AdminToken={FrontDoorFixture.AdminToken}"],
            builder => builder.UseOrleansClient(client => client
                .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort))
                .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, serviceId))));
        await using (frontDoor)
        {
            await frontDoor.StartAsync();
            using var http = new HttpClient { BaseAddress = new Uri(FrontDoorFixture.BoundAddress(frontDoor) + "/") };
            using var request = new HttpRequestMessage(HttpMethod.Get, "admin/tiers") { Headers = { Authorization = new("Bearer", FrontDoorFixture.AdminToken) } };
            using var response = await http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();

            Assert.True(response.StatusCode == HttpStatusCode.OK, body);
            var tiers = (await response.Content.ReadFromJsonAsync<JsonElement>()).EnumerateArray().Select(t => t.GetProperty("tier").GetString()).ToArray();
            Assert.Equal(new[] { "local", "premium", "standard" }, tiers);
            await frontDoor.StopAsync();
        }

        await silo.StopAsync();
    }

    private static MembershipEntry Entry(int port, SiloStatus status, string name) => new()
    {
        SiloAddress = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, port), 1),
        Status = status,
        SiloName = name,
        HostName = "host-" + name,
        StartTime = new DateTime(2026, 11, 29, 10, 0, 0, DateTimeKind.Utc),
        IAmAliveTime = new DateTime(2026, 11, 29, 11, 59, 0, DateTimeKind.Utc),
    };

    private static SiloStatisticsView Statistics(int activations) =>
        new(activations, activations, 12.5, 1_000_000, 2_000_000, 3_000_000, false, 1, DateTimeOffset.Parse("2026-11-29T11:59:30Z"));
}

/// <summary>The Orleans dashboard behind the console's sign-in: an admin's console session opens it, a viewer's does not.</summary>
public sealed class DashboardConsoleSessionTests
{
    private const string ViewerToken = "dashboard-session-tests-viewer-token";

    [Fact]
    public async Task The_dashboard_accepts_an_admin_console_session_and_refuses_a_viewers()
    {
        var (siloPort, gatewayPort) = Ports.TwoFree();
        var app = FrontDoorApplication.Create(
        [
            "--urls=http://127.0.0.1:0",
            $"--FrontDoor:AdminToken={FrontDoorFixture.AdminToken}",
            "--FrontDoor:Principals:0:Name=viewer-vic",
            "--FrontDoor:Principals:0:Role=viewer",
            $"--FrontDoor:Principals:0:Token={ViewerToken}",
            "--FrontDoor:CoHostSilo=true",
            "--Orleans:Provider=Localhost",
            $"--Orleans:ClusterId=dashboard-session-{Guid.NewGuid():N}",
            $"--Orleans:SiloPort={siloPort}",
            $"--Orleans:GatewayPort={gatewayPort}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await using var _ = app;
        await app.StartAsync();

        // No cookie container: each request carries exactly the cookie the test gives it.
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false }) { BaseAddress = new Uri(FrontDoorFixture.BoundAddress(app) + "/") };
        var adminCookie = await SignInAsync(http, FrontDoorFixture.AdminToken);
        var viewerCookie = await SignInAsync(http, ViewerToken);

        using var admin = await DashboardAsync(http, adminCookie);
        using var viewer = await DashboardAsync(http, viewerCookie);
        using var none = await DashboardAsync(http, null);

        Assert.Equal(HttpStatusCode.OK, admin.StatusCode);
        Assert.Equal("text/html", admin.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
        Assert.Contains("viewer", await viewer.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        await app.StopAsync();
    }

    private static async Task<string> SignInAsync(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "console/session") { Content = JsonContent.Create(new { token }) };
        request.Headers.Add("X-MicroApps-Console", "1");
        using var response = await http.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"sign-in: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"), c => c.StartsWith("microapps_console=", StringComparison.Ordinal));
        return setCookie.Split(';')[0];
    }

    private static Task<HttpResponseMessage> DashboardAsync(HttpClient http, string? cookie)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "dashboard/");
        if (cookie is not null)
        {
            request.Headers.Add("Cookie", cookie);
        }

        return http.SendAsync(request);
    }
}
