using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MicroApps.Orleans.FakeOpenAI;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Pii;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests.Savings;

/// <summary>Its own front door: these tests publish policy sets, which are organisation-wide.</summary>
[CollectionDefinition(Name)]
public sealed class EmbeddingPolicyCollection : ICollectionFixture<FrontDoorFixture>
{
    public const string Name = "front door embedding policies";
}

/// <summary>Policies govern embedding calls as tier <c>embeddings</c>: block refuses, redact masks PII before the backend.</summary>
[Collection(EmbeddingPolicyCollection.Name)]
public sealed class EmbeddingPolicyTests(FrontDoorFixture fixture)
{
    private const string Model = FrontDoorFixture.EmbeddingModel;

    [Fact]
    public async Task A_block_policy_on_the_embeddings_tier_refuses_pii_with_403_before_the_backend()
    {
        var appId = FrontDoorFixture.NewAppId("embpol");
        var key = await fixture.CreateAppWithKeyAsync(appId);
        await PublishAsync($"""
            policies:
              - id: no_pii_to_external_embeddings
                description: No PII to external embedding models
                condition:
                  - app.id: {appId}
                  - model.tier: embeddings
                  - model.external: true
                  - request.pii: [email]
                action: block
            """);
        var before = fixture.Upstream.EmbeddingRequestsReceived;

        using var blocked = await PostAsync(key, "mail bob@example.com the report " + Guid.NewGuid().ToString("N"));
        using var allowed = await PostAsync(key, "no personal data here " + Guid.NewGuid().ToString("N"));

        var error = await OpenAIError.ReadAsync(blocked);
        Assert.Equal(HttpStatusCode.Forbidden, error.Status);
        Assert.Equal("policy_blocked", error.Code);
        Assert.Contains("no_pii_to_external_embeddings", error.Message);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal(before + 1, fixture.Upstream.EmbeddingRequestsReceived);

        var trace = TraceOf(blocked);
        Assert.Equal("blocked", trace.Outcome);
        Assert.Equal("policy_blocked", trace.ErrorCode);
        Assert.StartsWith("block:no_pii_to_external_embeddings", trace.Policy);
    }

    [Fact]
    public async Task A_redact_policy_masks_pii_before_the_text_reaches_the_backend()
    {
        var appId = FrontDoorFixture.NewAppId("embpol");
        var key = await fixture.CreateAppWithKeyAsync(appId);
        await PublishAsync($"""
            policies:
              - id: mask_pii_in_embeddings
                condition:
                  - app.id: {appId}
                  - model.tier: embeddings
                  - request.pii: true
                action: redact
            """);
        var input = "reach carol@example.com for access " + Guid.NewGuid().ToString("N");

        using var response = await PostAsync(key, input);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        var vector = json.RootElement.GetProperty("data")[0].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var redacted = PiiScanner.Default.Redact(input);
        Assert.DoesNotContain("carol@example.com", redacted);
        Assert.Equal(FakeEmbeddings.VectorOf(redacted), vector);
    }

    private async Task PublishAsync(string yaml)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "admin/policies")
        {
            Content = new StringContent(yaml, Encoding.UTF8, "application/yaml"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FrontDoorFixture.AdminToken);
        using var response = await fixture.Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"publish: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private Task<HttpResponseMessage> PostAsync(string apiKey, string input)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/embeddings")
        {
            Content = new StringContent(JsonSerializer.Serialize(new { model = Model, input, encoding_format = "float" }), Encoding.UTF8, "application/json"),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return fixture.Http.SendAsync(request);
    }

    private TraceEvent TraceOf(HttpResponseMessage response)
    {
        var requestId = response.Headers.GetValues("x-request-id").Single();
        return fixture.FrontDoor.Services.GetRequiredService<InMemoryTraceSink>().Recent().Last(e => e.RequestId == requestId);
    }
}
