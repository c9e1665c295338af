using System.Text.Json;
using System.Text.RegularExpressions;

namespace MicroApps.Orleans.FrontDoorTests.Cli;

/// <summary>
/// The CLI on the hosted runtime: <c>test</c> of a draft with a test key (regression tests and an input), and a
/// template app from push to publish, run with a production key and seen in <c>logs</c>.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class CliRuntimeTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture), IDisposable
{
    private const string Input = "The invoice backlog grew in March. The finance team will automate invoice approval by June.";

    private readonly CliHarness cli = new(fixture);

    public void Dispose() => cli.Dispose();

    private Task<CliResult> AuthorAsync(params string[] args) => cli.RunAsync(FrontDoorFixture.AuthorToken, args);

    /// <summary>The skeleton with its REQUIRED team filled in, on the built-in local tier, with a regression test.</summary>
    private static string Completed(string skeleton, string mustContain = "invoice")
    {
        var yaml = Regex.Replace(skeleton, "^team: .*$", "team: \"finance\"", RegexOptions.Multiline);
        yaml = Regex.Replace(yaml, "^allowedTiers: .*$", "allowedTiers: [local]", RegexOptions.Multiline);
        yaml = Regex.Replace(yaml, "^defaultTier: .*$", "defaultTier: local", RegexOptions.Multiline);
        yaml = yaml.Replace("parameters:\n", "parameters:\n  tier: local\n", StringComparison.Ordinal);
        return yaml + $"""
            tests:
              - name: keeps-invoices
                input: "{Input}"
                assertions:
                  - {"{"}kind: contains, value: {mustContain}{"}"}
                  - {"{"}kind: max_tokens, value: "400"{"}"}

            """;
    }

    /// <summary>A draft app on the summarizer template and the built-in local model, pushed as YAML.</summary>
    private async Task<string> PushedSummarizerAsync(string appId, string mustContain = "invoice")
    {
        var file = cli.PathOf(appId + ".yaml");
        var skeleton = $"""
            appId: {appId}
            name: "Invoice notes"
            team: ""
            audience: internal
            allowedTiers: [standard]
            defaultTier: standard
            template: summarizer@1.0.0
            parameters:

            """;
        await File.WriteAllTextAsync(file, Completed(skeleton, mustContain));
        var pushed = await AuthorAsync("push", file);
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
        return file;
    }

    [Fact]
    public async Task Test_runs_the_drafts_regression_tests_with_a_test_key_and_revokes_it()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await PushedSummarizerAsync(appId);

        var result = await AuthorAsync("test", appId);

        Assert.True(result.ExitCode == 0, result.ToString());
        var rows = result.Output.Split('\n').Where(l => l.Contains("keeps-invoices", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, rows.Count);
        Assert.All(rows, r => Assert.Contains("pass", r));
        Assert.Contains("every assertion passed", result.Output);

        var keys = await AuthorAsync("status", appId, "--json");
        var testKey = Assert.Single(keys.Json().GetProperty("keys").EnumerateArray(), k => k.GetProperty("kind").GetString() == "test");
        Assert.NotEqual(JsonValueKind.Null, testKey.GetProperty("revokedAt").ValueKind);
    }

    [Fact]
    public async Task Test_reports_a_failing_assertion_and_exits_1()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await PushedSummarizerAsync(appId, mustContain: "refund");

        var result = await AuthorAsync("test", appId);

        Assert.Equal(1, result.ExitCode);
        var row = Assert.Single(result.Output.Split('\n'), l => l.Contains("contains refund", StringComparison.Ordinal));
        Assert.Contains("fail", row);
        Assert.Contains("does not contain 'refund'", row);
    }

    [Fact]
    public async Task Test_with_an_input_shows_the_drafts_answer()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await PushedSummarizerAsync(appId);

        var result = await AuthorAsync("test", appId, "--input", Input, "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var answer = Assert.Single(result.Json().GetProperty("results").EnumerateArray()).GetProperty("answer");
        Assert.Contains("invoice", answer.GetProperty("output").GetString()!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task From_a_template_to_a_published_app_run_with_a_production_key()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await PushedSummarizerAsync(appId);
        Assert.Equal(0, (await AuthorAsync("test", appId)).ExitCode);

        var submitted = await AuthorAsync("submit", appId);
        Assert.True(submitted.ExitCode == 0, submitted.ToString());
        Assert.Contains("approved automatically", submitted.Output);
        var promoted = await cli.RunAsync(FrontDoorFixture.ApproverToken, "promote", appId, "1");
        Assert.True(promoted.ExitCode == 0, promoted.ToString());

        var issued = await AuthorAsync("keys", "issue", appId, "--label", "production", "--json");
        var key = issued.Json().GetProperty("apiKey").GetString()!;
        var run = await cli.RunAsync(token: null, "run", appId, "--key", key, "--input", Input, "--json");
        Assert.True(run.ExitCode == 0, run.ToString());
        var runId = run.Json().GetProperty("runId").GetString()!;
        Assert.Contains("invoice", run.Json().GetProperty("output").GetString()!, StringComparison.OrdinalIgnoreCase);

        var deadline = DateTime.UtcNow.AddSeconds(30);
        CliResult logs;
        do
        {
            logs = await cli.AdminAsync("logs", appId, "--since", "1h");
            Assert.True(logs.ExitCode == 0, logs.ToString());
            Assert.True(DateTime.UtcNow < deadline, $"the run's trace did not show in `logs` within 30 s: {logs}");
        }
        while (!logs.Output.Contains(runId, StringComparison.Ordinal));

        Assert.Contains(FrontDoorFixture.LocalModel, logs.Output);
    }

    [Fact]
    public async Task Run_with_a_bad_key_is_one_error_line()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        await PushedSummarizerAsync(appId);

        var result = await cli.RunAsync(token: null, "run", appId, "--key", $"mak.{appId}.nokey.nosecret", "--input", Input);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("error: ", Assert.Single(result.ErrorLines));
    }
}
