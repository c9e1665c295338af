using System.Net;
using System.Text.Json;
using MicroApps.Orleans.Budgets;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests;

[Collection(FrontDoorCollection.Name)]
public sealed class BudgetEndpointsTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture)
{
    private IGrainFactory Grains => Fixture.FrontDoor.Services.GetRequiredService<IGrainFactory>();

    private async Task<JsonElement> OkAsync(HttpMethod method, string path, object? body = null, string? token = FrontDoorFixture.AdminToken)
    {
        using var response = await Fixture.AdminAsync(method, path, body, token);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{method} {path}: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.Clone();
    }

    /// <summary>Spends <paramref name="amount"/> on the budget directly, as settled calls would.</summary>
    private async Task SpendAsync(string budgetId, decimal amount)
    {
        var budget = Grains.GetGrain<IBudgetGrain>(budgetId);
        var id = Guid.NewGuid().ToString("N");
        Assert.True((await budget.ReserveAsync(id, amount)).IsGranted);
        await budget.SettleAsync(id, amount);
    }

    [Fact]
    public async Task A_budget_takes_thresholds_behaviour_and_targets_and_shows_them()
    {
        var budgetId = $"team:{FrontDoorFixture.NewAppId("alerts")}";

        var put = await OkAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new
        {
            limitUsd = 10m,
            period = "day",
            thresholds = new[] { 0.9m, 0.5m },
            onExceeded = "soft_shutdown",
            notify = new { webhookUrl = "https://hooks.example.com/budget", emails = new[] { "finance@example.com" } },
        });
        var get = await OkAsync(HttpMethod.Get, $"admin/budgets/{budgetId}", token: FrontDoorFixture.ViewerToken);

        foreach (var view in new[] { put, get })
        {
            Assert.Equal([0.5m, 0.9m], view.GetProperty("thresholds").EnumerateArray().Select(t => t.GetDecimal()).ToArray());
            Assert.False(view.GetProperty("defaultThresholds").GetBoolean());
            Assert.Equal("soft_shutdown", view.GetProperty("onExceeded").GetString());
            Assert.Equal("https://hooks.example.com/budget", view.GetProperty("notify").GetProperty("webhookUrl").GetString());
            Assert.Equal("finance@example.com", view.GetProperty("notify").GetProperty("emails")[0].GetString());
            Assert.Equal(JsonValueKind.Null, view.GetProperty("pendingLimitUsd").ValueKind);
        }

        // A later PUT of only limit and period leaves the alerting as it is.
        var again = await OkAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 12m, period = "day" });
        Assert.Equal("soft_shutdown", again.GetProperty("onExceeded").GetString());
        Assert.Equal(2, again.GetProperty("thresholds").GetArrayLength());
    }

    [Fact]
    public async Task A_new_budget_uses_the_platform_default_thresholds()
    {
        var budgetId = $"team:{FrontDoorFixture.NewAppId("alerts")}";

        var put = await OkAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 10m, period = "month" });

        Assert.Equal([0.6m, 0.8m, 1.0m], put.GetProperty("thresholds").EnumerateArray().Select(t => t.GetDecimal()).ToArray());
        Assert.True(put.GetProperty("defaultThresholds").GetBoolean());
        Assert.Equal("throttle", put.GetProperty("onExceeded").GetString());
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { """{"limitUsd":1,"period":"day","thresholds":[0.5,1.5]}""", "thresholds" },
        { """{"limitUsd":1,"period":"day","thresholds":[0.5,0.5]}""", "thresholds" },
        { """{"limitUsd":1,"period":"day","thresholds":[0]}""", "thresholds" },
        { """{"limitUsd":1,"period":"day","thresholds":["high"]}""", "thresholds[0]" },
        { """{"limitUsd":1,"period":"day","onExceeded":"explode"}""", "onExceeded" },
        { """{"limitUsd":1,"period":"day","notify":{"webhookUrl":"ftp://hooks.example.com"}}""", "notify.webhookUrl" },
        { """{"limitUsd":1,"period":"day","notify":{"webhookUrl":"not a url"}}""", "notify.webhookUrl" },
        { """{"limitUsd":1,"period":"day","notify":{"emails":["ok@example.com","nope"]}}""", "notify.emails[1]" },
        { """{"limitUsd":1,"period":"day","notify":{"emails":"a@example.com"}}""", "notify.emails" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task A_bad_alerting_field_is_a_400_naming_it(string body, string field)
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Put, $"admin/budgets/team:{FrontDoorFixture.NewAppId("bad")}", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out _), json.RootElement.ToString());
    }

    [Fact]
    public async Task Soft_shutdown_refuses_calls_until_the_owner_acknowledges_a_raised_limit()
    {
        var appId = FrontDoorFixture.NewAppId("shut");
        var key = await Fixture.CreateAppWithKeyAsync(appId, budgetLimitUsd: 1m, owner: FrontDoorFixture.AuthorName);
        var budgetId = $"app:{appId}";
        await OkAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 1m, period = "day", onExceeded = "soft_shutdown" });
        await SpendAsync(budgetId, 1m);

        using (var refused = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "hello", maxTokens: 10)))
        {
            var error = await OpenAIError.ReadAsync(refused);
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            Assert.Equal("budget_soft_shutdown", error.Code);
            Assert.NotNull(refused.Headers.RetryAfter);
        }

        var raised = await OkAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 5m, period = "day" });
        Assert.Equal(1m, raised.GetProperty("limitUsd").GetDecimal());
        Assert.Equal(5m, raised.GetProperty("pendingLimitUsd").GetDecimal());
        Assert.True(raised.GetProperty("softShutdown").GetBoolean());

        using (var bob = await Fixture.AdminAsync(HttpMethod.Post, $"admin/budgets/{budgetId}/acknowledge", token: FrontDoorFixture.OtherAuthorToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, bob.StatusCode);
            Assert.Contains(FrontDoorFixture.AuthorName, await bob.Content.ReadAsStringAsync());
        }

        using (var viewer = await Fixture.AdminAsync(HttpMethod.Post, $"admin/budgets/{budgetId}/acknowledge", token: FrontDoorFixture.ViewerToken))
        {
            Assert.Equal(HttpStatusCode.Forbidden, viewer.StatusCode);
        }

        var acknowledged = await OkAsync(HttpMethod.Post, $"admin/budgets/{budgetId}/acknowledge", token: FrontDoorFixture.AuthorToken);
        Assert.Equal(5m, acknowledged.GetProperty("limitUsd").GetDecimal());
        Assert.Equal(JsonValueKind.Null, acknowledged.GetProperty("pendingLimitUsd").ValueKind);
        Assert.False(acknowledged.GetProperty("softShutdown").GetBoolean());
        Assert.Equal(FrontDoorFixture.AuthorName, acknowledged.GetProperty("acknowledgedBy").GetString());

        using (var served = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "hello again", maxTokens: 10)))
        {
            Assert.Equal(HttpStatusCode.OK, served.StatusCode);
        }

        using var audit = await Fixture.AdminAsync(HttpMethod.Get, $"admin/audit?action=budget.acknowledged&target={Uri.EscapeDataString($"budget:{budgetId}")}");
        var auditText = await audit.Content.ReadAsStringAsync();
        Assert.Contains("budget.acknowledged", auditText);
        Assert.Contains(FrontDoorFixture.AuthorName, auditText);
    }

    [Fact]
    public async Task Acknowledging_a_budget_with_nothing_to_acknowledge_is_a_409()
    {
        var budgetId = $"team:{FrontDoorFixture.NewAppId("calm")}";
        await OkAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 10m, period = "day" });

        using var response = await Fixture.AdminAsync(HttpMethod.Post, $"admin/budgets/{budgetId}/acknowledge");

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.Contains("has not reached 100%", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Alerts_are_listed_newest_first_per_budget_and_across_budgets()
    {
        var budgetId = $"team:{FrontDoorFixture.NewAppId("seen")}";
        await OkAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 10m, period = "day" });
        await SpendAsync(budgetId, 6.5m);
        await SpendAsync(budgetId, 2m);

        var perBudget = await OkAsync(HttpMethod.Get, $"admin/budgets/{budgetId}/alerts", token: FrontDoorFixture.ViewerToken);
        var all = await OkAsync(HttpMethod.Get, $"admin/alerts?budgetId={Uri.EscapeDataString(budgetId)}&state=recorded");
        var delivered = await OkAsync(HttpMethod.Get, $"admin/alerts?budgetId={Uri.EscapeDataString(budgetId)}&state=delivered");

        Assert.Equal([0.8m, 0.6m], perBudget.EnumerateArray().Select(a => a.GetProperty("threshold").GetDecimal()).ToArray());
        var newest = perBudget[0];
        Assert.Equal(budgetId, newest.GetProperty("budgetId").GetString());
        Assert.Equal(8.5m, newest.GetProperty("spentUsd").GetDecimal());
        Assert.Equal(10m, newest.GetProperty("limitUsd").GetDecimal());
        Assert.Equal("recorded", newest.GetProperty("state").GetString());
        Assert.Equal(0, newest.GetProperty("deliveries").GetArrayLength());
        Assert.Equal(2, all.GetArrayLength());
        Assert.Equal(0, delivered.GetArrayLength());

        // Without a filter the alert shows up once the budget is in the alert index (after its hand-off).
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!(await OkAsync(HttpMethod.Get, "admin/alerts?limit=1000")).EnumerateArray().Any(a => a.GetProperty("budgetId").GetString() == budgetId))
        {
            Assert.True(DateTime.UtcNow < deadline, "the budget's alerts never appeared in GET /admin/alerts");
            await Task.Yield();
        }

        var everything = await OkAsync(HttpMethod.Get, "admin/alerts?limit=1000");
        var raisedAt = everything.EnumerateArray().Select(a => a.GetProperty("raisedAt").GetDateTimeOffset()).ToList();
        Assert.Equal(raisedAt.OrderByDescending(t => t), raisedAt);
    }

    [Theory]
    [InlineData("state=lost", "state")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=ten", "limit")]
    [InlineData("budgetId=no%20spaces", "budgetId")]
    public async Task A_bad_alert_filter_is_a_400_naming_it(string query, string parameter)
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Get, $"admin/alerts?{query}", token: FrontDoorFixture.ViewerToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(parameter, out _), json.RootElement.ToString());
    }
}
