using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;

namespace MicroApps.Orleans.ConsoleTests;

/// <summary>
/// The workflows page in a real browser: a run of an approvals-bot app starts a workflow (the fake upstream drafts
/// the recommendation by echoing the request); only its named approver may decide, and the API's 403 naming who may
/// is shown to anyone else.
/// </summary>
[Collection(ConsoleCollection.Name)]
public sealed class WorkflowsPageTests(ConsoleFixture fixture)
{
    /// <summary>A published approvals-bot app whose approver is approver-carol, run once: the workflow id.</summary>
    private async Task<(string AppId, string WorkflowId)> WorkflowAsync(string request)
    {
        var appId = FrontDoorFixture.NewAppId("cwp");
        var apiKey = await fixture.FrontDoor.CreateTravelApprovalsAppAsync(appId, "console-tests", escalateTo: "head-of-finance");

        using var message = new HttpRequestMessage(HttpMethod.Post, $"apps/{appId}/run")
        {
            Content = JsonContent.Create(new { input = request, fields = new Dictionary<string, string> { ["requester"] = "requester-rita" } }),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await fixture.FrontDoor.Http.SendAsync(message);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"run: {(int)response.StatusCode} {text}");
        using var json = JsonDocument.Parse(text);
        return (appId, json.RootElement.GetProperty("details").GetProperty("workflowId").GetString()!);
    }

    private static ILocator Card(IPage page, (string AppId, string WorkflowId) w) =>
        page.GetByRole(AriaRole.Region, new() { Name = $"Workflow {w.WorkflowId} of {w.AppId}", Exact = true });

    private static string Comment((string AppId, string WorkflowId) w) => $"Comment on workflow {w.WorkflowId} of {w.AppId}";

    [Fact]
    public async Task A_workflow_started_by_a_run_is_approved_by_its_named_approver_in_the_console()
    {
        var workflow = await WorkflowAsync("Train to Lyon for the customer workshop, 320 EUR.");

        // The admin is not named on the workflow: the console lets them try, and shows the API's refusal naming who may.
        var admin = await fixture.SignInAsync(FrontDoorFixture.AdminToken);
        await ConsoleFixture.GoToAsync(admin, "/workflows");
        var adminCard = Card(admin, workflow);
        await Expect(adminCard).ToContainTextAsync("requester-rita");
        await Expect(adminCard).ToContainTextAsync("Lyon");
        await Expect(adminCard).ToContainTextAsync($"Only {FrontDoorFixture.ApproverName} may decide now");
        await adminCard.GetByLabel(Comment(workflow)).FillAsync("I am not on this one.");
        await adminCard.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
        var refusal = adminCard.GetByRole(AriaRole.Alert);
        await Expect(refusal).ToContainTextAsync("403");
        await Expect(refusal).ToContainTextAsync(FrontDoorFixture.ApproverName);
        Assert.Equal("pending", (await fixture.AdminJsonAsync($"admin/apps/{workflow.AppId}/workflows/{workflow.WorkflowId}")).GetProperty("state").GetString());
        await admin.Context.CloseAsync();

        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);
        await ConsoleFixture.GoToAsync(page, "/workflows?mine=1");
        var card = Card(page, workflow);
        await Expect(card).ToContainTextAsync("head-of-finance");
        await Expect(card.GetByText($"Only {FrontDoorFixture.ApproverName} may decide now")).ToHaveCountAsync(0);
        await ConsoleFixture.ScreenshotAsync(page, "05-workflows");

        await card.GetByLabel(Comment(workflow)).FillAsync("Customer workshop, fine.");
        await card.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();

        await Expect(page.Locator("#toasts")).ToContainTextAsync($"Workflow {workflow.WorkflowId} of {workflow.AppId} approved");
        await Expect(Card(page, workflow)).ToHaveCountAsync(0);
        var decided = await fixture.AdminJsonAsync($"admin/apps/{workflow.AppId}/workflows/{workflow.WorkflowId}");
        Assert.Equal("approved", decided.GetProperty("state").GetString());
        Assert.Equal(FrontDoorFixture.ApproverName, decided.GetProperty("decision").GetProperty("by").GetString());
        Assert.Equal("Customer workshop, fine.", decided.GetProperty("decision").GetProperty("comment").GetString());
        var audit = await fixture.AdminJsonAsync($"admin/audit?target=app:{workflow.AppId}&action=workflow.approved");
        Assert.Equal(FrontDoorFixture.ApproverName, Assert.Single(audit.GetProperty("entries").EnumerateArray()).GetProperty("actor").GetString());

        // Decided, it is listed among the decided ones.
        await ConsoleFixture.GoToAsync(page, "/workflows?state=approved");
        var decidedRow = page.GetByRole(AriaRole.Table, new() { Name = "Decided workflows" }).GetByRole(AriaRole.Row).Filter(new() { HasText = workflow.WorkflowId });
        await Expect(decidedRow).ToContainTextAsync(FrontDoorFixture.ApproverName);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task A_workflow_is_rejected_from_its_detail_page_which_then_shows_the_decision_and_history()
    {
        var workflow = await WorkflowAsync("Business class to Tokyo, 4200 EUR, no customer.");
        var page = await fixture.SignInAsync(FrontDoorFixture.ApproverToken);
        await ConsoleFixture.GoToAsync(page, $"/workflows/{workflow.AppId}/{workflow.WorkflowId}");

        await Expect(page.Locator("main h1")).ToContainTextAsync(workflow.WorkflowId);
        await Expect(page.Locator("main pre.recommendation")).ToContainTextAsync("Tokyo");
        await page.GetByLabel(Comment(workflow)).FillAsync("Over the limit and no customer reason.");
        await page.GetByRole(AriaRole.Button, new() { Name = "Reject" }).ClickAsync();

        await Expect(page.Locator("main").GetByRole(AriaRole.Status)).ToContainTextAsync($"Rejected by {FrontDoorFixture.ApproverName}");
        await Expect(page.GetByRole(AriaRole.Table, new() { Name = "History" })).ToContainTextAsync("rejected");
        await Expect(page.GetByRole(AriaRole.Button, new() { Name = "Reject" })).ToHaveCountAsync(0);
        await ConsoleFixture.ScreenshotAsync(page, "05-workflows-detail");
        var decided = await fixture.AdminJsonAsync($"admin/apps/{workflow.AppId}/workflows/{workflow.WorkflowId}");
        Assert.Equal("rejected", decided.GetProperty("state").GetString());
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Only_those_i_may_decide_leaves_out_workflows_that_name_someone_else()
    {
        var workflow = await WorkflowAsync("Hotel in Oslo for the customer visit, 180 EUR.");
        var page = await fixture.SignInAsync(FrontDoorFixture.ViewerToken, ConsoleFixture.Phone);

        await ConsoleFixture.GoToAsync(page, "/workflows");
        await Expect(Card(page, workflow)).ToBeVisibleAsync();
        await ConsoleFixture.AssertFitsAsync(page, "the page");
        await ConsoleFixture.ScreenshotAsync(page, "05-workflows-phone");

        await page.GetByLabel($"Only those I ({FrontDoorFixture.ViewerName}) may decide").CheckAsync();
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("mine=1"));
        await Expect(Card(page, workflow)).ToHaveCountAsync(0);
        await page.Context.CloseAsync();
    }
}
