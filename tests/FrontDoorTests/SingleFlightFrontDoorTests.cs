using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MicroApps.Orleans.Caching;
using MicroApps.Orleans.FakeOpenAI;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// Single-flight through the front door: identical non-streaming requests in flight at once reach the upstream once.
/// A front door of its own (co-hosted silo) over an upstream that answers after a delay, so the requests overlap.
/// </summary>
public sealed class SingleFlightFrontDoorTests
{
    private const int Callers = 6;
    private const int CacheShards = 4;

    [Fact]
    public async Task Identical_requests_in_flight_at_once_reach_the_upstream_once_and_all_get_its_answer()
    {
        // Long enough that every follower reaches the cache shard while the leader waits on the upstream.
        await using var upstream = await FakeOpenAIServer.StartAsync(new FakeOpenAIOptions { Latency = TimeSpan.FromSeconds(5) });
        var (siloPort, gatewayPort) = Ports.TwoFree();
        var settings = FrontDoorFixture.Settings(
            upstream.BaseUrl,
            "--FrontDoor:CoHostSilo=true",
            "--Orleans:Provider=Localhost",
            $"--Orleans:ClusterId=single-flight-{Guid.NewGuid():N}",
            "--Orleans:ServiceId=single-flight-tests",
            $"--Orleans:SiloPort={siloPort}",
            $"--Orleans:GatewayPort={gatewayPort}",
            $"--Gateway:CacheShards={CacheShards}");
        await using var frontDoor = await OwnFrontDoor.StartAsync(settings);
        var http = frontDoor.Http;
        var apiKey = await frontDoor.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("sf"));
        var body = FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, $"Summarise the single-flight notes {Guid.NewGuid():N}", maxTokens: 16);
        var grains = frontDoor.App.Services.GetRequiredService<IGrainFactory>();
        var joinsBefore = await TotalJoinsAsync(grains);

        var leader = ChatAsync(http, apiKey, body);
        await UntilAsync(() => upstream.RequestsReceived == 1, "the leader at the upstream");
        var followers = Enumerable.Range(0, Callers - 1).Select(_ => ChatAsync(http, apiKey, body)).ToArray();
        var answers = await Task.WhenAll([leader, .. followers]);

        Assert.Equal(1, upstream.RequestsReceived);
        Assert.All(answers, a => Assert.Equal(HttpStatusCode.OK, a.Status));
        Assert.Single(answers.Select(a => a.Content).Distinct());
        Assert.False(string.IsNullOrEmpty(answers[0].Content));
        Assert.Equal(Callers - 1, await TotalJoinsAsync(grains) - joinsBefore);
    }

    private static async Task<(HttpStatusCode Status, string? Content)> ChatAsync(HttpClient http, string apiKey, string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return (response.StatusCode, text);
        }

        using var json = JsonDocument.Parse(text);
        return (response.StatusCode, json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
    }

    private static async Task<long> TotalJoinsAsync(IGrainFactory grains)
    {
        long total = 0;
        for (var shard = 0; shard < CacheShards; shard++)
        {
            total += (await grains.GetGrain<ICacheShardGrain>(shard).GetStatsAsync()).SingleFlightJoins;
        }

        return total;
    }

    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Timed out waiting for {what}.");
            await Task.Yield();
        }
    }
}
