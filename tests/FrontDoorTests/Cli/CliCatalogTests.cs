using System.Text.Json;
using System.Text.RegularExpressions;

namespace MicroApps.Orleans.FrontDoorTests.Cli;

/// <summary>
/// The CLI on the catalog: <c>new</c> from a template (a skeleton <c>validate</c> accepts once its REQUIRED values are
/// filled in) and <c>catalog</c> listing and searching.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class CliCatalogTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture), IDisposable
{

    private readonly CliHarness cli = new(fixture);

    public void Dispose() => cli.Dispose();

    private Task<CliResult> AuthorAsync(params string[] args) => cli.RunAsync(FrontDoorFixture.AuthorToken, args);

    private async Task<string> NewSkeletonAsync(string appId, string template = "summarizer", params string[] extra)
    {
        var file = cli.PathOf(appId + ".yaml");
        var made = await AuthorAsync(["new", "--template", template, "--app-id", appId, "--out", file, .. extra]);
        Assert.True(made.ExitCode == 0, made.ToString());
        return file;
    }

    [Fact]
    public async Task New_writes_a_summarizer_manifest_that_validate_accepts_once_the_team_is_filled_in()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        var file = await NewSkeletonAsync(appId);
        var skeleton = await File.ReadAllTextAsync(file);
        Assert.Contains("template: summarizer@1.0.0", skeleton);
        Assert.Contains($"appId: {appId}", skeleton);
        Assert.Matches("(?m)^team: \"\" +# REQUIRED", skeleton);
        Assert.Matches("(?m)^  # instructions: \".+\" +# default$", skeleton);

        var invalid = await AuthorAsync("validate", file);
        Assert.Equal(1, invalid.ExitCode);
        Assert.Equal("team: Required.", Assert.Single(invalid.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

        await File.WriteAllTextAsync(file, Regex.Replace(skeleton, "^team: .*$", "team: \"finance\"", RegexOptions.Multiline));
        var valid = await AuthorAsync("validate", file);
        Assert.True(valid.ExitCode == 0, valid.ToString());
        Assert.Equal("valid", valid.Output.Trim());
    }

    [Fact]
    public async Task New_marks_the_required_parameters_of_a_template_and_validate_names_them()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        var file = await NewSkeletonAsync(appId, "approvals-bot", "--team", "finance");
        var skeleton = await File.ReadAllTextAsync(file);
        Assert.Matches("(?m)^  # instructions \\(text.*\\) REQUIRED: ", skeleton);
        Assert.Matches("(?m)^  approvers: \\[\\]$", skeleton);

        var invalid = await AuthorAsync("validate", file);

        Assert.Equal(1, invalid.ExitCode);
        var lines = invalid.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("parameters.instructions: ", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("parameters.approvers: ", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.StartsWith("team", StringComparison.Ordinal));
    }

    [Fact]
    public async Task New_with_out_dash_prints_the_skeleton_instead_of_writing_a_file()
    {
        var result = await AuthorAsync("new", "--template", "chat-assistant", "--app-id", "help-desk", "--team", "support", "--out", "-");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("# MicroApps manifest of 'help-desk'", result.Output);
        Assert.Contains("template: chat-assistant@1.0.0", result.Output);
        Assert.Contains("team: \"support\"", result.Output);
        Assert.Matches("(?m)^  systemPrompt: \"\"$", result.Output);
        Assert.False(File.Exists("help-desk.yaml"));
    }

    [Fact]
    public async Task New_with_an_unknown_template_is_one_error_line()
    {
        var result = await AuthorAsync("new", "--template", "no-such-template", "--app-id", "whatever-app", "--out", cli.PathOf("x.yaml"));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("no-such-template", Assert.Single(result.ErrorLines));
        Assert.False(File.Exists(cli.PathOf("x.yaml")));
    }

    [Fact]
    public async Task Catalog_lists_the_templates_and_search_narrows_them()
    {
        var all = await cli.RunAsync(FrontDoorFixture.ViewerToken, "catalog", "--kind", "template");
        Assert.True(all.ExitCode == 0, all.ToString());
        Assert.Contains("summarizer@1.0.0", all.Output);
        Assert.Contains("chat-assistant@1.0.0", all.Output);
        Assert.Contains("approvals-bot@1.0.0", all.Output);
        Assert.DoesNotContain("http-json", all.Output);

        var search = await cli.RunAsync(FrontDoorFixture.ViewerToken, "catalog", "search", "summar");
        Assert.True(search.ExitCode == 0, search.ToString());
        Assert.Contains("summarizer@1.0.0", search.Output);
        Assert.DoesNotContain("approvals-bot", search.Output);
    }
}
