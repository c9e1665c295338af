using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests.Runtime;

[Collection(FrontDoorCollection.Name)]
public sealed class RuntimeEndpointsTests(FrontDoorFixture fixture)
{
    private IGrainFactory Grains => fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>();

    /// <summary>A published app with a budget, then given a template through the app grain (the admin API's template field is the manifest helper's).</summary>
    private async Task<(string AppId, string ApiKey)> TemplateAppAsync(string template, Dictionary<string, string> parameters, RunLimits? limits = null)
    {
        var appId = FrontDoorFixture.NewAppId("rt");
        var apiKey = await fixture.CreateAppWithKeyAsync(appId);
        var app = Grains.GetGrain<IMicroAppGrain>(appId);
        var info = await app.GetAsync();
        await app.UpdateManifestAsync(info!.Manifest with { Template = new CatalogRef(template, "1.0.0"), Parameters = parameters, Limits = limits });
        return (appId, apiKey);
    }

    private Task<HttpResponseMessage> PostAsync(string path, string? apiKey, object body, string? requestId = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path)
        {
            Content = body is string raw ? new StringContent(raw, Encoding.UTF8, "application/json") : JsonContent.Create(body),
        };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (requestId is not null)
        {
            request.Headers.Add("X-Request-Id", requestId);
        }

        return fixture.Http.SendAsync(request);
    }

    private Task<HttpResponseMessage> GetAsync(string path, string apiKey)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        return fixture.Http.SendAsync(request);
    }

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static string Document(string marker, int paragraphs) => string.Join("\n\n", Enumerable.Range(1, paragraphs).Select(p =>
        string.Join(" ", Enumerable.Range(1, 4).Select(s => $"Region {p} {marker} reported backlog item {s} cleared after review {p * 10 + s} by the finance team."))));

    private static Dictionary<string, string> Summarizer() =>
        new() { ["tier"] = "standard", ["chunkTokens"] = "100", ["maxOutputTokens"] = "16" };

    [Fact]
    public async Task A_long_document_is_summarised_in_parts_within_the_cap()
    {
        var (appId, apiKey) = await TemplateAppAsync(BuiltIns.Summarizer, Summarizer(), new RunLimits(20_000, 20, 120));
        var before = fixture.Upstream.RequestsReceived;

        using var response = await PostAsync($"apps/{appId}/run", apiKey, new { input = Document(Guid.NewGuid().ToString("N")[..10], 5) }, "sum-" + Guid.NewGuid().ToString("N")[..12]);

        var body = await JsonAsync(response, HttpStatusCode.OK);
        var parts = int.Parse(body.GetProperty("details").GetProperty("parts").GetString()!);
        Assert.True(parts > 1, $"expected several parts, got {parts}");
        var steps = body.GetProperty("steps").EnumerateArray().Select(s => s.GetProperty("name").GetString()).ToList();
        // Every part is summarised, then the summaries are combined: in one call when they fit a part, else in rounds
        // (combine-{round}-{n}) first. The random marker changes the tokenisation, so either can happen.
        Assert.Equal([.. Enumerable.Range(1, parts).Select(i => $"part-{i}")], steps.Take(parts));
        Assert.Equal("combine", steps[^1]);
        Assert.All(steps.Skip(parts).SkipLast(1), step => Assert.Matches(@"^combine-\d+-\d+$", step!));
        Assert.Equal(steps.Count, fixture.Upstream.RequestsReceived - before);
        Assert.True(body.GetProperty("usage").GetProperty("totalTokens").GetInt32() <= 20_000);
        Assert.True(body.GetProperty("costUsd").GetDecimal() > 0);
        Assert.False(string.IsNullOrWhiteSpace(body.GetProperty("output").GetString()));
    }

    [Fact]
    public async Task A_document_over_the_token_cap_is_refused_before_any_upstream_call()
    {
        var (appId, apiKey) = await TemplateAppAsync(BuiltIns.Summarizer, Summarizer(), new RunLimits(300, 20, 120));
        var before = fixture.Upstream.RequestsReceived;

        using var response = await PostAsync($"apps/{appId}/run", apiKey, new { input = Document(Guid.NewGuid().ToString("N")[..10], 5) });

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "run_token_limit"), (error.Status, error.Code));
        Assert.Equal(0, fixture.Upstream.RequestsReceived - before);
    }

    [Fact]
    public async Task A_run_over_the_step_limit_is_refused_before_any_upstream_call()
    {
        var (appId, apiKey) = await TemplateAppAsync(BuiltIns.Summarizer, Summarizer(), new RunLimits(20_000, 2, 120));
        var before = fixture.Upstream.RequestsReceived;

        using var response = await PostAsync($"apps/{appId}/run", apiKey, new { input = Document(Guid.NewGuid().ToString("N")[..10], 5) });

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal((HttpStatusCode.UnprocessableEntity, "run_step_limit"), (error.Status, error.Code));
        Assert.Equal(0, fixture.Upstream.RequestsReceived - before);
    }

    [Fact]
    public async Task Chat_history_is_kept_and_trimmed_oldest_first()
    {
        var (appId, apiKey) = await TemplateAppAsync(BuiltIns.ChatAssistant, new()
        {
            ["systemPrompt"] = "Be brief.", ["tier"] = "standard", ["maxHistoryTokens"] = "200", ["maxOutputTokens"] = "16",
        });
        var marker = Guid.NewGuid().ToString("N")[..8];
        string Message(int i) => $"note{i}x{marker} " + string.Join(" ", Enumerable.Range(1, 20).Select(w => $"word{w}"));
        fixture.Upstream.RecordChatBodies = true;
        try
        {
            using var started = await PostAsync($"apps/{appId}/conversations", apiKey, new { message = Message(1) });
            var start = await JsonAsync(started, HttpStatusCode.Created);
            var conversationId = start.GetProperty("conversationId").GetString()!;
            Assert.Equal($"/apps/{appId}/conversations/{conversationId}", started.Headers.Location?.ToString());

            for (var i = 2; i <= 6; i++)
            {
                using var sent = await PostAsync($"apps/{appId}/conversations/{conversationId}/messages", apiKey, new { content = Message(i) });
                await JsonAsync(sent, HttpStatusCode.OK);
            }

            using var read = await GetAsync($"apps/{appId}/conversations/{conversationId}", apiKey);
            var view = await JsonAsync(read, HttpStatusCode.OK);
            Assert.True(view.GetProperty("trimmedMessages").GetInt32() > 0);
            var kept = view.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("content").GetString()!).ToList();
            Assert.Equal(12, kept.Count + view.GetProperty("trimmedMessages").GetInt32());

            // What the last upstream call received: the system prompt, the history kept before it, and the new message.
            var last = fixture.Upstream.RecordedChatBodies.Last(b => b.Contains($"note6x{marker}", StringComparison.Ordinal));
            using var sentBody = JsonDocument.Parse(last);
            var sentMessages = sentBody.RootElement.GetProperty("messages").EnumerateArray()
                .Select(m => (Role: m.GetProperty("role").GetString()!, Content: m.GetProperty("content").GetString()!)).ToList();
            Assert.Equal(("system", "Be brief."), sentMessages[0]);
            Assert.Equal(("user", Message(6)), sentMessages[^1]);
            Assert.Equal(kept.Take(kept.Count - 2), sentMessages.Skip(1).SkipLast(1).Select(m => m.Content));
            Assert.DoesNotContain(sentMessages, m => m.Content.Contains($"note1x{marker}", StringComparison.Ordinal));
            Assert.Contains(sentMessages, m => m.Content.Contains($"note5x{marker}", StringComparison.Ordinal));
        }
        finally
        {
            fixture.Upstream.RecordChatBodies = false;
        }
    }

    [Fact]
    public async Task A_test_key_runs_the_draft_while_the_production_key_reaches_the_published_version()
    {
        var appId = FrontDoorFixture.NewAppId("rt");
        var production = await fixture.CreateAppWithKeyAsync(appId);
        var app = Grains.GetGrain<IMicroAppGrain>(appId);
        var published = (await app.GetAsync())!.Manifest;
        var draft = await app.AddVersionAsync(published with { Template = new CatalogRef(BuiltIns.Summarizer, "1.0.0"), Parameters = Summarizer() }, "tests");
        var testKey = await app.IssueScopedKeyAsync(KeyKind.Test, FrontDoorFixture.AuthorName, "draft", draft.Version);

        using var byTestKey = await PostAsync($"apps/{appId}/run", testKey.ApiKey, new { input = "The draft summarizer reads this short note about invoices." });
        using var byProduction = await PostAsync($"apps/{appId}/run", production, new { input = "The published version has no template." });

        var ran = await JsonAsync(byTestKey, HttpStatusCode.OK);
        Assert.Equal("summary", Assert.Single(ran.GetProperty("steps").EnumerateArray()).GetProperty("name").GetString());
        var refused = await OpenAIError.ReadAsync(byProduction);
        Assert.Equal((HttpStatusCode.Forbidden, "not_a_hosted_app"), (refused.Status, refused.Code));
    }

    [Fact]
    public async Task A_key_of_another_app_is_refused()
    {
        var (appId, _) = await TemplateAppAsync(BuiltIns.Summarizer, Summarizer());
        var (chatApp, chatKey) = await TemplateAppAsync(BuiltIns.ChatAssistant, new() { ["systemPrompt"] = "Be brief.", ["tier"] = "standard" });
        var (_, otherKey) = await TemplateAppAsync(BuiltIns.Summarizer, Summarizer());
        using var started = await PostAsync($"apps/{chatApp}/conversations", chatKey, new { message = "Hello there " + Guid.NewGuid().ToString("N") });
        var conversationId = (await JsonAsync(started, HttpStatusCode.Created)).GetProperty("conversationId").GetString();

        using var run = await PostAsync($"apps/{appId}/run", otherKey, new { input = "Not your app." });
        using var read = await GetAsync($"apps/{chatApp}/conversations/{conversationId}", otherKey);
        using var send = await PostAsync($"apps/{chatApp}/conversations/{conversationId}/messages", otherKey, new { content = "Not your conversation." });

        Assert.Equal(HttpStatusCode.Unauthorized, (await OpenAIError.ReadAsync(run)).Status);
        Assert.Equal((HttpStatusCode.NotFound, "conversation_not_found"), ((await OpenAIError.ReadAsync(read)).Status, (await OpenAIError.ReadAsync(read)).Code));
        Assert.Equal(HttpStatusCode.NotFound, (await OpenAIError.ReadAsync(send)).Status);
    }

    [Fact]
    public async Task Bad_requests_name_the_field()
    {
        var (appId, apiKey) = await TemplateAppAsync(BuiltIns.Summarizer, Summarizer());

        using var notJson = await PostAsync($"apps/{appId}/run", apiKey, "{\"input\": ");
        using var noInput = await PostAsync($"apps/{appId}/run", apiKey, new { user = "u1" });
        using var badSource = await PostAsync($"apps/{appId}/run", apiKey, new { source = "docs/a.txt" });
        using var badFields = await PostAsync($"apps/{appId}/run", apiKey, new { input = "x", fields = new { nested = new { a = 1 } } });
        using var noKey = await PostAsync($"apps/{appId}/run", null, new { input = "x" });
        using var noContent = await PostAsync($"apps/{appId}/conversations/cabc/messages", apiKey, new { });

        Assert.Equal((HttpStatusCode.BadRequest, "invalid_json"), ((await OpenAIError.ReadAsync(notJson)).Status, (await OpenAIError.ReadAsync(notJson)).Code));
        Assert.Equal("input", (await OpenAIError.ReadAsync(noInput)).Param);
        Assert.Equal("source", (await OpenAIError.ReadAsync(badSource)).Param);
        Assert.Equal("fields.nested", (await OpenAIError.ReadAsync(badFields)).Param);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        var content = await OpenAIError.ReadAsync(noContent);
        Assert.Equal((HttpStatusCode.BadRequest, "content"), (content.Status, content.Param));
    }

    [Fact]
    public async Task A_retried_run_with_the_same_request_id_is_charged_once()
    {
        var (appId, apiKey) = await TemplateAppAsync(BuiltIns.ChatAssistant, new() { ["systemPrompt"] = "Be brief.", ["tier"] = "standard" });
        var runId = "chat-" + Guid.NewGuid().ToString("N")[..12];
        var input = "Retry me " + Guid.NewGuid().ToString("N");
        var before = fixture.Upstream.RequestsReceived;

        using var first = await PostAsync($"apps/{appId}/run", apiKey, new { input }, runId);
        using var again = await PostAsync($"apps/{appId}/run", apiKey, new { input }, runId);

        var one = await JsonAsync(first, HttpStatusCode.OK);
        var two = await JsonAsync(again, HttpStatusCode.OK);
        Assert.Equal(one.GetProperty("details").GetProperty("conversationId").GetString(), two.GetProperty("details").GetProperty("conversationId").GetString());
        Assert.Equal(one.GetProperty("output").GetString(), two.GetProperty("output").GetString());
        Assert.Equal(1, fixture.Upstream.RequestsReceived - before);
    }
}
