using System.Net;
using System.Text.Json;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary><c>GET /admin/traces/{appId}/{requestId}/sample</c>: the redacted prompt sample of one traced call.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class ConsoleTraceEndpointsTests(FrontDoorFixture fixture)
{
    private const string Email = "max.mustermann@example.com";

    private ITraceStore Store => fixture.FrontDoor.Services.GetRequiredService<ITraceStore>();

    [Fact]
    public async Task The_sample_of_a_sampled_real_call_is_its_redacted_prompt_and_response()
    {
        var appId = FrontDoorFixture.NewAppId("cts");
        using (var created = await fixture.AdminAsync(HttpMethod.Post, "admin/apps", FrontDoorFixture.SampledAppBody(appId)))
        {
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        }

        var key = await fixture.IssueKeyAsync(appId);
        var requestId = "cts-" + Guid.NewGuid().ToString("N");
        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", $"Please reply to {Email} about the invoice."), requestId))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        await fixture.WaitForTraceAsync(appId, requestId);
        using var response = await fixture.AdminAsync(HttpMethod.Get, $"admin/traces/{appId}/{requestId}/sample", token: FrontDoorFixture.ViewerToken);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var json = JsonDocument.Parse(body);
        Assert.Equal(appId, json.RootElement.GetProperty("appId").GetString());
        Assert.Equal(requestId, json.RootElement.GetProperty("requestId").GetString());
        Assert.Contains("[REDACTED:email]", json.RootElement.GetProperty("redactedPrompt").GetString());
        Assert.Contains("email", json.RootElement.GetProperty("piiClasses").EnumerateArray().Select(c => c.GetString()));
        Assert.DoesNotContain(Email, body);
    }

    [Fact]
    public async Task A_call_of_an_app_that_does_not_sample_has_no_sample()
    {
        var appId = FrontDoorFixture.NewAppId("ctn");
        var key = await fixture.CreateAppWithKeyAsync(appId);
        var requestId = "ctn-" + Guid.NewGuid().ToString("N");
        using (var call = await fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("standard", "Nothing is kept of this."), requestId))
        {
            Assert.Equal(HttpStatusCode.OK, call.StatusCode);
        }

        await fixture.WaitForTraceAsync(appId, requestId);
        using var response = await fixture.AdminAsync(HttpMethod.Get, $"admin/traces/{appId}/{requestId}/sample");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("promptSampleShare", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_sample_is_found_among_many_newer_samples_of_the_app_and_not_taken_from_another_request()
    {
        var appId = FrontDoorFixture.NewAppId("ctm");
        var at = new DateTimeOffset(2024, 6, 3, 10, 30, 0, TimeSpan.Zero);
        var target = Trace(appId, "target-" + Guid.NewGuid().ToString("N"), at);
        var lonely = Trace(appId, "lonely-" + Guid.NewGuid().ToString("N"), at);

        // More newer samples than one search page holds, so the target's is on a later page.
        var others = Enumerable.Range(0, TraceQuery.MaxPageSize + 50)
            .Select(i => Sample(appId, $"other-{i}", at.AddMilliseconds(10 + i), $"user: other {i}"))
            .ToList();
        await Store.AppendAsync([target, lonely], [.. others, Sample(appId, target.RequestId, at, "user: the target prompt")]);

        using (var found = await fixture.AdminAsync(HttpMethod.Get, $"admin/traces/{appId}/{target.RequestId}/sample", token: FrontDoorFixture.ApproverToken))
        {
            var body = await found.Content.ReadAsStringAsync();
            Assert.True(found.StatusCode == HttpStatusCode.OK, body);
            using var json = JsonDocument.Parse(body);
            Assert.Equal(target.RequestId, json.RootElement.GetProperty("requestId").GetString());
            Assert.Equal("user: the target prompt", json.RootElement.GetProperty("redactedPrompt").GetString());
        }

        // A traced request with no sample of its own is 404 even when its app has samples at the same time.
        using var missing = await fixture.AdminAsync(HttpMethod.Get, $"admin/traces/{appId}/{lonely.RequestId}/sample");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task An_unknown_trace_is_404_and_a_bad_app_id_is_400_naming_the_field()
    {
        using (var unknown = await fixture.AdminAsync(HttpMethod.Get, $"admin/traces/{FrontDoorFixture.NewAppId("ctu")}/never-made/sample"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            Assert.Contains("Trace not found", await unknown.Content.ReadAsStringAsync());
        }

        using var bad = await fixture.AdminAsync(HttpMethod.Get, "admin/traces/Not_An_App/r1/sample");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("appId", await bad.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Authors_do_not_read_samples_as_they_do_not_search_the_prompt_store()
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, $"admin/traces/{FrontDoorFixture.NewAppId("cta")}/r1/sample", token: FrontDoorFixture.AuthorToken);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static TraceEvent Trace(string appId, string requestId, DateTimeOffset at) =>
        new(appId, requestId, FrontDoorFixture.StandardModel, "standard", 12, 7, 25.5, "v1", 0.002m, $"standard:{FrontDoorFixture.StandardModel}",
            TraceOutcomes.Success, null, "console-tests", "hash", false, 0.001m, at, ["admit:Admitted"]);

    private static PromptSample Sample(string appId, string requestId, DateTimeOffset at, string prompt) =>
        new(appId, requestId, at, prompt, "an answer", [], "console-tests", FrontDoorFixture.StandardModel);
}
