using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using MicroApps.Orleans.Client.OpenAI;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// The trace query API, the redacted prompt store and business feedback through the admin API and the front door.
/// Filter and paging tests write their traces straight into the silo's trace store (the in-memory one) at a past date
/// of their own, so no other test's traffic falls in their range; the other tests make real calls.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class TraceApiTests(FrontDoorFixture fixture)
{
    private const string Email = "ann.lee@example.com";
    private const string Phone = "(415) 555-0132";
    private const string Ssn = "078-05-1120";
    private const string Card = "4111 1111 1111 1111";

    private ITraceStore Store => fixture.FrontDoor.Services.GetRequiredService<ITraceStore>();

    [Fact]
    public async Task Traces_of_real_calls_appear_in_the_trace_query_and_feedback_joins_them()
    {
        var appId = FrontDoorFixture.NewAppId("trc");
        var key = await fixture.CreateAppWithKeyAsync(appId);
        var requestId = "trc-" + Guid.NewGuid().ToString("N");
        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "Summarise the quarterly report."), requestId))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        var trace = await fixture.WaitForTraceAsync(appId, requestId);
        Assert.Equal(appId, trace.GetProperty("appId").GetString());
        Assert.Equal("frontdoor-tests", trace.GetProperty("team").GetString());
        Assert.Equal(FrontDoorFixture.StandardModel, trace.GetProperty("model").GetString());
        Assert.Equal("standard", trace.GetProperty("modelTier").GetString());
        Assert.Equal(TraceOutcomes.Success, trace.GetProperty("outcome").GetString());
        Assert.True(trace.GetProperty("tokensIn").GetInt32() > 0);
        Assert.Equal(JsonValueKind.Null, trace.GetProperty("bizMetric").ValueKind);

        using (var feedback = await PostFeedbackAsync(key, $$"""{"request_id":"{{requestId}}","thumbs":"up","converted":true}"""))
        {
            Assert.Equal(HttpStatusCode.OK, feedback.StatusCode);
            using var json = JsonDocument.Parse(await feedback.Content.ReadAsStringAsync());
            Assert.Equal(requestId, json.RootElement.GetProperty("request_id").GetString());
            Assert.True(json.RootElement.GetProperty("recorded").GetBoolean());
        }

        using var listed = await GetJsonAsync($"admin/traces?appId={appId}");
        var item = Assert.Single(listed.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal("thumbs=up;converted=true", item.GetProperty("bizMetric").GetString());
    }

    [Fact]
    public async Task Every_filter_narrows_the_traces()
    {
        var start = new DateTimeOffset(2024, 3, 1, 0, 0, 0, TimeSpan.Zero);
        var (appA, appB, appC) = (FrontDoorFixture.NewAppId("fa"), FrontDoorFixture.NewAppId("fb"), FrontDoorFixture.NewAppId("fc"));
        var (teamX, teamY) = ("team-x-" + Guid.NewGuid().ToString("N")[..6], "team-y-" + Guid.NewGuid().ToString("N")[..6]);
        var a1 = Event(appA, start.AddMinutes(10), teamX, "gpt-4o-mini", "standard", TraceOutcomes.Success, "v1");
        var a2 = Event(appA, start.AddMinutes(70), teamX, "gpt-4o", "premium", TraceOutcomes.Blocked, "v2");
        var a3 = Event(appA, start.AddMinutes(130), teamX, FrontDoorFixture.LocalModel, "local", TraceOutcomes.CacheHit, "v1");
        var b1 = Event(appB, start.AddMinutes(20), teamX, "gpt-4o-mini", "standard", TraceOutcomes.Throttled, "v2");
        var c1 = Event(appC, start.AddMinutes(200), teamY, "gpt-4o", "standard", TraceOutcomes.Success, "v1");
        await Store.AppendAsync([a1, a2, a3, b1, c1], []);

        var range = $"from={Iso(start)}&to={Iso(start.AddHours(5))}";
        await ExpectIdsAsync($"{range}&appId={appA}", a1, a2, a3);
        await ExpectIdsAsync($"{range}&team={teamX}", a1, a2, a3, b1);
        await ExpectIdsAsync($"{range}&model=gpt-4o", a2, c1);
        await ExpectIdsAsync($"{range}&tier=standard", a1, b1, c1);
        await ExpectIdsAsync($"{range}&tier=premium", a2);
        await ExpectIdsAsync($"{range}&outcome=cache_hit", a3);
        await ExpectIdsAsync($"{range}&outcome=success", a1, c1);
        await ExpectIdsAsync($"{range}&promptVersion=v2", a2, b1);
        await ExpectIdsAsync($"{range}&requestId={a2.RequestId}", a2);
        await ExpectIdsAsync($"from={Iso(start.AddMinutes(60))}&to={Iso(start.AddMinutes(140))}", a2, a3);
        await ExpectIdsAsync($"{range}&appId={appA}&promptVersion=v1", a1, a3);
        await ExpectIdsAsync($"{range}&team={teamY}&outcome=blocked");

        // The whole range holds exactly the seeded events: nothing else of the suite lives in 2024.
        await ExpectIdsAsync(range, a1, a2, a3, b1, c1);
    }

    [Fact]
    public async Task Paging_returns_every_trace_once_across_pages()
    {
        var start = new DateTimeOffset(2024, 4, 1, 0, 0, 0, TimeSpan.Zero);
        var appId = FrontDoorFixture.NewAppId("pg");
        var events = Enumerable.Range(0, 25).Select(i => Event(appId, start.AddMinutes(7 * i), "paging", "gpt-4o-mini", "standard", TraceOutcomes.Success, "v1")).ToList();
        await Store.AppendAsync(events, []);

        var seen = new List<string>();
        var hours = new List<DateTimeOffset>();
        var pages = 0;
        string? token = null;
        do
        {
            var path = $"admin/traces?appId={appId}&from={Iso(start)}&to={Iso(start.AddHours(4))}&pageSize=7"
                + (token is null ? "" : "&continuationToken=" + Uri.EscapeDataString(token));
            using var page = await GetJsonAsync(path);
            var items = page.RootElement.GetProperty("items").EnumerateArray().ToList();
            seen.AddRange(items.Select(i => i.GetProperty("requestId").GetString()!));
            hours.AddRange(items.Select(i => TraceHours.StartOf(i.GetProperty("timestamp").GetDateTimeOffset())));
            token = page.RootElement.GetProperty("continuationToken").GetString();
            pages++;
            Assert.True(token is null || items.Count == 7, $"page {pages} has {items.Count} items but is not the last");
        }
        while (token is not null && pages < 10);

        Assert.Equal(4, pages);
        Assert.Equal(events.Count, seen.Count);
        Assert.Equal(events.Select(e => e.RequestId).Order(), seen.Order());
        Assert.Equal(hours.OrderDescending(), hours);
    }

    [Fact]
    public async Task Feedback_is_joined_to_the_trace_and_shows_in_its_biz_metric()
    {
        var appId = FrontDoorFixture.NewAppId("fbk");
        var key = await fixture.CreateAppWithKeyAsync(appId);
        var traced = Event(appId, DateTimeOffset.UtcNow.AddMinutes(-5), "frontdoor-tests", FrontDoorFixture.StandardModel, "standard", TraceOutcomes.Success, "v1");
        await Store.AppendAsync([traced], []);

        using (var recorded = await PostFeedbackAsync(key, $$"""{"request_id":"{{traced.RequestId}}","thumbs":"up","label":"refund.ok","converted":true,"value":12.5}"""))
        {
            Assert.Equal(HttpStatusCode.OK, recorded.StatusCode);
        }

        using (var trace = await GetJsonAsync($"admin/traces/{appId}/{traced.RequestId}"))
        {
            Assert.Equal("thumbs=up;label=refund.ok;converted=true;value=12.5", trace.RootElement.GetProperty("bizMetric").GetString());
            var feedback = trace.RootElement.GetProperty("feedback");
            Assert.Equal("up", feedback.GetProperty("thumbs").GetString());
            Assert.Equal("refund.ok", feedback.GetProperty("label").GetString());
            Assert.True(feedback.GetProperty("converted").GetBoolean());
            Assert.Equal(12.5, feedback.GetProperty("value").GetDouble());
        }

        // Later feedback replaces earlier.
        using (var again = await PostFeedbackAsync(key, $$"""{"request_id":"{{traced.RequestId}}","thumbs":"down"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        using var replaced = await GetJsonAsync($"admin/traces?appId={appId}");
        Assert.Equal("thumbs=down", Assert.Single(replaced.RootElement.GetProperty("items").EnumerateArray()).GetProperty("bizMetric").GetString());
    }

    [Fact]
    public async Task Feedback_for_a_request_the_app_has_no_trace_of_is_404_even_when_another_app_has_it()
    {
        var appId = FrontDoorFixture.NewAppId("fbn");
        var key = await fixture.CreateAppWithKeyAsync(appId);
        var otherApp = FrontDoorFixture.NewAppId("fbo");
        var others = Event(otherApp, DateTimeOffset.UtcNow.AddMinutes(-1), "other", "gpt-4o-mini", "standard", TraceOutcomes.Success, "v1");
        await Store.AppendAsync([others], []);

        foreach (var requestId in new[] { "never-made-" + Guid.NewGuid().ToString("N"), others.RequestId })
        {
            using var response = await PostFeedbackAsync(key, $$"""{"request_id":"{{requestId}}","thumbs":"up"}""");
            var error = await OpenAIError.ReadAsync(response);
            Assert.Equal(HttpStatusCode.NotFound, error.Status);
            Assert.Equal("request_id", error.Param);
        }

        // The other app's trace is untouched.
        Assert.Null((await Store.FindAsync(otherApp, others.RequestId))!.Event.BizMetric);
    }

    [Theory]
    [InlineData("""{"thumbs":"up"}""", "request_id")]
    [InlineData("""{"request_id":42,"thumbs":"up"}""", "request_id")]
    [InlineData("""{"request_id":"r1","thumbs":"sideways"}""", "thumbs")]
    [InlineData("""{"request_id":"r1","thumbs":true}""", "thumbs")]
    [InlineData("""{"request_id":"r1","label":"has spaces"}""", "label")]
    [InlineData("""{"request_id":"r1","label":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}""", "label")]
    [InlineData("""{"request_id":"r1","converted":"yes"}""", "converted")]
    [InlineData("""{"request_id":"r1","value":"12"}""", "value")]
    [InlineData("""{"request_id":"r1"}""", null)]
    [InlineData("""[1,2]""", null)]
    public async Task Bad_feedback_is_400_naming_the_field(string body, string? param)
    {
        var appId = FrontDoorFixture.NewAppId("fbb");
        var key = await fixture.CreateAppWithKeyAsync(appId);

        using var response = await PostFeedbackAsync(key, body);

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(param, error.Param);
        Assert.Equal(OpenAIErrors.InvalidRequest, error.Type);
    }

    [Fact]
    public async Task Feedback_without_a_valid_app_key_is_401()
    {
        var appId = FrontDoorFixture.NewAppId("fbu");
        var key = await fixture.CreateAppWithKeyAsync(appId);
        var parts = key.Split('.');
        var body = """{"request_id":"r1","thumbs":"up"}""";

        foreach (var presented in new[] { null, "not-a-key", $"mak.{appId}.{parts[2]}.wrong-secret", $"mak.{appId}.nokey.{parts[3]}" })
        {
            using var response = await PostFeedbackAsync(presented, body);
            var error = await OpenAIError.ReadAsync(response);
            Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
            Assert.Equal(OpenAIErrors.Authentication, error.Type);
        }
    }

    [Fact]
    public async Task Search_finds_a_sampled_redacted_prompt_and_never_the_raw_pii()
    {
        var appId = FrontDoorFixture.NewAppId("smp");
        var key = await CreateSampledAppAsync(appId, promptSampleShare: 1);
        var requestId = "smp-" + Guid.NewGuid().ToString("N");
        var marker = "zebra" + Guid.NewGuid().ToString("N")[..8];
        var text = $"Customer {marker} wrote from {Email}, phone {Phone}, SSN: {Ssn}, card {Card}. Please summarise.";
        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", text), requestId))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        await fixture.WaitForTraceAsync(appId, requestId);
        using var found = await GetJsonAsync($"admin/prompts/search?q={marker}");
        var sample = Assert.Single(found.RootElement.GetProperty("items").EnumerateArray());
        Assert.Equal(appId, sample.GetProperty("appId").GetString());
        Assert.Equal(requestId, sample.GetProperty("requestId").GetString());
        var prompt = sample.GetProperty("redactedPrompt").GetString()!;
        Assert.Contains($"user: Customer {marker} wrote from [REDACTED:email]", prompt);
        foreach (var raw in new[] { Email, Phone, Ssn, Card })
        {
            Assert.DoesNotContain(raw, prompt);
            Assert.DoesNotContain(raw, sample.GetProperty("redactedResponse").GetString()!);
        }

        var classes = sample.GetProperty("piiClasses").EnumerateArray().Select(c => c.GetString()).ToList();
        Assert.Contains("email", classes);
        Assert.Contains("ssn", classes);

        using (var byClass = await GetJsonAsync($"admin/prompts/search?q={Uri.EscapeDataString("[REDACTED:ssn]")}&appId={appId}"))
        {
            Assert.Single(byClass.RootElement.GetProperty("items").EnumerateArray());
        }

        foreach (var raw in new[] { Email, Ssn, "ann.lee" })
        {
            using var rawSearch = await GetJsonAsync($"admin/prompts/search?q={Uri.EscapeDataString(raw)}&appId={appId}");
            Assert.Empty(rawSearch.RootElement.GetProperty("items").EnumerateArray());
        }
    }

    [Fact]
    public async Task An_app_that_did_not_opt_in_leaves_no_prompt_sample()
    {
        var appId = FrontDoorFixture.NewAppId("nos");
        var key = await fixture.CreateAppWithKeyAsync(appId);
        var requestId = "nos-" + Guid.NewGuid().ToString("N");
        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "Nothing to keep here."), requestId))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        await fixture.WaitForTraceAsync(appId, requestId);
        using var search = await GetJsonAsync($"admin/prompts/search?q={Uri.EscapeDataString("Nothing to keep")}&appId={appId}");
        Assert.Empty(search.RootElement.GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Prompt_sample_share_is_part_of_the_manifest_and_validated()
    {
        var appId = FrontDoorFixture.NewAppId("shr");
        await CreateSampledAppAsync(appId, promptSampleShare: 0.25);
        using (var app = await GetJsonAsync($"admin/apps/{appId}"))
        {
            Assert.Equal(0.25, app.RootElement.GetProperty("promptSampleShare").GetDouble());
        }

        foreach (var bad in new[] { 1.5, -0.1 })
        {
            using var refused = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", FrontDoorFixture.SampledAppBody(FrontDoorFixture.NewAppId("shr"), bad));
            Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
            using var json = JsonDocument.Parse(await refused.Content.ReadAsStringAsync());
            Assert.True(json.RootElement.GetProperty("errors").TryGetProperty("promptSampleShare", out _), json.RootElement.ToString());
        }
    }

    [Theory]
    [InlineData("admin/traces?from=yesterday", "from")]
    [InlineData("admin/traces?to=2026-13-45", "to")]
    [InlineData("admin/traces?from=2026-01-02&to=2026-01-01", "to")]
    [InlineData("admin/traces?from=2026-01-01&to=2026-03-01", "from")]
    [InlineData("admin/traces?pageSize=0", "pageSize")]
    [InlineData("admin/traces?pageSize=1001", "pageSize")]
    [InlineData("admin/traces?pageSize=ten", "pageSize")]
    [InlineData("admin/traces?outcome=Completed", "outcome")]
    [InlineData("admin/traces?appId=Not_An_App", "appId")]
    [InlineData("admin/traces?continuationToken=not-a-token", "continuationToken")]
    [InlineData("admin/traces/Not_An_App/r1", "appId")]
    [InlineData("admin/prompts/search", "q")]
    [InlineData("admin/prompts/search?q=%20", "q")]
    [InlineData("admin/prompts/search?q=x&from=nope", "from")]
    [InlineData("admin/prompts/search?q=x&pageSize=5000", "pageSize")]
    [InlineData("admin/prompts/search?q=x&continuationToken=not-a-token", "continuationToken")]
    public async Task Bad_query_parameters_are_400_naming_them(string path, string parameter)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, path);
        var body = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(parameter, out _), $"{path}: {body}");
    }

    [Fact]
    public async Task A_trace_nobody_made_is_404()
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, $"admin/traces/{FrontDoorFixture.NewAppId("none")}/no-such-request");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Every_role_reads_traces_but_authors_do_not_search_prompts()
    {
        foreach (var token in new[] { FrontDoorFixture.ViewerToken, FrontDoorFixture.AuthorToken, FrontDoorFixture.ApproverToken, FrontDoorFixture.AdminToken })
        {
            using var traces = await fixture.AdminAsync(HttpMethod.Get, "admin/traces?pageSize=1", token: token);
            Assert.Equal(HttpStatusCode.OK, traces.StatusCode);
            using var search = await fixture.AdminAsync(HttpMethod.Get, "admin/prompts/search?q=x", token: token);
            Assert.Equal(token == FrontDoorFixture.AuthorToken ? HttpStatusCode.Forbidden : HttpStatusCode.OK, search.StatusCode);
        }
    }

    private static TraceEvent Event(string appId, DateTimeOffset at, string team, string model, string tier, string outcome, string promptVersion) =>
        new(appId, "req-" + Guid.NewGuid().ToString("N"), model, tier, 12, 7, 25.5, promptVersion, 0.002m, $"{tier}:{model}", outcome, null, team,
            "hash", outcome == TraceOutcomes.CacheHit, 0.001m, at, ["admitted"]);

    private static string Iso(DateTimeOffset time) => Uri.EscapeDataString(time.ToString("O", CultureInfo.InvariantCulture));

    private async Task ExpectIdsAsync(string query, params TraceEvent[] expected)
    {
        using var page = await GetJsonAsync($"admin/traces?{query}&pageSize=1000");
        var ids = page.RootElement.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("requestId").GetString()).Order().ToList();
        Assert.True(expected.Select(e => e.RequestId).Order().SequenceEqual(ids), $"{query}: expected [{string.Join(", ", expected.Select(e => e.RequestId))}], got [{string.Join(", ", ids)}]");
    }

    private async Task<JsonDocument> GetJsonAsync(string path, string token = FrontDoorFixture.AdminToken)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, path, token: token);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {path}: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body);
    }

    private Task<HttpResponseMessage> PostFeedbackAsync(string? apiKey, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/feedback") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        return fixture.Http.SendAsync(request);
    }

    private async Task<string> CreateSampledAppAsync(string appId, double promptSampleShare)
    {
        using var created = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", FrontDoorFixture.SampledAppBody(appId, promptSampleShare));
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create app: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return await fixture.IssueKeyAsync(appId);
    }
}
