using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests.Cli;

/// <summary>The <c>microapps</c> CLI against a running front door: apps, keys, status, cost, logs and its error lines.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class CliAppCommandsTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture), IDisposable
{
    private readonly CliHarness cli = new(fixture);

    public void Dispose() => cli.Dispose();

    [Fact]
    public async Task Apps_list_shows_every_app_with_its_spend_limit()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await Fixture.CreateAppWithKeyAsync(appId, budgetLimitUsd: 42m);

        var result = await cli.AdminAsync("apps", "list");

        Assert.True(result.ExitCode == 0, result.ToString());
        var row = Assert.Single(result.Output.Split('\n'), l => l.Contains(appId, StringComparison.Ordinal));
        Assert.Contains("$42.00", row);
        Assert.Contains("frontdoor-tests", row);
        Assert.Empty(result.Errors);
    }

    [Fact]
    public async Task Apps_list_with_json_prints_the_front_doors_answer_as_it_is()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await Fixture.CreateAppWithKeyAsync(appId);

        var result = await cli.AdminAsync("apps", "list", "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var app = Assert.Single(result.Json().EnumerateArray(), a => a.GetProperty("appId").GetString() == appId);
        Assert.Equal("active", app.GetProperty("lifecycle").GetString());
    }

    [Fact]
    public async Task Global_options_may_come_before_the_command()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await Fixture.CreateAppWithKeyAsync(appId);

        var result = await CliHarness.RunRawAsync(["--url", Fixture.BaseAddress.ToString(), "--token", FrontDoorFixture.AdminToken, "--json", "apps", "list"]);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains(result.Json().EnumerateArray(), a => a.GetProperty("appId").GetString() == appId);
    }

    [Fact]
    public async Task Url_and_token_come_from_the_environment_when_not_given()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await Fixture.CreateAppWithKeyAsync(appId);

        var result = await CliHarness.RunRawAsync(["status", appId, "--json"], new Dictionary<string, string>
        {
            ["MICROAPPS_URL"] = Fixture.BaseAddress.ToString(),
            ["MICROAPPS_TOKEN"] = FrontDoorFixture.ViewerToken,
        });

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal(appId, result.Json().GetProperty("appId").GetString());
    }

    [Fact]
    public async Task Keys_issue_gives_a_working_key_and_revoke_stops_it()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await Fixture.CreateAppWithKeyAsync(appId);

        var issued = await cli.AdminAsync("keys", "issue", appId, "--label", "from-the-cli");
        Assert.True(issued.ExitCode == 0, issued.ToString());
        var apiKey = Assert.Single(issued.Output.Split('\n', StringSplitOptions.TrimEntries), l => l.StartsWith($"mak.{appId}.", StringComparison.Ordinal));
        var keyId = apiKey.Split('.')[2];
        Assert.Contains(keyId, issued.Output.Split('\n')[0]);
        Assert.Equal(HttpStatusCode.OK, await ModelsStatusAsync(apiKey));

        var listed = await cli.AdminAsync("keys", "list", appId);
        Assert.True(listed.ExitCode == 0, listed.ToString());
        var row = Assert.Single(listed.Output.Split('\n'), l => l.Contains(keyId, StringComparison.Ordinal));
        Assert.Contains("from-the-cli", row);
        Assert.DoesNotContain(apiKey, listed.Output);

        var revoked = await cli.AdminAsync("keys", "revoke", appId, keyId);
        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.Contains($"revoked key {keyId}", revoked.Output);
        Assert.Equal(HttpStatusCode.Unauthorized, await ModelsStatusAsync(apiKey));
    }

    [Fact]
    public async Task Revoking_an_unknown_key_is_one_error_line_and_exit_1()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await Fixture.CreateAppWithKeyAsync(appId);

        var result = await cli.AdminAsync("keys", "revoke", appId, "nosuchkey");

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.Equal($"error: App '{appId}' has no key 'nosuchkey'.", line);
    }

    [Fact]
    public async Task Status_shows_the_release_versions_keys_and_budget()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await Fixture.CreateAppWithKeyAsync(appId, budgetLimitUsd: 7m);

        var result = await cli.RunAsync(FrontDoorFixture.ViewerToken, "status", appId);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("version 1 published", result.Output);
        Assert.Contains("of $7.00", result.Output);
        var versions = result.Output.Split("versions", 2)[1].Split("keys", 2);
        Assert.Contains("published", versions[0]);
        Assert.Contains("tests", versions[1]);
    }

    [Fact]
    public async Task Status_of_an_unknown_app_is_one_error_line_and_exit_1()
    {
        var result = await cli.AdminAsync("status", "no-such-app-here");

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("error: No app has the id 'no-such-app-here'.", Assert.Single(result.ErrorLines));
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task An_unreachable_front_door_is_one_line_and_exit_3()
    {
        var port = ClosedPort();

        var result = await CliHarness.RunRawAsync(["apps", "list", "--url", $"http://127.0.0.1:{port}", "--token", "t"]);

        Assert.Equal(3, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith($"error: cannot reach the front door at http://127.0.0.1:{port}: ", line);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task A_bad_token_is_one_error_line_and_exit_1()
    {
        var result = await cli.RunAsync("not-a-token", "apps", "list");

        Assert.Equal(1, result.ExitCode);
        var line = Assert.Single(result.ErrorLines);
        Assert.StartsWith("error: ", line);
        Assert.DoesNotContain("   at ", result.Errors);
        Assert.Empty(result.Output);
    }

    [Fact]
    public async Task No_token_at_all_is_a_usage_error_naming_the_variable()
    {
        var result = await cli.RunAsync(token: null, "apps", "list");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("MICROAPPS_TOKEN", Assert.Single(result.ErrorLines));
    }

    [Theory]
    [InlineData("frobnicate")]
    [InlineData("approve", "some-app", "1")]
    [InlineData("cost", "--by", "colour")]
    [InlineData("logs", "some-app", "--since", "yesterday-ish")]
    public async Task A_wrong_command_line_is_one_error_line_and_exit_2(params string[] args)
    {
        var result = await cli.AdminAsync(args);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task Logs_show_a_chat_call_with_its_model_outcome_and_tokens()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        var key = await Fixture.CreateAppWithKeyAsync(appId);
        var requestId = "cli-logs-" + Guid.NewGuid().ToString("N")[..8];
        using (var chat = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("auto", "Hello from the CLI logs test"), requestId))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        var trace = await Fixture.WaitForTraceAsync(appId, requestId);

        var result = await cli.AdminAsync("logs", appId, "--since", "1h", "--limit", "10");

        Assert.True(result.ExitCode == 0, result.ToString());
        var row = Assert.Single(result.Output.Split('\n'), l => l.Contains(requestId, StringComparison.Ordinal));
        Assert.Contains(FrontDoorFixture.StandardModel, row);
        Assert.Contains(trace.GetProperty("outcome").GetString()!, row);
        Assert.Contains($"{trace.GetProperty("tokensIn").GetInt32()}/{trace.GetProperty("tokensOut").GetInt32()}", row);
    }

    [Fact]
    public async Task Cost_shows_an_apps_spend_after_a_chat_call()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        var key = await Fixture.CreateAppWithKeyAsync(appId);
        var requestId = "cli-cost-" + Guid.NewGuid().ToString("N")[..8];
        using (var chat = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("auto", "Hello from the CLI cost test"), requestId))
        {
            Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
        }

        var trace = await Fixture.WaitForTraceAsync(appId, requestId);
        var cost = trace.GetProperty("costActualUsd").GetDecimal();
        Assert.True(cost > 0, trace.ToString());

        // The dashboard keeps the current hour's live roll-up for Telemetry:Cost:LiveCacheFor (5 s): poll until the call shows.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        JsonElement[] groups;
        do
        {
            var json = await cli.AdminAsync("cost", "--app", appId, "--days", "1", "--json");
            Assert.True(json.ExitCode == 0, json.ToString());
            groups = [.. json.Json().GetProperty("spend").GetProperty("groups").EnumerateArray()];
            Assert.True(groups.Length > 0 || DateTime.UtcNow < deadline, $"the call did not show in `cost --app` within 30 s: {json}");
        }
        while (groups.Length == 0);

        var group = Assert.Single(groups);
        Assert.Equal(appId, group.GetProperty("key").GetString());
        Assert.Equal(1, group.GetProperty("total").GetProperty("requests").GetInt64());
        Assert.Equal(cost, group.GetProperty("total").GetProperty("costUsd").GetDecimal());

        var table = await cli.AdminAsync("cost", "--by", "app", "--days", "1");
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains("last 1 day", table.Output);
        Assert.Single(table.Output.Split('\n'), l => l.Contains(appId, StringComparison.Ordinal));
    }

    private async Task<HttpStatusCode> ModelsStatusAsync(string apiKey)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "v1/models");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await Fixture.Http.SendAsync(request);
        return response.StatusCode;
    }

    private static int ClosedPort()
    {
        var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
