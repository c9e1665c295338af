using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests.Cli;

/// <summary><c>pack export</c> → <c>pack import</c> → <c>pack fork</c> through the CLI keeps the lineage to the canonical source.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class CliPackTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture), IDisposable
{
    private readonly CliHarness cli = new(fixture);

    public void Dispose() => cli.Dispose();

    private Task<CliResult> AuthorAsync(params string[] args) => cli.RunAsync(FrontDoorFixture.AuthorToken, args);

    private async Task PushSourceAsync(string appId)
    {
        var file = cli.PathOf(appId + ".yaml");
        await File.WriteAllTextAsync(file, $"""
            appId: {appId}
            name: "Pack source"
            team: "finance"
            audience: internal
            allowedTiers: [local]
            defaultTier: local
            template: summarizer@1.0.0
            parameters:
              tier: local
            tests:
              - name: keeps-invoices
                input: "The invoice backlog grew in March."
                assertions:
                  - {"{"}kind: contains, value: invoice{"}"}

            """);
        var pushed = await AuthorAsync("push", file);
        Assert.True(pushed.ExitCode == 0, pushed.ToString());
    }

    [Fact]
    public async Task Pack_export_import_and_fork_keep_the_lineage()
    {
        var source = FrontDoorFixture.NewAppId("cli");
        await PushSourceAsync(source);
        var packFile = cli.PathOf("source.pack.json");

        var exported = await AuthorAsync("pack", "export", source, "--out", packFile);
        Assert.True(exported.ExitCode == 0, exported.ToString());
        Assert.Contains($"wrote {packFile}", exported.Output);
        using (var pack = JsonDocument.Parse(await File.ReadAllTextAsync(packFile)))
        {
            Assert.Equal("microapps.pack/v1", pack.RootElement.GetProperty("format").GetString());
            Assert.Equal("summarizer@1.0.0", pack.RootElement.GetProperty("manifest").GetProperty("template").GetString());
        }

        var again = await AuthorAsync("pack", "export", source, "--out", packFile);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("--force", Assert.Single(again.ErrorLines));

        var imported = FrontDoorFixture.NewAppId("cli");
        var import = await AuthorAsync("pack", "import", packFile, "--app-id", imported);
        Assert.True(import.ExitCode == 0, import.ToString());
        Assert.Contains($"imported as {imported}", import.Output);
        Assert.Contains($"canonical source {source} version 1", import.Output);

        var forked = FrontDoorFixture.NewAppId("cli");
        var fork = await AuthorAsync("pack", "fork", imported, "--app-id", forked, "--json");
        Assert.True(fork.ExitCode == 0, fork.ToString());
        var lineage = fork.Json().GetProperty("lineage");
        Assert.Equal(source, lineage.GetProperty("canonical").GetProperty("appId").GetString());
        Assert.Equal(1, lineage.GetProperty("canonical").GetProperty("version").GetInt32());
        Assert.Equal(2, lineage.GetProperty("steps").GetArrayLength());

        var status = await AuthorAsync("status", forked, "--json");
        Assert.Equal("draft", status.Json().GetProperty("state").GetString());
    }

    [Fact]
    public async Task Importing_a_file_that_is_not_a_pack_is_one_error_line()
    {
        var file = cli.PathOf("not-a-pack.json");
        await File.WriteAllTextAsync(file, "this is not JSON");

        var result = await AuthorAsync("pack", "import", file);

        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith($"error: {file} is not a pack", Assert.Single(result.ErrorLines));
    }

    [Fact]
    public async Task Importing_a_tampered_pack_names_the_problem()
    {
        var source = FrontDoorFixture.NewAppId("cli");
        await PushSourceAsync(source);
        var packFile = cli.PathOf("tampered.pack.json");
        Assert.Equal(0, (await AuthorAsync("pack", "export", source, "--out", packFile)).ExitCode);
        await File.WriteAllTextAsync(packFile, (await File.ReadAllTextAsync(packFile)).Replace("Pack source", "Pack source, changed", StringComparison.Ordinal));

        var result = await AuthorAsync("pack", "import", packFile, "--app-id", FrontDoorFixture.NewAppId("cli"));

        Assert.Equal(1, result.ExitCode);
        Assert.All(result.ErrorLines, l => Assert.StartsWith("error: ", l));
        Assert.Contains(result.ErrorLines, l => l.Contains("digest", StringComparison.OrdinalIgnoreCase));
    }
}
