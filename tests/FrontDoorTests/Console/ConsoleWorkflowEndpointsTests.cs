using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests.Console;

/// <summary>
/// <c>GET /admin/workflows</c>: approvals-bot workflows of every app in one list (the console's workflows page), the
/// open ones first, filtered by state or by who may decide now. Workflows are started by real runs of the app.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class ConsoleWorkflowEndpointsTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture)
{
    private async Task<(string AppId, string ApiKey)> BotAppAsync()
    {
        var appId = FrontDoorFixture.NewAppId("cwf");
        return (appId, await Fixture.CreateTravelApprovalsAppAsync(appId, "console-tests", escalateTo: "admin"));
    }

    private async Task<string> RunAsync((string AppId, string ApiKey) app, string request)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, $"apps/{app.AppId}/run")
        {
            Content = JsonContent.Create(new { input = request, fields = new Dictionary<string, string> { ["requester"] = "requester-rita" } }),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", app.ApiKey);
        using var response = await Fixture.Http.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"run: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        return json.RootElement.GetProperty("details").GetProperty("workflowId").GetString()!;
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> GetAsync(string path, string token = FrontDoorFixture.ViewerToken)
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Get, path, token: token);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return (response.StatusCode, json.RootElement.Clone());
    }

    private static List<JsonElement> Ours(JsonElement list, params string[] appIds) =>
        list.EnumerateArray().Where(w => appIds.Contains(w.GetProperty("appId").GetString())).ToList();

    [Fact]
    public async Task Workflows_of_every_approvals_bot_app_are_listed_waiting_ones_first_with_their_recommendation()
    {
        var first = await BotAppAsync();
        var second = await BotAppAsync();
        var decided = await RunAsync(first, "Business class to Tokyo, 4200 EUR, no customer.");
        var waiting = await RunAsync(second, "Train to Lyon for the customer workshop, 320 EUR.");
        using var rejected = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{first.AppId}/workflows/{decided}/reject",
            new { comment = "Over the limit." }, FrontDoorFixture.ApproverToken);
        Assert.Equal(HttpStatusCode.OK, rejected.StatusCode);

        var (status, list) = await GetAsync("admin/workflows");

        Assert.Equal(HttpStatusCode.OK, status);
        var all = list.EnumerateArray().ToList();
        var open = all.FindIndex(w => w.GetProperty("workflowId").GetString() == waiting);
        var closed = all.FindIndex(w => w.GetProperty("workflowId").GetString() == decided);
        Assert.True(open >= 0 && closed >= 0, list.ToString());
        Assert.True(open < closed, "a waiting workflow comes before a decided one");
        var waitingFlags = all.Select(w => w.GetProperty("mayDecide").GetArrayLength() > 0).ToList();
        Assert.Equal(waitingFlags.OrderByDescending(x => x), waitingFlags);

        var pending = all[open];
        Assert.Equal(second.AppId, pending.GetProperty("appId").GetString());
        Assert.Equal("Travel approvals " + second.AppId, pending.GetProperty("appName").GetString());
        Assert.Equal("pending", pending.GetProperty("state").GetString());
        Assert.Equal("requester-rita", pending.GetProperty("requester").GetString());
        Assert.Contains("Lyon", pending.GetProperty("recommendation").GetString());
        Assert.Contains("Lyon", pending.GetProperty("requestText").GetString());
        Assert.Equal([FrontDoorFixture.ApproverName], pending.GetProperty("mayDecide").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(["admin"], pending.GetProperty("escalateTo").EnumerateArray().Select(e => e.GetString()!));
        Assert.Equal(JsonValueKind.String, pending.GetProperty("deadline").ValueKind);

        var final = all[closed];
        Assert.Equal("rejected", final.GetProperty("state").GetString());
        Assert.Equal(FrontDoorFixture.ApproverName, final.GetProperty("decidedBy").GetString());
        Assert.Equal(0, final.GetProperty("mayDecide").GetArrayLength());
    }

    [Fact]
    public async Task The_list_filters_by_state_and_by_who_may_decide_now()
    {
        var app = await BotAppAsync();
        var waiting = await RunAsync(app, "Train to Lyon for the customer workshop, 320 EUR.");
        var decided = await RunAsync(app, "Business class to Tokyo, 4200 EUR, no customer.");
        using var approved = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{app.AppId}/workflows/{decided}/approve",
            new { comment = "Fine after all." }, FrontDoorFixture.ApproverToken);
        Assert.Equal(HttpStatusCode.OK, approved.StatusCode);

        var (_, forCarol) = await GetAsync($"admin/workflows?approver={FrontDoorFixture.ApproverName}");
        Assert.Equal([waiting], Ours(forCarol, app.AppId).Select(w => w.GetProperty("workflowId").GetString()!));

        // The escalation approver may decide only once escalated: not yet.
        var (_, forAdmin) = await GetAsync("admin/workflows?approver=admin");
        Assert.Empty(Ours(forAdmin, app.AppId));

        var (_, open) = await GetAsync("admin/workflows?state=open");
        Assert.Equal([waiting], Ours(open, app.AppId).Select(w => w.GetProperty("workflowId").GetString()!));
        var (_, onlyApproved) = await GetAsync("admin/workflows?state=approved");
        Assert.Equal([decided], Ours(onlyApproved, app.AppId).Select(w => w.GetProperty("workflowId").GetString()!));
        Assert.All(onlyApproved.EnumerateArray(), w => Assert.Equal("approved", w.GetProperty("state").GetString()));

        var (_, one) = await GetAsync("admin/workflows?limit=1");
        Assert.Equal(1, one.GetArrayLength());
    }

    [Theory]
    [InlineData("state=nope", "state")]
    [InlineData("limit=0", "limit")]
    [InlineData("limit=501", "limit")]
    [InlineData("limit=ten", "limit")]
    public async Task A_bad_filter_is_refused_naming_the_field(string query, string field)
    {
        var (status, problem) = await GetAsync("admin/workflows?" + query);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }
}
