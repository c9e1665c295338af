using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests.Savings;

/// <summary>
/// Routing tests get their own front door and silo: quality evidence is per query type for the whole platform, so
/// evidence recorded here must not move the calls of other front-door tests (and theirs must not move these).
/// </summary>
[CollectionDefinition(Name)]
public sealed class SavingsRoutingFrontDoorCollection : ICollectionFixture<FrontDoorFixture>
{
    public const string Name = "front door savings routing";
}

[Collection(SavingsRoutingFrontDoorCollection.Name)]
public sealed class SavingsRoutingTests(FrontDoorFixture fixture)
{
    private const string Standard = FrontDoorFixture.StandardModel;
    private const string Premium = FrontDoorFixture.PremiumModel;

    /// <summary>Creates a published app allowed standard and premium, default premium, with the given savings settings; returns its key.</summary>
    private async Task<(string AppId, string Key)> AppAsync(string prefix, object? savings)
    {
        var appId = FrontDoorFixture.NewAppId(prefix);
        using var created = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", FrontDoorFixture.SavingsAppBody(appId, savings));
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create app: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return (appId, await fixture.IssueKeyAsync(appId));
    }

    /// <summary>Records <paramref name="count"/> observations through the admin API; fixed ids make it idempotent across tests.</summary>
    private async Task EvidenceAsync(string queryType, string model, double score, int count, string idPrefix)
    {
        for (var i = 0; i < count; i++)
        {
            using var recorded = await fixture.AdminAsync(HttpMethod.Post, $"admin/savings/quality/{queryType}/evidence",
                new { evidenceId = $"{idPrefix}-{i}", model, source = "regression", score });
            Assert.True(recorded.StatusCode == HttpStatusCode.OK, $"record evidence: {(int)recorded.StatusCode} {await recorded.Content.ReadAsStringAsync()}");
        }
    }

    private Task SummariseEvidenceAsync() => EvidenceAsync("summarise", Standard, 0.95, 20, "routing-tests-summarise-standard");

    private static string SummariseRequest() =>
        FrontDoorFixture.ChatBody("premium", $"Summarise this meeting note in one sentence: the launch moved to May and hiring is paused ({Guid.NewGuid():N}).", maxTokens: 40);

    /// <summary>Sends one chat call with a fresh request id; returns the id and the model that answered.</summary>
    private async Task<(string RequestId, string Model)> CallAsync(string key, string body)
    {
        var requestId = "routing-" + Guid.NewGuid().ToString("N");
        using var response = await fixture.PostChatAsync(key, body, requestId);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"chat: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        return (requestId, json.RootElement.GetProperty("model").GetString()!);
    }

    /// <summary>
    /// Calls until one is served by <paramref name="model"/>: a silo reuses a quality table for up to
    /// Savings:Routing:QualityCacheDuration (1 s), so evidence just recorded may not be seen by the very next call.
    /// </summary>
    private async Task<string> CallUntilServedByAsync(string key, Func<string> body, string model)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (true)
        {
            var (requestId, served) = await CallAsync(key, body());
            if (served == model)
            {
                return requestId;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no call was served by {model} within 20 s (last: {served})");
        }
    }

    [Fact]
    public async Task A_summarise_call_asking_for_premium_is_served_by_the_standard_model_once_evidence_meets_the_slo()
    {
        await SummariseEvidenceAsync();
        var (appId, key) = await AppAsync("route", new { routing = true, qualitySlo = 0.9 });

        var requestId = await CallUntilServedByAsync(key, SummariseRequest, Standard);
        var trace = await fixture.WaitForTraceAsync(appId, requestId);

        Assert.Equal(Standard, trace.GetProperty("model").GetString());
        Assert.Equal("standard", trace.GetProperty("modelTier").GetString());
        Assert.Equal("summarise", trace.GetProperty("queryType").GetString());
        Assert.Equal("routing", trace.GetProperty("saving").GetString());
        var reason = trace.GetProperty("routeReason").GetString()!;
        Assert.Contains($"routed to {Standard} [standard]", reason);
        Assert.Contains($"instead of {Premium}", reason);
        Assert.Contains("n=20", reason);
        var baseline = trace.GetProperty("baselineCostUsd").GetDecimal();
        var actual = trace.GetProperty("costActualUsd").GetDecimal();
        Assert.True(actual > 0m && baseline > actual, $"baseline {baseline} must exceed actual {actual}");
        Assert.Contains(trace.GetProperty("decisions").EnumerateArray().Select(d => d.GetString()), d => d == $"savings:route:summarise:routed:{Standard}");
    }

    [Fact]
    public async Task With_too_little_evidence_a_routing_app_stays_on_premium()
    {
        // Perfect scores, but only 5 of the 20 observations routing needs.
        await EvidenceAsync("classify", Standard, 1.0, 5, "routing-tests-classify-standard");
        var (appId, key) = await AppAsync("few", new { routing = true, qualitySlo = 0.5, task = "classify" });

        var (requestId, served) = await CallAsync(key, FrontDoorFixture.ChatBody("premium", $"Is this spam? {Guid.NewGuid():N}", maxTokens: 20));
        var trace = await fixture.WaitForTraceAsync(appId, requestId);

        Assert.Equal(Premium, served);
        Assert.Equal("classify", trace.GetProperty("queryType").GetString());
        Assert.Equal("none", trace.GetProperty("saving").GetString());
        Assert.Contains("too little evidence (5 < 20)", trace.GetProperty("routeReason").GetString());
        Assert.Equal(trace.GetProperty("baselineCostUsd").GetDecimal(), trace.GetProperty("costActualUsd").GetDecimal());
    }

    [Fact]
    public async Task An_app_without_routing_is_never_moved_but_its_calls_carry_their_query_type()
    {
        await SummariseEvidenceAsync();
        var (routedAppId, routedKey) = await AppAsync("witness", new { routing = true });
        var (appId, key) = await AppAsync("plain", null);

        // The evidence is visible to routing (a routing app is moved), and still the plain app's calls stay.
        await CallUntilServedByAsync(routedKey, SummariseRequest, Standard);
        var calls = new List<(string RequestId, string Model)>();
        for (var i = 0; i < 3; i++)
        {
            calls.Add(await CallAsync(key, SummariseRequest()));
        }

        Assert.All(calls, c => Assert.Equal(Premium, c.Model));
        var trace = await fixture.WaitForTraceAsync(appId, calls[^1].RequestId);
        Assert.Equal("summarise", trace.GetProperty("queryType").GetString());
        Assert.Equal("none", trace.GetProperty("saving").GetString());
        Assert.Equal(JsonValueKind.Null, trace.GetProperty("routeReason").ValueKind);
        Assert.NotEqual(routedAppId, appId);
    }

    [Fact]
    public async Task A_policy_blocking_the_cheaper_tier_keeps_the_call_where_it_was()
    {
        await SummariseEvidenceAsync();
        var (appId, key) = await AppAsync("policy", new { routing = true });
        var yaml = $$"""
            policies:
              - id: no_standard_for_{{appId.Replace('-', '_')}}
                description: This app keeps its calls off the standard tier
                condition:
                  - app.id: {{appId}}
                  - model.tier: standard
                action: block
            """;
        await PublishPoliciesAsync(yaml);
        try
        {
            var (witnessAppId, witnessKey) = await AppAsync("policy-witness", new { routing = true });
            await CallUntilServedByAsync(witnessKey, SummariseRequest, Standard);

            var (requestId, served) = await CallAsync(key, SummariseRequest());
            var trace = await fixture.WaitForTraceAsync(appId, requestId);

            Assert.Equal(Premium, served);
            Assert.Equal("none", trace.GetProperty("saving").GetString());
            var reason = trace.GetProperty("routeReason").GetString()!;
            Assert.Contains($"{Standard} [standard]", reason);
            Assert.Contains($"blocked by policy no_standard_for_{appId.Replace('-', '_')}", reason);
            Assert.NotEqual(witnessAppId, appId);
        }
        finally
        {
            await PublishPoliciesAsync("policies: []\n");
        }
    }

    [Fact]
    public async Task A_pinned_model_is_never_moved()
    {
        await SummariseEvidenceAsync();
        var (appId, key) = await AppAsync("pinned", new { routing = true });

        var (requestId, served) = await CallAsync(key, SummariseRequest().Replace("\"premium\"", $"\"{Premium}\""));
        var trace = await fixture.WaitForTraceAsync(appId, requestId);

        Assert.Equal(Premium, served);
        Assert.Equal("none", trace.GetProperty("saving").GetString());
        Assert.Contains("pinned", trace.GetProperty("routeReason").GetString());
    }

    [Fact]
    public async Task The_quality_tables_show_recorded_evidence_to_every_role_and_recording_is_idempotent_and_audited()
    {
        var id = "routing-tests-idem-" + Guid.NewGuid().ToString("N");
        using var first = await fixture.AdminAsync(HttpMethod.Post, "admin/savings/quality/extract/evidence", new { evidenceId = id, model = Premium, source = "shadow", score = 0.5 }, FrontDoorFixture.ApproverToken);
        using var again = await fixture.AdminAsync(HttpMethod.Post, "admin/savings/quality/extract/evidence", new { evidenceId = id, model = Premium, source = "shadow", score = 0.5 });
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        using var firstJson = JsonDocument.Parse(await first.Content.ReadAsStringAsync());
        using var againJson = JsonDocument.Parse(await again.Content.ReadAsStringAsync());
        Assert.Equal(id, firstJson.RootElement.GetProperty("evidenceId").GetString());
        var samples = firstJson.RootElement.GetProperty("quality").GetProperty("samples").GetInt64();
        Assert.Equal(samples, againJson.RootElement.GetProperty("quality").GetProperty("samples").GetInt64());

        using var viewer = await fixture.AdminAsync(HttpMethod.Get, "admin/savings/quality", token: FrontDoorFixture.ViewerToken);
        Assert.Equal(HttpStatusCode.OK, viewer.StatusCode);
        using var tables = JsonDocument.Parse(await viewer.Content.ReadAsStringAsync());
        Assert.Equal(["summarise", "classify", "extract", "chat", "code"], tables.RootElement.EnumerateArray().Select(t => t.GetProperty("queryType").GetString()));
        var extract = tables.RootElement.EnumerateArray().Single(t => t.GetProperty("queryType").GetString() == "extract");
        var premium = extract.GetProperty("models").EnumerateArray().Single(m => m.GetProperty("model").GetString() == Premium);
        Assert.Equal(samples, premium.GetProperty("samples").GetInt64());
        Assert.True(premium.GetProperty("samplesBySource").GetProperty("shadow").GetInt64() >= 1);

        using var audit = await fixture.AdminAsync(HttpMethod.Get, "admin/audit");
        var auditText = await audit.Content.ReadAsStringAsync();
        Assert.Contains("savings.quality_evidence", auditText);
        Assert.Contains(id, auditText);
    }

    [Theory]
    [InlineData("poetry", """{"model":"gpt-4o-mini","source":"shadow","score":0.5}""", "queryType")]
    [InlineData("summarise", """{"model":"no-such-model","source":"shadow","score":0.5}""", "model")]
    [InlineData("summarise", """{"model":"premium","source":"shadow","score":0.5}""", "model")]
    [InlineData("summarise", """{"source":"shadow","score":0.5}""", "model")]
    [InlineData("summarise", """{"model":"gpt-4o-mini","source":"vibes","score":0.5}""", "source")]
    [InlineData("summarise", """{"model":"gpt-4o-mini","source":"shadow","score":1.5}""", "score")]
    [InlineData("summarise", """{"model":"gpt-4o-mini","source":"shadow","score":-0.1}""", "score")]
    [InlineData("summarise", """{"model":"gpt-4o-mini","source":"shadow"}""", "score")]
    [InlineData("summarise", """{"model":"gpt-4o-mini","source":"shadow","score":"high"}""", "score")]
    public async Task Bad_evidence_is_400_naming_the_field(string queryType, string body, string field)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Post, $"admin/savings/quality/{queryType}/evidence", body);
        var text = await response.Content.ReadAsStringAsync();

        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode} {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(text);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), text);
    }

    [Fact]
    public async Task Only_approvers_and_admins_record_evidence()
    {
        var body = new { model = Standard, source = "regression", score = 0.5 };
        using var viewer = await fixture.AdminAsync(HttpMethod.Post, "admin/savings/quality/chat/evidence", body, FrontDoorFixture.ViewerToken);
        using var author = await fixture.AdminAsync(HttpMethod.Post, "admin/savings/quality/chat/evidence", body, FrontDoorFixture.AuthorToken);

        Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, author.StatusCode);
    }

    private async Task PublishPoliciesAsync(string yaml)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "admin/policies") { Content = new StringContent(yaml, Encoding.UTF8, "application/yaml") };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FrontDoorFixture.AdminToken);
        using var response = await fixture.Http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"publish policies: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }
}
