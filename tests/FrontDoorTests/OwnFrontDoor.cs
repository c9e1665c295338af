using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using MicroApps.Orleans.Client;
using Microsoft.AspNetCore.Builder;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// A front door of a test's own, started from settings (usually a co-hosted silo with <c>Orleans:Provider=Localhost</c>)
/// for tests that need configuration the shared <see cref="FrontDoorFixture"/> does not have; with helpers to create an
/// app with a key, call it and scrape it.
/// </summary>
internal sealed class OwnFrontDoor : IAsyncDisposable
{
    private OwnFrontDoor(WebApplication app, HttpClient http)
    {
        App = app;
        Http = http;
    }

    public WebApplication App { get; }

    public HttpClient Http { get; }

    public static async Task<OwnFrontDoor> StartAsync(string[] settings)
    {
        var app = FrontDoorApplication.Create(settings);
        await app.StartAsync();
        var http = new HttpClient { BaseAddress = new Uri(FrontDoorFixture.BoundAddress(app) + "/"), Timeout = TimeSpan.FromSeconds(60) };
        return new OwnFrontDoor(app, http);
    }

    public async Task<string> CreateAppWithKeyAsync(string appId)
    {
        using var created = await Admin(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Own front door test " + appId,
            owner = "tests@example.com",
            team = "own-front-door-tests",
            audience = "internal",
            dataClasses = Array.Empty<string>(),
            allowedTiers = new[] { "standard" },
            defaultTier = "standard",
            quotas = new { requestsPerMinute = 1000, tokensPerDay = 1_000_000 },
            budget = new { limitUsd = 100m, period = "day" },
            initialState = "published",
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create app: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        using var issued = await Admin(HttpMethod.Post, $"admin/apps/{appId}/keys", new { label = "tests" });
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        using var json = JsonDocument.Parse(await issued.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("apiKey").GetString()!;
    }

    public Task<HttpResponseMessage> ChatAsync(string apiKey, string model, string? traceparent = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(FrontDoorFixture.ChatBody(model, $"count the invoices {Guid.NewGuid():N}"), System.Text.Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        if (traceparent is not null)
        {
            request.Headers.Add("traceparent", traceparent);
        }

        return Http.SendAsync(request);
    }

    public Task<HttpResponseMessage> ScrapeAsync(string path, string? token = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path.TrimStart('/'));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> Admin(HttpMethod method, string path, object body) =>
        Http.SendAsync(new HttpRequestMessage(method, path)
        {
            Headers = { Authorization = new AuthenticationHeaderValue("Bearer", FrontDoorFixture.AdminToken) },
            Content = JsonContent.Create(body),
        });

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
