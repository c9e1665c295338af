using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests;

[Collection(FrontDoorCollection.Name)]
public sealed class AdminApiTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture)
{
    private static object ValidApp(string appId) => new
    {
        appId,
        name = "Invoice helper",
        owner = "ana@example.com",
        team = "finance",
        audience = "internal",
        dataClasses = new[] { "email" },
        allowedTiers = new[] { "local", "standard" },
        defaultTier = "local",
        quotas = new { requestsPerMinute = 30, tokensPerDay = 100_000 },
        budget = new { limitUsd = 12.5m, period = "month" },
        initialState = "published",
    };

    private static async Task<JsonElement> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.Clone();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("wrong-token")]
    public async Task Admin_api_without_the_admin_token_is_401_problem(string? token)
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Get, "admin/apps", token: token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var problem = await ProblemAsync(response);
        Assert.Equal(401, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task App_key_is_not_an_admin_token()
    {
        var key = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId());

        using var response = await Fixture.AdminAsync(HttpMethod.Get, "admin/apps", token: key);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Create_app_returns_201_with_the_app_and_its_configured_budget()
    {
        var appId = FrontDoorFixture.NewAppId("inv");

        using var response = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", ValidApp(appId));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/admin/apps/{appId}", response.Headers.Location?.OriginalString);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var app = json.RootElement;
        Assert.Equal(appId, app.GetProperty("appId").GetString());
        Assert.Equal("internal", app.GetProperty("audience").GetString());
        Assert.Equal("active", app.GetProperty("lifecycle").GetString());
        Assert.Equal(12.5m, app.GetProperty("limitUsd").GetDecimal());
        Assert.Equal($"app:{appId}", app.GetProperty("budgetId").GetString());

        using var budget = await Fixture.AdminAsync(HttpMethod.Get, $"admin/budgets/app:{appId}");
        Assert.Equal(HttpStatusCode.OK, budget.StatusCode);
        using var budgetJson = JsonDocument.Parse(await budget.Content.ReadAsStringAsync());
        Assert.Equal("month", budgetJson.RootElement.GetProperty("period").GetString());
        Assert.Equal(12.5m, budgetJson.RootElement.GetProperty("limitUsd").GetDecimal());
    }

    [Fact]
    public async Task Repeating_the_same_create_is_200_and_a_different_manifest_is_409()
    {
        var appId = FrontDoorFixture.NewAppId();
        using (var first = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", ValidApp(appId)))
        {
            Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        }

        using (var again = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", ValidApp(appId)))
        {
            Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        }

        var different = new
        {
            appId,
            name = "Someone else's app",
            owner = "bob@example.com",
            team = "sales",
            allowedTiers = new[] { "local" },
        };
        using var conflict = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", different);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal(409, (await ProblemAsync(conflict)).GetProperty("status").GetInt32());
    }

    [Theory]
    [InlineData("""{"appId":"Bad_Id","name":"n","owner":"o","team":"t","allowedTiers":["local"]}""", "appId")]
    [InlineData("""{"appId":"ok-app-id","owner":"o","team":"t","allowedTiers":["local"]}""", "name")]
    [InlineData("""{"appId":"ok-app-id","name":"n","owner":"o","team":"t","allowedTiers":[]}""", "allowedTiers")]
    [InlineData("""{"appId":"ok-app-id","name":"n","owner":"o","team":"t","allowedTiers":["local"],"audience":"martians"}""", "audience")]
    [InlineData("""{"appId":"ok-app-id","name":"n","owner":"o","team":"t","allowedTiers":["local"],"defaultTier":"premium"}""", "defaultTier")]
    [InlineData("""{"appId":"ok-app-id","name":"n","owner":"o","team":"t","allowedTiers":["local"],"quotas":{"requestsPerMinute":-1,"tokensPerDay":5}}""", "quotas.requestsPerMinute")]
    [InlineData("""{"appId":"ok-app-id","name":"n","owner":"o","team":"t","allowedTiers":["local"],"quotas":{"requestsPerMinute":1,"tokensPerDay":"lots"}}""", "quotas.tokensPerDay")]
    [InlineData("""{"appId":"ok-app-id","name":"n","owner":"o","team":"t","allowedTiers":["local"],"budget":{"limitUsd":-5,"period":"day"}}""", "budget.limitUsd")]
    [InlineData("""{"appId":"ok-app-id","name":"n","owner":"o","team":"t","allowedTiers":["local"],"budget":{"limitUsd":5,"period":"fortnight"}}""", "budget.period")]
    [InlineData("""{"appId":"ok-app-id","name":"n","owner":"o","team":"t","allowedTiers":["local"],"budgetId":"has space"}""", "budgetId")]
    [InlineData("""{"appId":"ok-app-id",""", "body")]
    public async Task Bad_create_input_is_a_validation_problem_naming_the_field(string body, string field)
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ProblemAsync(response);
        var errors = problem.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out _), $"errors should name '{field}': {errors}");
    }

    [Fact]
    public async Task Admin_body_over_the_limit_is_413_problem()
    {
        var body = $$"""{"appId":"big-body","name":"{{new string('n', FrontDoorFixture.MaxRequestBodyBytes)}}"}""";

        using var response = await Fixture.AdminAsync(HttpMethod.Post, "admin/apps", body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal(413, (await ProblemAsync(response)).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Admin_body_that_is_not_json_content_is_415_problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, "admin/budgets/team:x")
        {
            Content = new StringContent("limitUsd=5", System.Text.Encoding.UTF8, "application/x-www-form-urlencoded"),
        };
        request.Headers.Authorization = new("Bearer", FrontDoorFixture.AdminToken);

        using var response = await Fixture.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Equal(415, (await ProblemAsync(response)).GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task Unknown_app_is_404_for_get_keys_quotas_and_lifecycle()
    {
        var appId = FrontDoorFixture.NewAppId("missing");
        using var get = await Fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        using var key = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/keys", new { label = "x" });
        using var quotas = await Fixture.AdminAsync(HttpMethod.Put, $"admin/apps/{appId}/quotas", new { requestsPerMinute = 1, tokensPerDay = 1 });
        using var suspend = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/suspend");
        using var revoke = await Fixture.AdminAsync(HttpMethod.Delete, $"admin/apps/{appId}/keys/k1");

        foreach (var response in new[] { get, key, quotas, suspend, revoke })
        {
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(404, (await ProblemAsync(response)).GetProperty("status").GetInt32());
        }
    }

    [Fact]
    public async Task Invalid_app_id_in_the_path_is_a_validation_problem()
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Get, "admin/apps/NOT_VALID");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await ProblemAsync(response)).GetProperty("errors").TryGetProperty("appId", out _));
    }

    [Fact]
    public async Task Negative_quota_update_is_a_validation_problem_and_a_valid_one_applies()
    {
        var appId = FrontDoorFixture.NewAppId();
        await Fixture.CreateAppWithKeyAsync(appId);

        using var bad = await Fixture.AdminAsync(HttpMethod.Put, $"admin/apps/{appId}/quotas", new { requestsPerMinute = 5, tokensPerDay = -1 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True((await ProblemAsync(bad)).GetProperty("errors").TryGetProperty("tokensPerDay", out _));

        using var good = await Fixture.AdminAsync(HttpMethod.Put, $"admin/apps/{appId}/quotas", new { requestsPerMinute = 7, tokensPerDay = 700 });
        Assert.Equal(HttpStatusCode.OK, good.StatusCode);
        using var json = JsonDocument.Parse(await good.Content.ReadAsStringAsync());
        Assert.Equal(7, json.RootElement.GetProperty("quotas").GetProperty("requestsPerMinute").GetInt32());
        Assert.Equal(700, json.RootElement.GetProperty("quotas").GetProperty("tokensPerDay").GetInt64());
    }

    [Fact]
    public async Task Budget_put_validates_and_get_of_an_unconfigured_budget_is_404()
    {
        var budgetId = "team:" + Guid.NewGuid().ToString("N")[..8];
        using (var missing = await Fixture.AdminAsync(HttpMethod.Get, $"admin/budgets/{budgetId}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var bad = await Fixture.AdminAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 5, period = "weekly" }))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.True((await ProblemAsync(bad)).GetProperty("errors").TryGetProperty("period", out _));
        }

        using var put = await Fixture.AdminAsync(HttpMethod.Put, $"admin/budgets/{budgetId}", new { limitUsd = 5, period = "day" });
        Assert.Equal(HttpStatusCode.OK, put.StatusCode);
        using var get = await Fixture.AdminAsync(HttpMethod.Get, $"admin/budgets/{budgetId}");
        using var json = JsonDocument.Parse(await get.Content.ReadAsStringAsync());
        Assert.Equal(5m, json.RootElement.GetProperty("limitUsd").GetDecimal());
        Assert.Equal("day", json.RootElement.GetProperty("period").GetString());
    }

    [Fact]
    public async Task List_apps_shows_each_apps_spend_after_a_call()
    {
        var appId = FrontDoorFixture.NewAppId();
        var key = await Fixture.CreateAppWithKeyAsync(appId, budgetLimitUsd: 3m);
        using (var call = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "spend a little")))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        using var response = await Fixture.AdminAsync(HttpMethod.Get, "admin/apps");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var app = json.RootElement.EnumerateArray().Single(a => a.GetProperty("appId").GetString() == appId);
        Assert.Equal(3m, app.GetProperty("limitUsd").GetDecimal());
        Assert.True(app.GetProperty("spentUsd").GetDecimal() > 0m, app.ToString());
        Assert.Equal(0m, app.GetProperty("reservedUsd").GetDecimal());
        Assert.Single(app.GetProperty("keys").EnumerateArray());
    }

    [Fact]
    public async Task Issued_key_has_the_documented_format_and_is_listed_without_its_secret()
    {
        var appId = FrontDoorFixture.NewAppId();
        var key = await Fixture.CreateAppWithKeyAsync(appId);

        Assert.Matches($"^mak\\.{appId}\\.[^.]+\\.[^.]+$", key);
        using var get = await Fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}");
        var text = await get.Content.ReadAsStringAsync();
        Assert.DoesNotContain(key.Split('.')[3], text);
        Assert.Contains(key.Split('.')[2], text);
    }
}
