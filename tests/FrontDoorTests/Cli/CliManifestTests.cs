namespace MicroApps.Orleans.FrontDoorTests.Cli;

/// <summary><c>validate</c> and <c>push</c> of YAML manifests made from a catalog template.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class CliManifestTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture), IDisposable
{
    private readonly CliHarness cli = new(fixture);

    public void Dispose() => cli.Dispose();

    private Task<CliResult> AuthorAsync(params string[] args) => cli.RunAsync(FrontDoorFixture.AuthorToken, args);

    private static string Yaml(string appId, string name = "Invoice notes", string team = "finance", string chunkTokens = "1500", string defaultTier = "local") => $"""
        # A summarizer on the built-in local model.
        appId: {appId}
        name: "{name}"
        team: "{team}"
        audience: internal
        dataClasses: []
        allowedTiers: [local]
        defaultTier: {defaultTier}
        quotas:
          requestsPerMinute: 30
          tokensPerDay: 100000
        budget:
          limitUsd: 3
          period: day
        template: summarizer@1.0.0
        parameters:
          tier: local
          chunkTokens: {chunkTokens}
        tests:
          - name: keeps-invoices
            input: "The invoice backlog grew in March."
            assertions:
              - {"{"}kind: contains, value: invoice{"}"}

        """;

    private string Write(string file, string text)
    {
        var path = cli.PathOf(file);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Validate_prints_one_line_per_error_then_valid_once_they_are_fixed()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        var file = Write("app.yaml", Yaml(appId, team: "", defaultTier: "premium"));

        var invalid = await AuthorAsync("validate", file);

        Assert.Equal(1, invalid.ExitCode);
        var lines = invalid.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(2, lines.Length);
        Assert.Contains("team: Required.", lines);
        Assert.Contains("defaultTier: 'premium' is not one of allowedTiers.", lines);
        Assert.Empty(invalid.Errors);

        // The template's parameters are checked against the catalog once the app's own fields are right.
        Write("app.yaml", Yaml(appId, chunkTokens: "5"));
        var badParameter = await AuthorAsync("validate", file);
        Assert.Equal(1, badParameter.ExitCode);
        Assert.StartsWith("parameters.chunkTokens: ", badParameter.Output.Trim());
        Assert.Single(badParameter.Output.Trim().Split('\n'));

        Write("app.yaml", Yaml(appId));
        var valid = await AuthorAsync("validate", file);

        Assert.True(valid.ExitCode == 0, valid.ToString());
        Assert.Equal("valid", valid.Output.Trim());
    }

    [Fact]
    public async Task Validate_with_json_prints_the_normalised_manifest()
    {
        var appId = FrontDoorFixture.NewAppId("cli");

        var result = await AuthorAsync("validate", Write("app.yaml", Yaml(appId)), "--json");

        Assert.True(result.ExitCode == 0, result.ToString());
        var answer = result.Json();
        Assert.True(answer.GetProperty("valid").GetBoolean());
        Assert.Equal("summarizer@1.0.0", answer.GetProperty("manifest").GetProperty("template").GetString());
    }

    [Fact]
    public async Task Push_of_yaml_creates_a_draft_and_a_changed_file_becomes_the_next_version()
    {
        var appId = FrontDoorFixture.NewAppId("cli");
        var file = Write("app.yaml", Yaml(appId));

        var created = await AuthorAsync("push", file);
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Contains($"created {appId}", created.Output);

        // The file still holds the app's budget, which a version does not take: push leaves it out of the version.
        Write("app.yaml", Yaml(appId, name: "Invoice notes, shorter"));
        var added = await AuthorAsync("push", file);
        Assert.True(added.ExitCode == 0, added.ToString());
        Assert.Contains($"added version 2 of {appId}", added.Output);

        var manifest = await Fixture.AdminAsync(HttpMethod.Get, $"admin/apps/{appId}/manifest?version=2");
        var body = await manifest.Content.ReadAsStringAsync();
        Assert.True(manifest.IsSuccessStatusCode, body);
        Assert.Contains("Invoice notes, shorter", body);
        Assert.Contains("summarizer@1.0.0", body);
    }
}
