using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests.Runtime;

/// <summary>Template apps created through the admin API's manifest fields, reading documents through their connectors.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class RuntimeManifestAppTests(FrontDoorFixture fixture)
{
    private async Task<(string AppId, string ApiKey)> SummarizerWithConnectorAsync()
    {
        var appId = FrontDoorFixture.NewAppId("rt");
        var upstream = new Uri(fixture.Upstream.BaseUrl);
        using var created = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Summarizer " + appId,
            owner = "tests@example.com",
            team = "frontdoor-tests",
            audience = "internal",
            dataClasses = Array.Empty<string>(),
            allowedTiers = new[] { "standard" },
            defaultTier = "standard",
            quotas = new { requestsPerMinute = 1000, tokensPerDay = 10_000_000 },
            budget = new { limitUsd = 100m, period = "day" },
            initialState = "published",
            template = "summarizer@1.0.0",
            parameters = new { tier = "standard", chunkTokens = 1500, maxOutputTokens = 32, source = "catalogue" },
            egressAllowlist = new[] { upstream.Host },
            connectors = new[]
            {
                new { name = "catalogue", host = upstream.Host, dataClasses = Array.Empty<string>(), use = "http-json@1.0.0", settings = new { baseUrl = fixture.Upstream.BaseUrl } },
            },
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create app: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return (appId, await fixture.IssueKeyAsync(appId));
    }

    private Task<HttpResponseMessage> RunAsync(string appId, string apiKey, object body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, $"apps/{appId}/run") { Content = JsonContent.Create(body) };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return fixture.Http.SendAsync(request);
    }

    [Fact]
    public async Task A_document_read_through_a_declared_connector_is_summarised()
    {
        var (appId, apiKey) = await SummarizerWithConnectorAsync();
        var listings = fixture.Upstream.ModelListRequests;

        // No connector named: the app's `source` parameter names it.
        using var response = await RunAsync(appId, apiKey, new { source = new { path = "models" } });

        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        var steps = json.RootElement.GetProperty("steps").EnumerateArray().ToList();
        Assert.Equal(["read:catalogue", "summary"], steps.Select(s => s.GetProperty("name").GetString()));
        Assert.Equal("connector", steps[0].GetProperty("kind").GetString());
        Assert.Equal(1, fixture.Upstream.ModelListRequests - listings);
    }

    [Fact]
    public async Task A_connector_the_app_did_not_declare_is_refused_before_any_call()
    {
        var (appId, apiKey) = await SummarizerWithConnectorAsync();
        var before = fixture.Upstream.RequestsReceived;
        var listings = fixture.Upstream.ModelListRequests;

        using var response = await RunAsync(appId, apiKey, new { source = new { connector = "elsewhere", path = "models" } });

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal((HttpStatusCode.Forbidden, "connector_not_declared"), (error.Status, error.Code));
        Assert.Equal(0, fixture.Upstream.RequestsReceived - before);
        Assert.Equal(0, fixture.Upstream.ModelListRequests - listings);
    }
}
