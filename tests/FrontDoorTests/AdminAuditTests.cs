using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>Changes through the admin API leave audit entries, and the audit log is read through the admin API.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class AdminAuditTests(FrontDoorFixture fixture)
{
    [Fact]
    public async Task Every_instrumented_change_leaves_an_audit_entry_with_actor_and_reason()
    {
        var appId = FrontDoorFixture.NewAppId("audit");
        await fixture.CreateAppWithKeyAsync(appId, owner: FrontDoorFixture.AuthorName);

        string keyId;
        using (var issued = await fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/keys", new { label = "ci" }, FrontDoorFixture.AuthorToken))
        {
            Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
            keyId = JsonDocument.Parse(await issued.Content.ReadAsStringAsync()).RootElement.GetProperty("keyId").GetString()!;
        }

        await ExpectAsync(HttpStatusCode.NoContent, HttpMethod.Delete, $"admin/apps/{appId}/keys/{keyId}", null, FrontDoorFixture.AuthorToken);
        await ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, $"admin/apps/{appId}/quotas", new { requestsPerMinute = 7, tokensPerDay = 7000 });
        await ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"admin/apps/{appId}/suspend", null);
        await ExpectAsync(HttpStatusCode.OK, HttpMethod.Post, $"admin/apps/{appId}/resume", null);
        var budgetId = $"team:{appId}";
        await ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 12.5m, period = "month" });

        var onApp = await QueryAsync($"target=app:{appId}&pageSize=200");
        (string Action, string Actor, string ReasonContains)[] expected =
        [
            ("key.issued", FrontDoorFixture.AuthorName, keyId),
            ("key.revoked", FrontDoorFixture.AuthorName, keyId),
            ("app.quotas.set", "admin", "requestsPerMinute=7, tokensPerDay=7000"),
            ("app.suspended", "admin", "suspended"),
            ("app.resumed", "admin", "active"),
        ];
        foreach (var (action, actor, reason) in expected)
        {
            var entry = Assert.Single(onApp, e => e.GetProperty("action").GetString() == action && e.GetProperty("reason").GetString()!.Contains(reason, StringComparison.Ordinal));
            Assert.Equal(actor, entry.GetProperty("actor").GetString());
            Assert.Equal(actor == "admin" ? "admin" : "author", entry.GetProperty("role").GetString());
            Assert.Equal(64, entry.GetProperty("hash").GetString()!.Length);
        }

        var budget = Assert.Single(await QueryAsync($"target=budget:{budgetId}"));
        Assert.Equal("budget.configured", budget.GetProperty("action").GetString());
        Assert.Equal("admin", budget.GetProperty("actor").GetString());
        Assert.Contains("limitUsd=12.5, period=month", budget.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task Creating_an_app_with_a_budget_audits_the_budget_change()
    {
        var appId = FrontDoorFixture.NewAppId("newbudget");
        await fixture.CreateAppWithKeyAsync(appId, budgetLimitUsd: 42m);

        var entry = Assert.Single(await QueryAsync($"target=budget:app:{appId}"));
        Assert.Equal("budget.configured", entry.GetProperty("action").GetString());
        Assert.Equal("admin", entry.GetProperty("actor").GetString());
        Assert.Equal("limitUsd=42, period=day", entry.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task The_callers_reason_header_is_recorded_with_the_change()
    {
        var budgetId = $"team:{FrontDoorFixture.NewAppId("why")}";
        var request = new HttpRequestMessage(HttpMethod.Put, $"admin/budgets/{budgetId}")
        {
            Content = JsonContent(new { limitUsd = 3, period = "day" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", FrontDoorFixture.AdminToken);
        request.Headers.Add("X-Audit-Reason", "finance ticket FIN-42");
        using (var response = await fixture.Http.SendAsync(request))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var entry = Assert.Single(await QueryAsync($"target=budget:{budgetId}"));
        Assert.Equal("limitUsd=3, period=day; reason: finance ticket FIN-42", entry.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task A_refused_change_leaves_no_audit_entry()
    {
        var appId = FrontDoorFixture.NewAppId("noaudit");
        await fixture.CreateAppWithKeyAsync(appId, owner: FrontDoorFixture.AuthorName);

        await ExpectAsync(HttpStatusCode.Forbidden, HttpMethod.Post, $"admin/apps/{appId}/keys", new { label = "bob" }, FrontDoorFixture.OtherAuthorToken);
        await ExpectAsync(HttpStatusCode.Forbidden, HttpMethod.Post, $"admin/apps/{appId}/suspend", null, FrontDoorFixture.ApproverToken);

        var onApp = await QueryAsync($"target=app:{appId}");
        Assert.DoesNotContain(onApp, e => e.GetProperty("actor").GetString() is FrontDoorFixture.OtherAuthorName or FrontDoorFixture.ApproverName);
    }

    [Fact]
    public async Task Audit_query_filters_by_actor_and_action_prefix_and_pages_newest_first()
    {
        var appId = FrontDoorFixture.NewAppId("page");
        await fixture.CreateAppWithKeyAsync(appId, owner: FrontDoorFixture.AuthorName);
        for (var i = 0; i < 3; i++)
        {
            await ExpectAsync(HttpStatusCode.Created, HttpMethod.Post, $"admin/apps/{appId}/keys", new { label = $"k{i}" }, FrontDoorFixture.AuthorToken);
        }

        var first = await PageAsync($"target=app:{appId}&actor={FrontDoorFixture.AuthorName}&action=key.&pageSize=2");
        Assert.Equal(2, first.Entries.Count);
        Assert.NotNull(first.Continuation);
        var second = await PageAsync($"target=app:{appId}&actor={FrontDoorFixture.AuthorName}&action=key.&pageSize=2&continuation={first.Continuation}");
        var all = first.Entries.Concat(second.Entries).ToList();
        Assert.Equal(["k2", "k1", "k0"], all.Select(e => e.GetProperty("reason").GetString()!.Split('\'')[1]));
        var sequences = all.Select(e => e.GetProperty("sequence").GetInt64()).ToList();
        Assert.Equal(sequences.OrderDescending(), sequences);
        Assert.Empty(await QueryAsync($"target=app:{appId}&action=budget."));
    }

    [Theory]
    [InlineData("from=yesterday", "from")]
    [InlineData("to=2026-13-45", "to")]
    [InlineData("from=2026-11-29&to=2026-11-28", "to")]
    [InlineData("pageSize=0", "pageSize")]
    [InlineData("pageSize=201", "pageSize")]
    [InlineData("pageSize=ten", "pageSize")]
    [InlineData("continuation=abc", "continuation")]
    public async Task A_bad_audit_query_parameter_is_a_400_naming_it(string query, string parameter)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, $"admin/audit?{query}", token: FrontDoorFixture.ViewerToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(parameter, out _), json.RootElement.ToString());
    }

    [Fact]
    public async Task The_audit_chain_verifies_through_the_admin_api()
    {
        await ExpectAsync(HttpStatusCode.OK, HttpMethod.Put, $"admin/budgets/team:{FrontDoorFixture.NewAppId("verify")}", new { limitUsd = 1, period = "day" });

        using var response = await fixture.AdminAsync(HttpMethod.Get, "admin/audit/verify");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("intact").GetBoolean(), json.RootElement.ToString());
        Assert.True(json.RootElement.GetProperty("checked").GetInt64() >= 1);
        Assert.Equal(1, json.RootElement.GetProperty("firstSequence").GetInt64());
    }

    private async Task ExpectAsync(HttpStatusCode status, HttpMethod method, string path, object? body, string token = FrontDoorFixture.AdminToken)
    {
        using var response = await fixture.AdminAsync(method, path, body, token);
        Assert.True(response.StatusCode == status, $"{method} {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    private async Task<List<JsonElement>> QueryAsync(string query) => (await PageAsync(query)).Entries;

    private async Task<(List<JsonElement> Entries, string? Continuation)> PageAsync(string query)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, $"admin/audit?{query}", token: FrontDoorFixture.ApproverToken);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        var root = JsonDocument.Parse(text).RootElement;
        var continuation = root.GetProperty("continuation");
        return (root.GetProperty("entries").EnumerateArray().ToList(), continuation.ValueKind == JsonValueKind.Null ? null : continuation.GetString());
    }

    private static HttpContent JsonContent(object value) => System.Net.Http.Json.JsonContent.Create(value);
}
