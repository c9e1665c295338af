using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests.Policies;

/// <summary>
/// Policy tests get their own front door and silo: the issue's policy document is not scoped to an app and its
/// quotas are a ceiling for every app, so it must not govern the other front-door tests.
/// </summary>
[CollectionDefinition(Name)]
public sealed class PolicyFrontDoorCollection : ICollectionFixture<FrontDoorFixture>
{
    public const string Name = "front door policies";
}

[Collection(PolicyFrontDoorCollection.Name)]
public sealed class PolicyEndToEndTests(FrontDoorFixture fixture)
{
    private const string IssueExample = """
        policies:
          - id: prevent_external_llm_for_pii
            description: Block calls to premium external LLMs if app accesses PII
            condition:
              - app.data_contains: [email, ssn, phone]
              - model.tier: premium
            action: block
        quotas:
          default:
            tokens_per_day: 100000
            requests_per_minute: 30
        """;

    private async Task<HttpResponseMessage> PutPoliciesAsync(string yaml, string mediaType = "application/yaml", string? comment = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, "admin/policies" + (comment is null ? "" : "?comment=" + Uri.EscapeDataString(comment)))
        {
            Content = new StringContent(yaml, Encoding.UTF8, mediaType),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FrontDoorFixture.AdminToken);
        return await fixture.Http.SendAsync(request);
    }

    private async Task<int> PublishAsync(string yaml, string? comment = null)
    {
        using var response = await PutPoliciesAsync(yaml, comment: comment);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"publish: {(int)response.StatusCode} {body}");
        using var json = JsonDocument.Parse(body);
        Assert.True(json.RootElement.GetProperty("active").GetBoolean());
        return json.RootElement.GetProperty("version").GetInt32();
    }

    private static async Task<JsonDocument> JsonAsync(HttpResponseMessage response) => JsonDocument.Parse(await response.Content.ReadAsStringAsync());

    private static string Chat(string model, string text) => FrontDoorFixture.ChatBody(model, text, maxTokens: 40);

    [Fact]
    public async Task The_issue_policy_refuses_a_premium_call_carrying_an_email_with_403_and_lets_other_tiers_pass()
    {
        await PublishAsync(IssueExample, comment: "issue example");
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("pii"), allowedTiers: ["standard", "premium"]);
        var before = fixture.Upstream.RequestsReceived;

        using var blocked = await fixture.PostChatAsync(key, Chat("premium", $"Please email carol@example.com the numbers {Guid.NewGuid():N}"));

        var error = await OpenAIError.ReadAsync(blocked);
        Assert.Equal(HttpStatusCode.Forbidden, error.Status);
        Assert.Equal("policy_blocked", error.Code);
        Assert.Contains("prevent_external_llm_for_pii", error.Message);
        Assert.Contains("Block calls to premium external LLMs if app accesses PII", error.Message);
        Assert.DoesNotContain("carol@example.com", error.Message);
        Assert.Equal(before, fixture.Upstream.RequestsReceived);

        using var standard = await fixture.PostChatAsync(key, Chat("standard", $"Please email carol@example.com the numbers {Guid.NewGuid():N}"));
        Assert.Equal(HttpStatusCode.OK, standard.StatusCode);

        using var premiumWithoutPii = await fixture.PostChatAsync(key, Chat(FrontDoorFixture.PremiumModel, $"Nothing personal {Guid.NewGuid():N}"));
        Assert.Equal(HttpStatusCode.OK, premiumWithoutPii.StatusCode);
        Assert.Equal(before + 2, fixture.Upstream.RequestsReceived);
    }

    [Fact]
    public async Task A_redact_policy_makes_the_upstream_receive_the_mask_instead_of_the_address()
    {
        var appId = FrontDoorFixture.NewAppId("red");
        await PublishAsync($"""
            policies:
              - id: mask-pii-{appId}
                description: Mask PII before it leaves
                condition:
                  - app.id: {appId}
                  - request.pii: [email]
                action: redact
            """);
        var key = await fixture.CreateAppWithKeyAsync(appId);

        using var response = await fixture.PostChatAsync(key, Chat("standard", $"forward dave@example.org ticket {Guid.NewGuid():N}"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = await JsonAsync(response);

        // The fake upstream answers with the words of the user message it received.
        var echoed = json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString()!;
        Assert.Contains("[REDACTED:email]", echoed);
        Assert.DoesNotContain("dave@example.org", echoed);
    }

    [Fact]
    public async Task A_route_policy_sends_pii_traffic_to_the_local_tier()
    {
        var appId = FrontDoorFixture.NewAppId("rt");
        await PublishAsync($"""
            policies:
              - id: pii-stays-local-{appId}
                condition: {"{"}app.id: {appId}, request.pii: true{"}"}
                action: route
                tier: local
            """);
        var key = await fixture.CreateAppWithKeyAsync(appId, allowedTiers: ["standard"]);
        var before = fixture.Upstream.RequestsReceived;

        using var routed = await fixture.PostChatAsync(key, Chat("standard", "The quarterly report from erin@example.com shows growth. Revenue rose in every region."));

        Assert.Equal(HttpStatusCode.OK, routed.StatusCode);
        Assert.Equal("local", routed.Headers.GetValues("x-microapps-tier").Single());
        using var json = await JsonAsync(routed);
        Assert.Equal(FrontDoorFixture.LocalModel, json.RootElement.GetProperty("model").GetString());
        Assert.Equal(before, fixture.Upstream.RequestsReceived);

        using var plain = await fixture.PostChatAsync(key, Chat("standard", $"No personal data {Guid.NewGuid():N}"));
        Assert.Equal("standard", plain.Headers.GetValues("x-microapps-tier").Single());
    }

    [Fact]
    public async Task An_invalid_document_is_refused_with_422_line_and_column_and_the_old_version_stays_active()
    {
        var running = await PublishAsync(IssueExample);

        using var refused = await PutPoliciesAsync("policies:\n  - id: x\n    condition:\n      - model.colour: red\n    action: block\n", "text/yaml");

        Assert.Equal(HttpStatusCode.UnprocessableEntity, refused.StatusCode);
        using var problem = await JsonAsync(refused);
        var error = Assert.Single(problem.RootElement.GetProperty("errors").EnumerateArray());
        Assert.Equal(4, error.GetProperty("line").GetInt32());
        Assert.Equal(9, error.GetProperty("column").GetInt32());
        Assert.Contains("Unknown fact 'model.colour'", error.GetProperty("message").GetString());
        Assert.Equal(running, problem.RootElement.GetProperty("activeVersion").GetInt32());

        using var syntax = await PutPoliciesAsync("policies:\n  - id: y\n    action: block\n   tier: x\n", "text/plain");
        Assert.Equal(HttpStatusCode.UnprocessableEntity, syntax.StatusCode);
        using var syntaxProblem = await JsonAsync(syntax);
        Assert.Equal(4, Assert.Single(syntaxProblem.RootElement.GetProperty("errors").EnumerateArray()).GetProperty("line").GetInt32());

        using var active = await fixture.AdminAsync(HttpMethod.Get, "admin/policies");
        using var activeJson = await JsonAsync(active);
        Assert.Equal(running, activeJson.RootElement.GetProperty("version").GetInt32());
        Assert.Equal(IssueExample, activeJson.RootElement.GetProperty("yaml").GetString());
    }

    [Fact]
    public async Task Versions_are_listed_oldest_first_with_the_active_one_marked()
    {
        var first = await PublishAsync("policies: []\n", comment: "empty");
        var second = await PublishAsync(IssueExample, comment: "issue");

        using var response = await fixture.AdminAsync(HttpMethod.Get, "admin/policies/versions");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = await JsonAsync(response);
        var versions = json.RootElement.EnumerateArray().ToArray();
        var last = versions[^1];
        Assert.Equal(second, last.GetProperty("version").GetInt32());
        Assert.True(last.GetProperty("active").GetBoolean());
        Assert.Equal("issue", last.GetProperty("comment").GetString());
        Assert.Equal("admin", last.GetProperty("author").GetString());
        var earlier = versions.Single(v => v.GetProperty("version").GetInt32() == first);
        Assert.False(earlier.GetProperty("active").GetBoolean());
    }

    [Fact]
    public async Task A_policy_document_must_be_sent_as_yaml_text()
    {
        using var response = await fixture.AdminAsync(HttpMethod.Put, "admin/policies", """{"policies":[]}""");

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
    }

    [Fact]
    public async Task A_dry_run_lists_every_matching_policy_and_the_final_decision()
    {
        var appId = FrontDoorFixture.NewAppId("dry");
        await fixture.CreateAppWithKeyAsync(appId, allowedTiers: ["standard", "premium"]);
        await PublishAsync($"""
            policies:
              - id: prevent_external_llm_for_pii
                description: Block calls to premium external LLMs if app accesses PII
                condition:
                  - app.data_contains: [email, ssn, phone]
                  - model.tier: premium
                action: block
              - id: mask-{appId}
                condition: {"{"}app.id: {appId}, request.pii: true{"}"}
                action: redact
            """);

        using var response = await fixture.AdminAsync(HttpMethod.Post, "admin/policies/dry-run", new
        {
            appId,
            model = "premium",
            messages = new[] { new { role = "user", content = "send it to frank@example.com" } },
            user = "frank",
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = await JsonAsync(response);
        var root = json.RootElement;
        Assert.Equal("premium", root.GetProperty("facts").GetProperty("model.tier").GetString());
        Assert.Equal(["email"], root.GetProperty("piiClasses").EnumerateArray().Select(e => e.GetString()));
        var matches = root.GetProperty("matches").EnumerateArray().ToArray();
        Assert.Equal(["prevent_external_llm_for_pii", $"mask-{appId}"], matches.Select(m => m.GetProperty("policyId").GetString()));
        Assert.Equal(["block", "redact"], matches.Select(m => m.GetProperty("action").GetString()));
        Assert.Equal([true, false], matches.Select(m => m.GetProperty("applied").GetBoolean()));
        Assert.Contains("model.tier = premium", matches[0].GetProperty("why").GetString());
        Assert.Equal("block:prevent_external_llm_for_pii", root.GetProperty("decision").GetProperty("summary").GetString());
        Assert.True(root.GetProperty("decision").GetProperty("blocked").GetBoolean());

        using var standard = await fixture.AdminAsync(HttpMethod.Post, "admin/policies/dry-run", new
        {
            appId,
            model = "standard",
            messages = new[] { new { role = "user", content = "send it to frank@example.com" } },
        });
        using var standardJson = await JsonAsync(standard);
        Assert.Equal($"redact:mask-{appId}", standardJson.RootElement.GetProperty("decision").GetProperty("summary").GetString());
        Assert.Equal("send it to [REDACTED:email]", standardJson.RootElement.GetProperty("redactedMessages")[0].GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("""{"appId":"no","messages":[{"role":"user","content":"x"}]}""", "appId")]
    [InlineData("""{"appId":"some-app","messages":[]}""", "messages")]
    [InlineData("""{"appId":"some-app","messages":[{"role":"robot","content":"x"}]}""", "messages[0].role")]
    public async Task A_dry_run_with_bad_input_is_a_400_naming_the_field(string body, string field)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Post, "admin/policies/dry-run", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = await JsonAsync(response);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_dry_run_for_an_unknown_app_is_a_404()
    {
        using var response = await fixture.AdminAsync(HttpMethod.Post, "admin/policies/dry-run", new
        {
            appId = FrontDoorFixture.NewAppId("none"),
            messages = new[] { new { role = "user", content = "hi" } },
        });

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }
}
