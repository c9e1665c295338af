using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MicroApps.Orleans.FrontDoorTests.Manifests;

/// <summary>
/// Manifest documents through the front door: create from YAML and JSON, validation errors naming the field (the same
/// for create and validate, YAML and JSON), the schema, and reading a manifest back as a document that creates the same app.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class ManifestEndpointsTests(FrontDoorFixture fixture)
{
    private const string Json = "application/json";
    private const string Yaml = "application/yaml";

    /// <summary>A valid summarizer app reading through an http-json connector; tests break one thing at a time.</summary>
    private static string SummarizerYaml(string appId) => $"""
        appId: {appId}
        name: Notes summary
        team: manifest-tests
        audience: internal
        allowedTiers: [standard, local]
        template: summarizer@1.0.0
        parameters:
          instructions: Summarise in three bullets.
          tier: local
          chunkTokens: 1500
          source: notes-api
        connectors:
          - name: notes-api
            host: notes.example.com
            dataClasses: []
            use: http-json@1.0.0
            settings:
              baseUrl: https://notes.example.com/api/
              timeoutSeconds: 5
        egressAllowlist: [notes.example.com]
        limits:
          maxTokens: 20000
        """;

    private static JsonObject SummarizerJson(string appId) => (JsonObject)JsonNode.Parse(ToJson(SummarizerYaml(appId)))!;

    [Fact]
    public async Task An_app_is_created_from_yaml_with_its_template_parameters_connectors_and_limits()
    {
        var appId = FrontDoorFixture.NewAppId("mf-yaml");

        var (status, body) = await SendAsync(HttpMethod.Post, "admin/apps", SummarizerYaml(appId), Yaml);

        Assert.True(status == HttpStatusCode.Created, body.ToString());
        var (_, view) = await SendAsync(HttpMethod.Get, $"admin/apps/{appId}", null, null);
        Assert.Equal("summarizer@1.0.0", view.GetProperty("template").GetString());
        Assert.Equal("1500", view.GetProperty("parameters").GetProperty("chunkTokens").GetString());
        Assert.Equal("local", view.GetProperty("parameters").GetProperty("tier").GetString());
        var connector = view.GetProperty("connectors")[0];
        Assert.Equal("http-json@1.0.0", connector.GetProperty("use").GetString());
        Assert.Equal("5", connector.GetProperty("settings").GetProperty("timeoutSeconds").GetString());
        Assert.Equal("https://notes.example.com/api/", connector.GetProperty("settings").GetProperty("baseUrl").GetString());

        // Limits the manifest leaves out are the template's defaults (summarizer: 24 steps, 180 s).
        var limits = view.GetProperty("limits");
        Assert.Equal(20000, limits.GetProperty("maxTokens").GetInt32());
        Assert.Equal(24, limits.GetProperty("maxSteps").GetInt32());
        Assert.Equal(180, limits.GetProperty("maxSeconds").GetInt32());
        Assert.Equal(0, view.GetProperty("components").GetArrayLength());
    }

    [Fact]
    public async Task An_app_is_created_from_json_with_list_number_and_bool_values_stored_as_strings()
    {
        var appId = FrontDoorFixture.NewAppId("mf-json");
        var document = new JsonObject
        {
            ["appId"] = appId,
            ["name"] = "Purchase approvals",
            ["team"] = "manifest-tests",
            ["allowedTiers"] = new JsonArray("standard"),
            ["template"] = "approvals-bot@1.0.0",
            ["parameters"] = new JsonObject
            {
                ["instructions"] = "Approve under 500 USD.",
                ["approvers"] = new JsonArray("approver-carol", "admin"),
                ["decisionTimeout"] = "36h",
            },
            ["limits"] = new JsonObject { ["maxTokens"] = 5000, ["maxSteps"] = 3, ["maxSeconds"] = 30 },
        };

        var (status, body) = await SendAsync(HttpMethod.Post, "admin/apps", document.ToJsonString(), Json);

        Assert.True(status == HttpStatusCode.Created, body.ToString());
        Assert.Equal("approvals-bot@1.0.0", body.GetProperty("template").GetString());
        Assert.Equal("approver-carol\nadmin", body.GetProperty("parameters").GetProperty("approvers").GetString());
        Assert.Equal(3, body.GetProperty("limits").GetProperty("maxSteps").GetInt32());

        var chatId = FrontDoorFixture.NewAppId("mf-json");
        var chat = new JsonObject
        {
            ["appId"] = chatId, ["name"] = "Chat", ["team"] = "manifest-tests", ["allowedTiers"] = new JsonArray("standard"),
            ["template"] = "chat-assistant@1.0.0",
            ["parameters"] = new JsonObject { ["systemPrompt"] = "Be brief.", ["maxOutputTokens"] = 256, ["maxHistoryTokens"] = 1000.0 },
        };
        var (chatStatus, chatBody) = await SendAsync(HttpMethod.Post, "admin/apps", chat.ToJsonString(), Json);

        Assert.True(chatStatus == HttpStatusCode.Created, chatBody.ToString());
        Assert.Equal("256", chatBody.GetProperty("parameters").GetProperty("maxOutputTokens").GetString());
    }

    public static TheoryData<string, string, string, string> BrokenManifests => new()
    {
        // name, YAML to replace in (find → replace), the field the error names, a word the message holds
        { "unknown template", "template: summarizer@1.0.0|template: summariser@1.0.0", "template", "summariser" },
        { "template version that does not exist", "template: summarizer@1.0.0|template: summarizer@9.0.0", "template", "summarizer@1.0.0" },
        { "a connector named as template", "template: summarizer@1.0.0|template: http-json@1.0.0", "template", "connector" },
        { "template reference without a version", "template: summarizer@1.0.0|template: summarizer", "template", "name@major.minor.patch" },
        { "parameter of the wrong type", "chunkTokens: 1500|chunkTokens: lots", "parameters.chunkTokens", "whole number" },
        { "parameter out of range", "chunkTokens: 1500|chunkTokens: 10", "parameters.chunkTokens", "100" },
        { "parameter the template does not take", "chunkTokens: 1500|chunkSize: 1500", "parameters.chunkSize", "Unknown parameter" },
        { "tier the app may not use", "tier: local|tier: premium", "parameters.tier", "allowed tiers" },
        { "parameter as a nested map", "chunkTokens: 1500|chunkTokens: {size: 1}", "parameters.chunkTokens", "string, number" },
        { "source that is not a connector of the app", "source: notes-api|source: wiki-api", "parameters.source", "notes-api" },
        { "unknown component", "limits:|components: [brand-voice@1.0.0]\nlimits:", "components[0]", "brand-voice" },
        { "template used as a component", "limits:|components: [summarizer@1.0.0]\nlimits:", "components[0]", "template" },
        { "connector use that is a template", "use: http-json@1.0.0|use: summarizer@1.0.0", "connectors[0].use", "not a catalog connector" },
        { "connector use not in the catalog", "use: http-json@1.0.0|use: ftp@1.0.0", "connectors[0].use", "ftp" },
        { "connector setting out of range", "timeoutSeconds: 5|timeoutSeconds: 999", "connectors[0].settings.timeoutSeconds", "60" },
        { "connector setting it does not take", "timeoutSeconds: 5|retries: 5", "connectors[0].settings.retries", "Unknown parameter" },
        { "connector URL on another host", "baseUrl: https://notes.example.com/api/|baseUrl: https://evil.example.net/api/", "connectors[0].settings.baseUrl", "notes.example.com" },
        { "connector host outside the egress allowlist", "egressAllowlist: [notes.example.com]|egressAllowlist: [other.example.com]", "connectors[0].host", "egressAllowlist" },
        { "settings without use", "    use: http-json@1.0.0\n|", "connectors[0].use", "Settings need a catalog connector" },
        { "two connectors with one name", "egressAllowlist:|  - name: notes-api\n    host: notes.example.com\n    use: webhook@1.0.0\n    settings: {url: https://notes.example.com/hook}\negressAllowlist:", "connectors[1].name", "notes-api" },
        { "limits over the platform cap", "maxTokens: 20000|maxTokens: 250000", "limits.maxTokens", "200000" },
        { "limits not positive", "maxTokens: 20000|maxTokens: 20000\n  maxSteps: 0", "limits.maxSteps", "positive" },
        { "steps over the cap", "maxTokens: 20000|maxTokens: 20000\n  maxSeconds: 301", "limits.maxSeconds", "300" },
        { "unknown top-level field", "audience: internal|audience: internal\ncolour: blue", "colour", "Unknown field" },
        { "unknown nested field", "maxTokens: 20000|maxTokens: 20000\n  maxCalls: 3", "limits.maxCalls", "Unknown field" },
        { "a list item that is a map", "allowedTiers: [standard, local]|allowedTiers: [standard, {a: b}]", "allowedTiers[1]", "wrong type" },
    };

    [Theory]
    [MemberData(nameof(BrokenManifests))]
    public async Task A_broken_manifest_is_refused_naming_the_field_identically_by_create_and_validate_in_yaml_and_json(
        string what, string edit, string field, string word)
    {
        var appId = FrontDoorFixture.NewAppId("mf-bad");
        var (find, replace) = (edit.Split('|')[0], edit.Split('|')[1]);
        var original = SummarizerYaml(appId);
        Assert.Contains(find, original);
        var yaml = original.Replace(find, replace, StringComparison.Ordinal);

        var (createStatus, created) = await SendAsync(HttpMethod.Post, "admin/apps", yaml, Yaml);
        var (validateStatus, validated) = await SendAsync(HttpMethod.Post, "admin/manifests/validate", yaml, Yaml);
        var (jsonStatus, fromJson) = await SendAsync(HttpMethod.Post, "admin/manifests/validate", ToJson(yaml), Json);

        Assert.True(createStatus == HttpStatusCode.BadRequest, $"{what}: {(int)createStatus} {created}");
        var errors = created.GetProperty("errors");
        Assert.True(errors.TryGetProperty(field, out var messages), $"{what}: expected an error for '{field}', got {errors}");
        Assert.Contains(word, string.Join(" ", messages.EnumerateArray().Select(m => m.GetString())), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, validateStatus);
        Assert.Equal(errors.ToString(), validated.GetProperty("errors").ToString());
        Assert.Equal(HttpStatusCode.BadRequest, jsonStatus);
        Assert.Equal(errors.ToString(), fromJson.GetProperty("errors").ToString());

        var (getStatus, _) = await SendAsync(HttpMethod.Get, $"admin/apps/{appId}", null, null);
        Assert.Equal(HttpStatusCode.NotFound, getStatus);
    }

    [Fact]
    public async Task A_missing_required_parameter_is_named()
    {
        var appId = FrontDoorFixture.NewAppId("mf-req");
        var yaml = $"""
            appId: {appId}
            name: Approvals without approvers
            team: manifest-tests
            allowedTiers: [standard]
            template: approvals-bot@1.0.0
            parameters:
              instructions: Approve cheap things.
            """;

        var (status, body) = await SendAsync(HttpMethod.Post, "admin/apps", yaml, Yaml);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = body.GetProperty("errors").GetProperty("parameters.approvers")[0].GetString();
        Assert.StartsWith("Required", message);
    }

    [Fact]
    public async Task A_yaml_syntax_error_is_a_400_naming_line_and_column()
    {
        var yaml = "appId: mf-syntax\nname: Broken\nteam: [a, b\nallowedTiers: [standard]\n";

        var (status, body) = await SendAsync(HttpMethod.Post, "admin/apps", yaml, "application/x-yaml");
        var (validateStatus, validated) = await SendAsync(HttpMethod.Post, "admin/manifests/validate", yaml, "text/yaml");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        var message = body.GetProperty("errors").GetProperty("body")[0].GetString()!;
        Assert.Matches(@"^Line 3, column \d+: YAML syntax error", message);
        Assert.Equal(HttpStatusCode.BadRequest, validateStatus);
        Assert.Equal(message, validated.GetProperty("errors").GetProperty("body")[0].GetString());
    }

    [Fact]
    public async Task Validate_returns_the_normalised_manifest_with_template_defaults_and_creates_nothing()
    {
        var appId = FrontDoorFixture.NewAppId("mf-val");
        var yaml = $"""
            appId: {appId}
            name: Minimal summarizer
            team: manifest-tests
            allowedTiers: [standard]
            template: summarizer@1.0.0
            """;

        var (status, body) = await SendAsync(HttpMethod.Post, "admin/manifests/validate", yaml, Yaml, FrontDoorFixture.AuthorToken);

        Assert.True(status == HttpStatusCode.OK, body.ToString());
        Assert.True(body.GetProperty("valid").GetBoolean());
        var manifest = body.GetProperty("manifest");
        Assert.Equal(appId, manifest.GetProperty("appId").GetString());
        Assert.Equal(FrontDoorFixture.AuthorName, manifest.GetProperty("owner").GetString());
        Assert.Equal("1500", manifest.GetProperty("parameters").GetProperty("chunkTokens").GetString());
        Assert.Equal("standard", manifest.GetProperty("parameters").GetProperty("tier").GetString());
        Assert.Equal(40000, manifest.GetProperty("limits").GetProperty("maxTokens").GetInt32());

        var (getStatus, _) = await SendAsync(HttpMethod.Get, $"admin/apps/{appId}", null, null);
        Assert.Equal(HttpStatusCode.NotFound, getStatus);
    }

    [Fact]
    public async Task Every_example_manifest_in_the_docs_validates()
    {
        var files = Directory.GetFiles(Path.Combine(RepoRoot(), "docs", "examples"), "*.yaml");
        Assert.True(files.Length >= 3, "an example per built-in template");

        foreach (var file in files)
        {
            var (status, body) = await SendAsync(HttpMethod.Post, "admin/manifests/validate", await File.ReadAllTextAsync(file), Yaml);
            Assert.True(status == HttpStatusCode.OK, $"{Path.GetFileName(file)}: {(int)status} {body}");
        }
    }

    [Fact]
    public async Task A_manifest_read_back_as_yaml_creates_the_same_app_and_as_json_adds_the_same_version()
    {
        var appId = FrontDoorFixture.NewAppId("mf-rt");
        var source = SummarizerJson(appId);
        source["parameters"]!["instructions"] = "Summarise in three bullets:\n- decisions\n- owners\n- dates";
        source["tests"] = JsonNode.Parse("""[{"name": "t1", "input": "hello", "assertions": [{"kind": "max_tokens", "value": 100}]}]""");
        var (created, createdBody) = await SendAsync(HttpMethod.Post, "admin/apps", source.ToJsonString(), Json);
        Assert.True(created == HttpStatusCode.Created, createdBody.ToString());

        var yaml = await GetTextAsync($"admin/apps/{appId}/manifest?format=yaml", "application/yaml");
        var json = await GetTextAsync($"admin/apps/{appId}/manifest", "application/json");
        Assert.StartsWith($"appId: {appId}\n", yaml);
        Assert.Contains("instructions: |", yaml);

        var copyId = FrontDoorFixture.NewAppId("mf-rt");
        var (copied, copiedBody) = await SendAsync(HttpMethod.Post, "admin/apps", yaml.Replace($"appId: {appId}", $"appId: {copyId}"), Yaml);
        Assert.True(copied == HttpStatusCode.Created, copiedBody.ToString());

        var copyJson = JsonNode.Parse(await GetTextAsync($"admin/apps/{copyId}/manifest?format=json", "application/json"))!.AsObject();
        var originalJson = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(copyId, copyJson["appId"]!.GetValue<string>());
        copyJson["appId"] = appId;
        Assert.True(JsonNode.DeepEquals(originalJson, copyJson), $"original:\n{originalJson}\ncopy:\n{copyJson}");
        Assert.Equal("100", originalJson["tests"]![0]!["assertions"]![0]!["value"]!.GetValue<string>());

        // The JSON document, posted as a new version of the same app, describes the same manifest.
        var (version, versionBody) = await SendAsync(HttpMethod.Post, $"admin/apps/{appId}/versions", json, Json);
        Assert.True(version == HttpStatusCode.Created, versionBody.ToString());
        var v2 = JsonNode.Parse(await GetTextAsync($"admin/apps/{appId}/manifest?version=2", "application/json"))!;
        Assert.True(JsonNode.DeepEquals(originalJson, v2), $"version 1:\n{originalJson}\nversion 2:\n{v2}");
    }

    [Fact]
    public async Task Reading_a_manifest_names_a_bad_format_a_missing_version_and_a_missing_app()
    {
        var appId = FrontDoorFixture.NewAppId("mf-get");
        var (created, body) = await SendAsync(HttpMethod.Post, "admin/apps", SummarizerYaml(appId), Yaml);
        Assert.True(created == HttpStatusCode.Created, body.ToString());

        var (format, formatBody) = await SendAsync(HttpMethod.Get, $"admin/apps/{appId}/manifest?format=xml", null, null);
        var (missingVersion, _) = await SendAsync(HttpMethod.Get, $"admin/apps/{appId}/manifest?version=7", null, null);
        var (missingApp, _) = await SendAsync(HttpMethod.Get, $"admin/apps/{FrontDoorFixture.NewAppId("mf-none")}/manifest", null, null);

        Assert.Equal(HttpStatusCode.BadRequest, format);
        Assert.True(formatBody.GetProperty("errors").TryGetProperty("format", out _));
        Assert.Equal(HttpStatusCode.NotFound, missingVersion);
        Assert.Equal(HttpStatusCode.NotFound, missingApp);
    }

    [Fact]
    public async Task A_new_version_in_yaml_changes_only_what_it_names()
    {
        var appId = FrontDoorFixture.NewAppId("mf-ver");
        var (created, body) = await SendAsync(HttpMethod.Post, "admin/apps", SummarizerYaml(appId), Yaml);
        Assert.True(created == HttpStatusCode.Created, body.ToString());

        var (version, versionBody) = await SendAsync(HttpMethod.Post, $"admin/apps/{appId}/versions", "parameters:\n  chunkTokens: 2000\n  source: notes-api\n", Yaml);
        var (badVersion, badBody) = await SendAsync(HttpMethod.Post, $"admin/apps/{appId}/versions", "limits:\n  maxSteps: 51\n", Yaml);

        Assert.True(version == HttpStatusCode.Created, versionBody.ToString());
        var manifest = versionBody.GetProperty("manifest");
        Assert.Equal("2000", manifest.GetProperty("parameters").GetProperty("chunkTokens").GetString());
        Assert.False(manifest.GetProperty("parameters").TryGetProperty("instructions", out _), "parameters are replaced as a whole, like every other field a version names");
        Assert.Equal("summarizer@1.0.0", manifest.GetProperty("template").GetString());
        Assert.Equal(HttpStatusCode.BadRequest, badVersion);
        Assert.True(badBody.GetProperty("errors").TryGetProperty("limits.maxSteps", out _), badBody.ToString());
    }

    [Fact]
    public async Task The_schema_is_served_to_everyone_as_json_schema()
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, "admin/manifests/schema", token: FrontDoorFixture.ViewerToken);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/schema+json", response.Content.Headers.ContentType?.MediaType);
        using var schema = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema.RootElement.GetProperty("$schema").GetString());
        Assert.True(schema.RootElement.GetProperty("properties").TryGetProperty("template", out _));
    }

    [Fact]
    public async Task A_lineage_the_app_does_not_have_is_refused()
    {
        var document = SummarizerJson(FrontDoorFixture.NewAppId("mf-lin"));
        document["lineage"] = JsonNode.Parse("""{"canonicalAppId": "someone-else", "canonicalVersion": 1, "steps": []}""");

        var (status, body) = await SendAsync(HttpMethod.Post, "admin/apps", document.ToJsonString(), Json);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.True(body.GetProperty("errors").TryGetProperty("lineage", out _), body.ToString());
    }

    private async Task<(HttpStatusCode Status, JsonElement Body)> SendAsync(HttpMethod method, string path, string? body, string? contentType, string token = FrontDoorFixture.AdminToken)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue(contentType!);
        }

        using var response = await fixture.Http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        using var document = JsonDocument.Parse(text.Length == 0 ? "null" : text);
        return (response.StatusCode, document.RootElement.Clone());
    }

    private async Task<string> GetTextAsync(string path, string mediaType)
    {
        using var response = await fixture.AdminAsync(HttpMethod.Get, path);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{path}: {(int)response.StatusCode} {text}");
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        return text;
    }

    private static string ToJson(string yaml)
    {
        var converted = Client.Admin.ManifestYaml.ToJson(yaml);
        Assert.True(converted.Ok, converted.Error);
        return converted.Json!.ToJsonString();
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (Directory.Exists(Path.Combine(dir.FullName, "docs", "examples")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with docs/examples) was not found above " + AppContext.BaseDirectory);
    }
}
