using System.Net;
using System.Text.Json;
using MicroApps.Orleans.Client;
using MicroApps.Orleans.FakeOpenAI;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// A front door in client mode (static gateway list) in front of a separate in-process silo that the
/// test stops: requests must end in 503 cluster_unavailable with Retry-After, not hang or 500.
/// </summary>
public sealed class ClusterUnavailableTests : IAsyncLifetime
{
    private const string ServiceId = "frontdoor-client-tests";
    private FakeOpenAIServer upstream = null!;
    private IHost silo = null!;
    private WebApplication frontDoor = null!;
    private HttpClient http = null!;

    public async Task InitializeAsync()
    {
        upstream = await FakeOpenAIServer.StartAsync();
        var (siloPort, gatewayPort) = Ports.TwoFree();
        var clusterId = "client-tests-" + Guid.NewGuid().ToString("N")[..8];
        var settings = FrontDoorFixture.Settings(upstream.BaseUrl);

        var siloBuilder = Host.CreateApplicationBuilder();
        siloBuilder.Configuration.AddCommandLine(settings);
        siloBuilder.Logging.SetMinimumLevel(LogLevel.Warning);
        siloBuilder.UseOrleans(s => s
            .UseLocalhostClustering(siloPort, gatewayPort, serviceId: ServiceId, clusterId: clusterId)
            .AddMemoryGrainStorage("store")
            .ConfigureServices(services => services.AddMicroAppsGrains(siloBuilder.Configuration)));
        silo = siloBuilder.Build();
        await silo.StartAsync();

        frontDoor = FrontDoorApplication.Create(
            FrontDoorFixture.Settings(upstream.BaseUrl, "--FrontDoor:ClusterRetryWindow=00:00:02", "--FrontDoor:ClusterUnavailableRetryAfterSeconds=7"),
            builder => builder.UseOrleansClient(client => client
                .UseStaticClustering(new IPEndPoint(IPAddress.Loopback, gatewayPort))
                .Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (clusterId, ServiceId))
                .Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(3))));
        await frontDoor.StartAsync();
        http = new HttpClient { BaseAddress = new Uri(FrontDoorFixture.BoundAddress(frontDoor) + "/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        http?.Dispose();
        if (frontDoor is not null)
        {
            await frontDoor.StopAsync();
            await frontDoor.DisposeAsync();
        }

        if (silo is not null)
        {
            silo.Dispose();
        }

        if (upstream is not null)
        {
            await upstream.DisposeAsync();
        }
    }

    [Fact]
    public async Task Requests_get_503_cluster_unavailable_with_retry_after_once_the_silo_is_gone()
    {
        using (var ready = await http.GetAsync("health/ready"))
        {
            Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        }

        await silo.StopAsync();

        using var chat = await PostChatAsync();
        var error = await OpenAIError.ReadAsync(chat);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, error.Status);
        Assert.Equal("cluster_unavailable", error.Code);
        Assert.Equal("7", chat.Headers.GetValues("Retry-After").Single());

        using var models = await GetWithKeyAsync("v1/models");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, models.StatusCode);
        Assert.Equal("cluster_unavailable", (await OpenAIError.ReadAsync(models)).Code);

        using var admin = new HttpRequestMessage(HttpMethod.Get, "admin/apps");
        admin.Headers.Authorization = new("Bearer", FrontDoorFixture.AdminToken);
        using var adminResponse = await http.SendAsync(admin);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, adminResponse.StatusCode);
        Assert.Equal("application/problem+json", adminResponse.Content.Headers.ContentType?.MediaType);

        using var notReady = await http.GetAsync("health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, notReady.StatusCode);
        using var live = await http.GetAsync("health/live");
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        Assert.Equal(0, frontDoor.Services.GetRequiredService<Client.Infrastructure.UnhandledFailures>().Count);
    }

    private Task<HttpResponseMessage> PostChatAsync()
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "anyone there?"), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new("Bearer", "mak.some-app.k1.secret");
        return http.SendAsync(request);
    }

    private Task<HttpResponseMessage> GetWithKeyAsync(string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new("Bearer", "mak.some-app.k1.secret");
        return http.SendAsync(request);
    }
}

public sealed class OptionsValidationTests
{
    [Theory]
    [InlineData("--FrontDoor:AdminToken=", "FrontDoor:AdminToken")]
    [InlineData("--FrontDoor:MaxRequestBodyBytes=10", "FrontDoor:MaxRequestBodyBytes")]
    public async Task A_bad_setting_stops_the_front_door_at_start_naming_the_setting(string setting, string named)
    {
        var (siloPort, gatewayPort) = Ports.TwoFree();
        var settings = FrontDoorFixture.Settings("http://127.0.0.1:9/v1", setting);
        await using var app = FrontDoorApplication.Create(settings, builder =>
            builder.UseOrleans(s => s.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "options-tests", clusterId: Guid.NewGuid().ToString("N"))
                .AddMemoryGrainStorage("store")));

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(named, failure.Message);
    }
}
