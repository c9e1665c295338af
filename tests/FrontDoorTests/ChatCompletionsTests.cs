using System.ClientModel;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using OpenAI;
using OpenAI.Chat;

namespace MicroApps.Orleans.FrontDoorTests;

[Collection(FrontDoorCollection.Name)]
public sealed class ChatCompletionsTests(FrontDoorFixture fixture)
{
    private ChatClient SdkClient(string apiKey, string model = FrontDoorFixture.StandardModel) =>
        new(model, new ApiKeyCredential(apiKey), new OpenAIClientOptions { Endpoint = new Uri(fixture.BaseAddress, "v1") });

    [Fact]
    public async Task Official_sdk_completes_a_chat_through_the_governed_call()
    {
        var appId = FrontDoorFixture.NewAppId();
        var key = await fixture.CreateAppWithKeyAsync(appId);
        var before = fixture.Upstream.RequestsReceived;

        var result = await SdkClient(key).CompleteChatAsync([new UserChatMessage("hello there front door")]);

        var completion = result.Value;
        Assert.Equal("hello there front door", completion.Content[0].Text);
        Assert.Equal(ChatFinishReason.Stop, completion.FinishReason);
        Assert.Equal(4, completion.Usage.OutputTokenCount);
        Assert.True(completion.Usage.InputTokenCount > 0);
        Assert.Equal(completion.Usage.InputTokenCount + completion.Usage.OutputTokenCount, completion.Usage.TotalTokenCount);
        Assert.StartsWith("chatcmpl-", completion.Id);
        Assert.Equal(before + 1, fixture.Upstream.RequestsReceived);

        var raw = result.GetRawResponse();
        Assert.True(raw.Headers.TryGetValue("x-request-id", out var requestId));
        Assert.Equal("chatcmpl-" + requestId, completion.Id);
        Assert.True(raw.Headers.TryGetValue("x-microapps-tier", out var tier));
        Assert.Equal("standard", tier);
        Assert.True(raw.Headers.TryGetValue("x-microapps-cache", out var cache));
        Assert.Equal("miss", cache);
        Assert.True(raw.Headers.TryGetValue("x-microapps-cost-usd", out var cost));
        Assert.True(decimal.Parse(cost!, CultureInfo.InvariantCulture) > 0m, $"cost {cost}");
    }

    [Fact]
    public async Task Official_sdk_streams_deltas_and_reports_usage_in_the_final_update()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId());
        var text = new StringBuilder();
        ChatTokenUsage? usage = null;
        ChatFinishReason? finish = null;
        var updates = 0;

        await foreach (var update in SdkClient(key).CompleteChatStreamingAsync([new UserChatMessage("stream these five words please")]))
        {
            updates++;
            foreach (var part in update.ContentUpdate)
            {
                text.Append(part.Text);
            }

            usage = update.Usage ?? usage;
            finish = update.FinishReason ?? finish;
        }

        Assert.Equal("stream these five words please", text.ToString().Trim());
        Assert.True(updates >= 3, $"only {updates} updates");
        Assert.Equal(ChatFinishReason.Stop, finish);
        Assert.NotNull(usage);
        Assert.Equal(5, usage.OutputTokenCount);
        Assert.True(usage.InputTokenCount > 0);
    }

    [Fact]
    public async Task Stream_is_server_sent_events_ending_with_usage_chunk_then_done()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId());
        var body = """{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":[{"type":"text","text":"two "},{"type":"text","text":"parts"}]}]}""";

        using var response = await fixture.PostChatAsync(key, body, requestId: "stream-req-1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("stream-req-1", response.Headers.GetValues("x-request-id").Single());
        var events = (await response.Content.ReadAsStringAsync())
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e.StartsWith("data: ", StringComparison.Ordinal) ? e["data: ".Length..] : throw new Xunit.Sdk.XunitException($"not an SSE data line: {e}"))
            .ToList();

        Assert.Equal("[DONE]", events[^1]);
        var chunks = events[..^1].Select(e => JsonDocument.Parse(e).RootElement).ToList();
        Assert.All(chunks, c => Assert.Equal("chat.completion.chunk", c.GetProperty("object").GetString()));
        Assert.All(chunks, c => Assert.Equal("chatcmpl-stream-req-1", c.GetProperty("id").GetString()));
        Assert.Equal("assistant", chunks[0].GetProperty("choices")[0].GetProperty("delta").GetProperty("role").GetString());

        var usageChunk = chunks[^1];
        Assert.Equal(0, usageChunk.GetProperty("choices").GetArrayLength());
        Assert.Equal(2, usageChunk.GetProperty("usage").GetProperty("completion_tokens").GetInt32());

        var finalChoice = chunks[^2].GetProperty("choices")[0];
        Assert.Equal("stop", finalChoice.GetProperty("finish_reason").GetString());

        var content = string.Concat(chunks.SelectMany(c => c.GetProperty("choices").EnumerateArray())
            .Select(c => c.GetProperty("delta").TryGetProperty("content", out var d) ? d.GetString() : ""));
        Assert.Equal("two parts", content.Trim());
    }

    [Fact]
    public async Task Stream_names_the_answering_model_and_its_tier_from_the_first_chunk()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId());
        var body = """{"model":"standard","stream":true,"messages":[{"role":"user","content":"which model answers"}]}""";

        using var response = await fixture.PostChatAsync(key, body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("standard", response.Headers.GetValues("x-microapps-tier").Single());
        Assert.Equal("miss", response.Headers.GetValues("x-microapps-cache").Single());
        var chunks = (await response.Content.ReadAsStringAsync())
            .Split("\n\n", StringSplitOptions.RemoveEmptyEntries)
            .Where(e => e != "data: [DONE]")
            .Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement)
            .ToList();
        Assert.NotEmpty(chunks);
        Assert.All(chunks, c => Assert.Equal(FrontDoorFixture.StandardModel, c.GetProperty("model").GetString()));
    }

    [Fact]
    public async Task Models_lists_the_models_of_the_apps_allowed_tiers()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId(), allowedTiers: ["standard", "local"]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.Authorization = new("Bearer", key);

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("list", json.RootElement.GetProperty("object").GetString());
        var ids = json.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains(FrontDoorFixture.StandardModel, ids);
        Assert.Contains(FrontDoorFixture.LocalModel, ids);
        Assert.All(json.RootElement.GetProperty("data").EnumerateArray(), m => Assert.Equal("model", m.GetProperty("object").GetString()));
    }

    [Fact]
    public async Task Models_of_an_app_limited_to_local_exclude_the_standard_tier()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId(), allowedTiers: ["local"]);
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.Authorization = new("Bearer", key);

        using var response = await fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var ids = json.RootElement.GetProperty("data").EnumerateArray().Select(m => m.GetProperty("id").GetString()).ToList();
        Assert.Contains(FrontDoorFixture.LocalModel, ids);
        Assert.DoesNotContain(FrontDoorFixture.StandardModel, ids);
    }

    [Fact]
    public async Task Caller_request_id_is_echoed_and_names_the_completion()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId());

        using var response = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "id please"), requestId: "my-app:req.42_a");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("my-app:req.42_a", response.Headers.GetValues("x-request-id").Single());
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("chatcmpl-my-app:req.42_a", json.RootElement.GetProperty("id").GetString());
        Assert.Equal("chat.completion", json.RootElement.GetProperty("object").GetString());
    }

    [Fact]
    public async Task Repeated_request_is_served_from_the_cache_at_no_cost_with_the_cache_header_hit()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId());
        var body = FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "cache me if you can");
        using (var first = await fixture.PostChatAsync(key, body))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
            Assert.Equal("miss", first.Headers.GetValues("x-microapps-cache").Single());
        }

        // The cache entry is written one-way after the first answer, so poll (bounded) until it is visible.
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var upstreamBefore = fixture.Upstream.RequestsReceived;
            using var again = await fixture.PostChatAsync(key, body);
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
            if (again.Headers.GetValues("x-microapps-cache").Single() == "hit")
            {
                Assert.Equal(0m, decimal.Parse(again.Headers.GetValues("x-microapps-cost-usd").Single(), CultureInfo.InvariantCulture));
                using var json = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
                Assert.Equal("cache me if you can", json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString());
                Assert.Equal(upstreamBefore, fixture.Upstream.RequestsReceived);
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the repeated request was never served from the cache");
        }
    }

    [Fact]
    public async Task Cached_answer_streams_as_content_then_done()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId());
        using (var first = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "stream from cache")))
        {
            Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        }

        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var upstreamBefore = fixture.Upstream.RequestsReceived;
            var text = new StringBuilder();
            await foreach (var update in SdkClient(key).CompleteChatStreamingAsync([new UserChatMessage("stream from cache")]))
            {
                foreach (var part in update.ContentUpdate)
                {
                    text.Append(part.Text);
                }
            }

            Assert.Equal("stream from cache", text.ToString().Trim());
            if (fixture.Upstream.RequestsReceived == upstreamBefore)
            {
                // Served from the cache: the headers say so before any text.
                using var raw = await fixture.PostChatAsync(key, """{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"stream from cache"}]}""");
                Assert.Equal("hit", raw.Headers.GetValues("x-microapps-cache").Single());
                Assert.Equal("0", raw.Headers.GetValues("x-microapps-cost-usd").Single());
                return;
            }

            Assert.True(DateTime.UtcNow < deadline, "the streamed request never came from the cache");
        }
    }

    [Fact]
    public async Task Max_tokens_cuts_the_reply_and_finish_reason_says_length()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId());

        using var response = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "one two three four five six", maxTokens: 3));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var choice = json.RootElement.GetProperty("choices")[0];
        Assert.Equal("one two three", choice.GetProperty("message").GetProperty("content").GetString());
        Assert.Equal("length", choice.GetProperty("finish_reason").GetString());
        Assert.True(json.RootElement.GetProperty("usage").GetProperty("completion_tokens").GetInt32() <= 3);
    }
}
