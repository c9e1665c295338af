using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MicroApps.Orleans.Client;
using MicroApps.Orleans.FakeOpenAI;
using MicroApps.Orleans.Savings;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// Shadow evaluations end to end, on a front door of its own that shadows every call
/// (<c>Savings:Shadow:Share=1</c>): a premium call is answered, then shadowed by the standard model on the fake
/// upstream, charged to <c>platform:shadow</c> and recorded as evidence about the standard model.
/// </summary>
public sealed class SavingsShadowEndToEndTests : IAsyncLifetime
{
    private FakeOpenAIServer _upstream = null!;
    private WebApplication _frontDoor = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        _upstream = await FakeOpenAIServer.StartAsync();
        var (siloPort, gatewayPort) = Ports.TwoFree();
        _frontDoor = FrontDoorApplication.Create(
            FrontDoorFixture.Settings(_upstream.BaseUrl, "--Savings:Shadow:Share=1", "--Savings:Shadow:MaxConcurrent=4"),
            builder => builder.UseOrleans(silo => silo
                .UseLocalhostClustering(siloPort, gatewayPort, serviceId: "shadow-tests", clusterId: "shadow-tests-" + Guid.NewGuid().ToString("N")[..8])
                .AddMemoryGrainStorage("store")
                .ConfigureServices(services => services.AddMicroAppsGrains(builder.Configuration))));
        await _frontDoor.StartAsync();
        _http = new HttpClient { BaseAddress = new Uri(FrontDoorFixture.BoundAddress(_frontDoor) + "/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        _http?.Dispose();
        if (_frontDoor is not null)
        {
            await _frontDoor.StopAsync();
            await _frontDoor.DisposeAsync();
        }

        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }
    }

    private async Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, object? body = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = body is null ? null : JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FrontDoorFixture.AdminToken);
        return await _http.SendAsync(request);
    }

    private async Task<decimal> SpentAsync(string budgetId)
    {
        using var response = await AdminAsync(HttpMethod.Get, $"admin/budgets/{budgetId}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.GetProperty("spentUsd").GetDecimal();
    }

    [Fact]
    public async Task A_premium_call_is_shadowed_by_the_standard_model_on_the_platform_budget_and_recorded_as_its_evidence()
    {
        using (var platform = await AdminAsync(HttpMethod.Put, "admin/budgets/platform:shadow", new { limitUsd = 5m, period = "day" }))
        {
            Assert.True(platform.IsSuccessStatusCode, await platform.Content.ReadAsStringAsync());
        }

        var appId = FrontDoorFixture.NewAppId("shd");
        using (var created = await AdminAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Shadowed app",
            owner = "tests@example.com",
            team = "shadow-tests",
            audience = "internal",
            dataClasses = Array.Empty<string>(),
            allowedTiers = new[] { "standard", "premium" },
            defaultTier = "premium",
            budget = new { limitUsd = 10m, period = "day" },
            initialState = "published",
            savings = new { task = "summarise" },
        }))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        string key;
        using (var issued = await AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/keys", new { label = "t" }))
        {
            key = JsonDocument.Parse(await issued.Content.ReadAsStringAsync()).RootElement.GetProperty("apiKey").GetString()!;
        }

        var evaluator = _frontDoor.Services.GetRequiredService<ShadowEvaluator>();
        var quality = _frontDoor.Services.GetRequiredService<IGrainFactory>().GetGrain<IModelQualityGrain>(QueryTypes.Summarise);
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(FrontDoorFixture.ChatBody("premium", "Summarise: the invoice backlog grew in March."), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var requestId = "shd-" + Guid.NewGuid().ToString("N");
        request.Headers.Add("X-Request-Id", requestId);
        using (var call = await _http.SendAsync(request))
        {
            var body = await call.Content.ReadAsStringAsync();
            Assert.True(call.StatusCode == HttpStatusCode.OK, body);
            Assert.Equal(FrontDoorFixture.PremiumModel, JsonDocument.Parse(body).RootElement.GetProperty("model").GetString());
        }

        await evaluator.WhenIdleAsync();

        // The call and its shadow both reached the upstream; the app paid for its call only.
        Assert.Equal(2, _upstream.RequestsReceived);
        Assert.Equal(1, evaluator.Stats.Recorded);
        var shadowSpend = await SpentAsync("platform:shadow");
        Assert.True(shadowSpend > 0m, "the shadow call is charged to the platform budget");
        using (var trace = await AdminAsync(HttpMethod.Get, $"admin/traces/{appId}/{requestId}"))
        {
            var body = await trace.Content.ReadAsStringAsync();
            Assert.True(trace.StatusCode == HttpStatusCode.OK, body);
            var callCost = JsonDocument.Parse(body).RootElement.GetProperty("costActualUsd").GetDecimal();
            Assert.True(callCost > 0m);
            Assert.Equal(callCost, await SpentAsync($"app:{appId}"));
        }

        // The fake upstream answers both models alike, so the standard model agrees fully with the premium answer.
        var standard = (await quality.GetAsync()).Models.Single(m => m.Model == FrontDoorFixture.StandardModel);
        Assert.Equal(1, standard.SamplesBySource.GetValueOrDefault(QualitySources.Shadow));
        Assert.Equal(1d, standard.Score);
        Assert.DoesNotContain((await quality.GetAsync()).Models, m => m.Model == FrontDoorFixture.PremiumModel);
    }
}
