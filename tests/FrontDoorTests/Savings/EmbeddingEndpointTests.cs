using System.ClientModel;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.FakeOpenAI;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Embeddings;

namespace MicroApps.Orleans.FrontDoorTests.Savings;

/// <summary>
/// <c>POST /v1/embeddings</c> end to end: the front door, the co-hosted silo (gateway grain, cache shards, batcher) and
/// the fake upstream. The fake's vectors are a hash of each input and its usage is the word count, so tests know the
/// exact vectors and charges. Each test uses fresh apps and inputs unique to it (the cache outlives tests).
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class EmbeddingEndpointTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture)
{
    private const string Model = FrontDoorFixture.EmbeddingModel;

    private IGrainFactory Grains => Fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>();

    private static string Unique(string text) => $"{text} {Guid.NewGuid():N}";

    [Fact]
    public async Task OpenAI_client_gets_the_upstream_vectors_and_word_count_usage()
    {
        var appId = FrontDoorFixture.NewAppId("emb");
        var key = await Fixture.CreateAppWithKeyAsync(appId);
        var client = new EmbeddingClient(Model, new ApiKeyCredential(key), new OpenAIClientOptions { Endpoint = new Uri(Fixture.BaseAddress, "v1") });
        string[] inputs = [Unique("the quick brown fox"), Unique("jumps over")];

        // The .NET client asks for base64, so this also checks the base64 encoding end to end.
        var result = await client.GenerateEmbeddingsAsync(inputs);

        Assert.Equal(2, result.Value.Count);
        for (var i = 0; i < inputs.Length; i++)
        {
            Assert.Equal(i, result.Value[i].Index);
            Assert.Equal(FakeEmbeddings.VectorOf(inputs[i]), result.Value[i].ToFloats().ToArray());
        }

        Assert.Equal(5 + 3, result.Value.Usage.InputTokenCount);
        Assert.Equal(5 + 3, result.Value.Usage.TotalTokenCount);
        Assert.Equal(Model, result.Value.Model);
    }

    [Fact]
    public async Task Float_and_base64_encodings_carry_the_same_vector()
    {
        var key = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("emb"));
        var input = Unique("encode me please");

        using var asFloats = await PostAsync(key, new { model = Model, input, encoding_format = "float", dimensions = 24 });
        using var asBase64 = await PostAsync(key, new { model = Model, input, encoding_format = "base64", dimensions = 24 });

        var floats = await OkJsonAsync(asFloats);
        var base64 = await OkJsonAsync(asBase64);
        Assert.Equal("list", floats.GetProperty("object").GetString());
        var item = floats.GetProperty("data")[0];
        Assert.Equal("embedding", item.GetProperty("object").GetString());
        Assert.Equal(0, item.GetProperty("index").GetInt32());
        var fromFloats = item.GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();
        var bytes = Convert.FromBase64String(base64.GetProperty("data")[0].GetProperty("embedding").GetString()!);
        var fromBase64 = Enumerable.Range(0, bytes.Length / 4).Select(i => System.Buffers.Binary.BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(i * 4))).ToArray();

        var expected = FakeEmbeddings.VectorOf(input, 24);
        Assert.Equal(expected, fromFloats);
        Assert.Equal(expected, fromBase64);
    }

    [Theory]
    [InlineData("""{"model":"text-embedding-3-small"}""", "input")]
    [InlineData("""{"model":"text-embedding-3-small","input":[]}""", "input")]
    [InlineData("""{"model":"text-embedding-3-small","input":""}""", "input")]
    [InlineData("""{"model":"text-embedding-3-small","input":["ok","  "]}""", "input")]
    [InlineData("""{"model":"text-embedding-3-small","input":[[1,2,3]]}""", "input")]
    [InlineData("""{"model":"text-embedding-3-small","input":42}""", "input")]
    [InlineData("""{"input":"hello"}""", "model")]
    [InlineData("""{"model":"no-such-embedder","input":"hello"}""", "model")]
    [InlineData("""{"model":"gpt-4o-mini","input":"hello"}""", "model")]
    [InlineData("""{"model":"text-embedding-3-small","input":"hello","dimensions":0}""", "dimensions")]
    [InlineData("""{"model":"text-embedding-3-small","input":"hello","dimensions":"8"}""", "dimensions")]
    [InlineData("""{"model":"text-embedding-3-small","input":"hello","dimensions":65}""", "dimensions")]
    [InlineData("""{"model":"text-embedding-3-small","input":"hello","encoding_format":"int8"}""", "encoding_format")]
    public async Task Invalid_requests_are_refused_with_400_naming_the_field(string body, string param)
    {
        var key = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("emb"));
        var before = Fixture.Upstream.EmbeddingRequestsReceived;

        using var response = await PostRawAsync(key, body);

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(param, error.Param);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.Equal(before, Fixture.Upstream.EmbeddingRequestsReceived);
    }

    [Fact]
    public async Task A_content_marking_other_than_public_is_refused_naming_the_header()
    {
        var key = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("emb"));

        using var response = await PostAsync(key, new { model = Model, input = "hello" }, contentMarking: "Public");

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("X-MicroApps-Content", error.Param);
    }

    [Fact]
    public async Task Unknown_or_missing_key_is_refused_with_401()
    {
        var appId = FrontDoorFixture.NewAppId("emb");
        await Fixture.CreateAppWithKeyAsync(appId);

        using var wrongSecret = await PostAsync($"mak.{appId}.k1.not-the-secret", new { model = Model, input = "hello" });
        using var malformed = await PostAsync("sk-not-an-app-key", new { model = Model, input = "hello" });
        using var missing = await PostAsync(null, new { model = Model, input = "hello" });

        foreach (var response in new[] { wrongSecret, malformed, missing })
        {
            var error = await OpenAIError.ReadAsync(response);
            Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
            Assert.Equal("authentication_error", error.Type);
        }
    }

    [Fact]
    public async Task A_repeated_input_is_served_from_the_app_cache_at_no_cost_without_reaching_the_backend()
    {
        var appId = FrontDoorFixture.NewAppId("emb");
        var key = await Fixture.CreateAppWithKeyAsync(appId);
        var input = Unique("cache me if you can");

        using var first = await PostAsync(key, new { model = Model, input });
        var firstJson = await OkJsonAsync(first);
        var upstreamAfterFirst = Fixture.Upstream.EmbeddingRequestsReceived;
        var spentAfterFirst = (await BudgetAsync(appId)).SpentUsd;

        using var second = await PostAsync(key, new { model = Model, input = "  " + input.Replace(" ", "   ") + "\n" }, requestId: "second-" + Guid.NewGuid().ToString("N"));
        var secondJson = await OkJsonAsync(second);

        Assert.Equal("miss", first.Headers.GetValues("x-microapps-cache").Single());
        Assert.Equal("hit", second.Headers.GetValues("x-microapps-cache").Single());
        Assert.Equal("0", second.Headers.GetValues("x-microapps-cost-usd").Single());
        Assert.Equal(0, secondJson.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(Vector(firstJson, 0), Vector(secondJson, 0));
        Assert.Equal(upstreamAfterFirst, Fixture.Upstream.EmbeddingRequestsReceived);
        Assert.Equal(spentAfterFirst, (await BudgetAsync(appId)).SpentUsd);

        var trace = TraceOf(second);
        Assert.Equal("cache_hit", trace.Outcome);
        Assert.Equal("cache", trace.Saving);
        Assert.Equal("embeddings", trace.ModelTier);
        Assert.Equal(0m, trace.CostActualUsd);
    }

    [Fact]
    public async Task Cached_embeddings_are_not_shared_across_apps_when_not_marked_public()
    {
        var keyA = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("emb"));
        var keyB = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("emb"));
        var input = Unique("private to app a");

        using var fromA = await PostAsync(keyA, new { model = Model, input });
        await OkJsonAsync(fromA);
        var before = Fixture.Upstream.EmbeddingRequestsReceived;
        using var fromB = await PostAsync(keyB, new { model = Model, input });
        await OkJsonAsync(fromB);

        Assert.Equal("miss", fromB.Headers.GetValues("x-microapps-cache").Single());
        Assert.Equal(before + 1, Fixture.Upstream.EmbeddingRequestsReceived);
    }

    [Fact]
    public async Task Content_marked_public_is_shared_across_apps()
    {
        var keyA = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("emb"));
        var appB = FrontDoorFixture.NewAppId("emb");
        var keyB = await Fixture.CreateAppWithKeyAsync(appB);
        var input = Unique("the public handbook says hello");

        using var fromA = await PostAsync(keyA, new { model = Model, input }, contentMarking: "public");
        await OkJsonAsync(fromA);
        var before = Fixture.Upstream.EmbeddingRequestsReceived;
        using var fromB = await PostAsync(keyB, new { model = Model, input }, contentMarking: "public");
        var json = await OkJsonAsync(fromB);

        Assert.Equal("hit", fromB.Headers.GetValues("x-microapps-cache").Single());
        Assert.Equal(before, Fixture.Upstream.EmbeddingRequestsReceived);
        Assert.Equal(FakeEmbeddings.VectorOf(input), Vector(json, 0));
        Assert.Equal(0m, (await BudgetAsync(appB)).SpentUsd);
    }

    [Fact]
    public async Task Public_marked_content_with_pii_is_cached_per_app_only()
    {
        var keyA = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("emb"));
        var keyB = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("emb"));
        var withPii = Unique("write to jane.doe@example.com about it");
        var clean = Unique("a public sentence without personal data");

        using var fromA = await PostAsync(keyA, new { model = Model, input = new[] { withPii, clean } }, contentMarking: "public");
        await OkJsonAsync(fromA);
        Fixture.Upstream.ResetCounters();
        using var fromB = await PostAsync(keyB, new { model = Model, input = new[] { withPii, clean } }, contentMarking: "public");
        await OkJsonAsync(fromB);

        // Only the PII input missed in B: the clean one came from the shared scope.
        Assert.Equal("partial", fromB.Headers.GetValues("x-microapps-cache").Single());
        Assert.Equal([1], Fixture.Upstream.EmbeddingBatchSizes);
        var trace = TraceOf(fromB);
        Assert.Contains("email", trace.PiiClasses ?? []);
    }

    [Fact]
    public async Task A_partly_cached_request_sends_only_the_misses_and_pays_only_for_them()
    {
        var appId = FrontDoorFixture.NewAppId("emb");
        var key = await Fixture.CreateAppWithKeyAsync(appId);
        var seen = Unique("already seen");
        var fresh = Unique("brand new words here");

        using var warm = await PostAsync(key, new { model = Model, input = seen });
        await OkJsonAsync(warm);
        var spentBefore = (await BudgetAsync(appId)).SpentUsd;
        Fixture.Upstream.ResetCounters();
        using var mixed = await PostAsync(key, new { model = Model, input = new[] { seen, fresh, seen } });
        var json = await OkJsonAsync(mixed);

        Assert.Equal([1], Fixture.Upstream.EmbeddingBatchSizes);
        Assert.Equal(FakeEmbeddings.VectorOf(seen), Vector(json, 0));
        Assert.Equal(FakeEmbeddings.VectorOf(fresh), Vector(json, 1));
        Assert.Equal(FakeEmbeddings.VectorOf(seen), Vector(json, 2));
        var freshTokens = FakeEmbeddings.TokensOf(fresh);
        Assert.Equal(freshTokens, json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32());
        Assert.Equal(spentBefore + freshTokens * FrontDoorFixture.EmbeddingPricePer1K / 1000m, (await BudgetAsync(appId)).SpentUsd);
        Assert.Equal("partial", mixed.Headers.GetValues("x-microapps-cache").Single());
    }

    [Fact]
    public async Task Concurrent_requests_within_the_batch_window_reach_the_backend_as_fewer_calls()
    {
        const int callers = 8;
        var keys = new List<string>();
        for (var i = 0; i < callers; i++)
        {
            keys.Add(await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("emb")));
        }

        var inputs = Enumerable.Range(0, callers).Select(i => Unique($"batched input number {i}")).ToArray();
        Fixture.Upstream.ResetCounters();

        var responses = await Task.WhenAll(Enumerable.Range(0, callers).Select(i => PostAsync(keys[i], new { model = Model, input = inputs[i] })));

        var tokens = 0;
        for (var i = 0; i < callers; i++)
        {
            using var response = responses[i];
            var json = await OkJsonAsync(response);
            Assert.Equal(FakeEmbeddings.VectorOf(inputs[i]), Vector(json, 0));
            tokens += json.GetProperty("usage").GetProperty("prompt_tokens").GetInt32();
        }

        // A batch's usage is shared among its callers in proportion to their own token counts: the shares add up to
        // exactly what the backend reported, whatever the batches were.
        Assert.Equal(inputs.Sum(FakeEmbeddings.TokensOf), tokens);

        var sizes = Fixture.Upstream.EmbeddingBatchSizes;
        Assert.True(Fixture.Upstream.EmbeddingRequestsReceived < callers, $"expected fewer than {callers} backend calls, got batches [{string.Join(",", sizes)}]");
        Assert.Equal(callers, sizes.Sum());
    }

    [Fact]
    public async Task Budget_is_charged_exactly_and_a_retried_request_id_is_not_charged_twice()
    {
        var appId = FrontDoorFixture.NewAppId("emb");
        var key = await Fixture.CreateAppWithKeyAsync(appId);
        var requestId = "emb-retry-" + Guid.NewGuid().ToString("N");
        var input = Unique("one two three four five");
        var expected = FakeEmbeddings.TokensOf(input) * FrontDoorFixture.EmbeddingPricePer1K / 1000m;

        using var first = await PostAsync(key, new { model = Model, input }, requestId);
        await OkJsonAsync(first);
        using var retry = await PostAsync(key, new { model = Model, input }, requestId);
        await OkJsonAsync(retry);

        var budget = await BudgetAsync(appId);
        Assert.Equal(expected, budget.SpentUsd);
        Assert.Equal(0m, budget.ReservedUsd);
        Assert.Equal(expected.ToString("0.##########", System.Globalization.CultureInfo.InvariantCulture), first.Headers.GetValues("x-microapps-cost-usd").Single());

        // The same id with inputs that must reach the backend is a new call under a spent id: refused, nothing charged.
        using var reused = await PostAsync(key, new { model = Model, input = Unique("different text") }, requestId);
        var error = await OpenAIError.ReadAsync(reused);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("duplicate_request_id", error.Code);
        Assert.Equal(expected, (await BudgetAsync(appId)).SpentUsd);

        var trace = TraceOf(first, newest: false);
        Assert.Equal("success", trace.Outcome);
        Assert.Equal(expected, trace.CostActualUsd);
        Assert.Equal(FakeEmbeddings.TokensOf(input), trace.TokensIn);
        Assert.Equal(Model, trace.Model);
    }

    [Fact]
    public async Task A_backend_failure_is_a_502_and_releases_the_reservation()
    {
        var appId = FrontDoorFixture.NewAppId("emb");
        var key = await Fixture.CreateAppWithKeyAsync(appId);
        Fixture.Upstream.FailEmbeddingsWith500 = true;
        try
        {
            using var response = await PostAsync(key, new { model = Model, input = Unique("this will fail") });

            var error = await OpenAIError.ReadAsync(response);
            Assert.Equal(HttpStatusCode.BadGateway, error.Status);
            Assert.Equal("backend_failed", error.Code);
            Assert.Contains(Model, error.Message);
        }
        finally
        {
            Fixture.Upstream.FailEmbeddingsWith500 = false;
        }

        var budget = await BudgetAsync(appId);
        Assert.Equal(0m, budget.SpentUsd);
        Assert.Equal(0m, budget.ReservedUsd);
    }

    [Fact]
    public async Task An_exhausted_budget_refuses_with_429_before_the_backend()
    {
        var appId = FrontDoorFixture.NewAppId("emb");
        var key = await Fixture.CreateAppWithKeyAsync(appId, budgetLimitUsd: 0.001m);
        var before = Fixture.Upstream.EmbeddingRequestsReceived;

        // 40 words at $1/1k tokens is well over the $0.001 limit.
        using var response = await PostAsync(key, new { model = Model, input = Unique(string.Join(' ', Enumerable.Repeat("word", 40))) });

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal((HttpStatusCode)429, error.Status);
        Assert.Equal("budget_exceeded", error.Code);
        Assert.Equal(before, Fixture.Upstream.EmbeddingRequestsReceived);
    }

    private Task<HttpResponseMessage> PostAsync(string? apiKey, object body, string? requestId = null, string? contentMarking = null) =>
        PostRawAsync(apiKey, JsonSerializer.Serialize(body), requestId, contentMarking);

    private Task<HttpResponseMessage> PostRawAsync(string? apiKey, string body, string? requestId = null, string? contentMarking = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/embeddings")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (requestId is not null)
        {
            request.Headers.Add("X-Request-Id", requestId);
        }

        if (contentMarking is not null)
        {
            request.Headers.Add("X-MicroApps-Content", contentMarking);
        }

        return Fixture.Http.SendAsync(request);
    }

    private static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"expected 200, got {(int)response.StatusCode}: {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.Clone();
    }

    private static float[] Vector(JsonElement response, int index) =>
        response.GetProperty("data")[index].GetProperty("embedding").EnumerateArray().Select(e => e.GetSingle()).ToArray();

    private Task<BudgetSnapshot> BudgetAsync(string appId) => Grains.GetGrain<IBudgetGrain>($"app:{appId}").GetAsync();

    private TraceEvent TraceOf(HttpResponseMessage response, bool newest = true)
    {
        var requestId = response.Headers.GetValues("x-request-id").Single();
        var events = Fixture.FrontDoor.Services.GetRequiredService<InMemoryTraceSink>().Recent().Where(e => e.RequestId == requestId).ToArray();
        Assert.NotEmpty(events);
        return newest ? events[^1] : events[0];
    }
}
