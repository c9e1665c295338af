using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Json.Schema;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Client.Admin;

namespace MicroApps.Orleans.UnitTests.Manifests;

/// <summary>The published manifest schema (docs/schemas/microapp-manifest.schema.json) against the meta-schema, the examples and the body it describes.</summary>
public sealed class ManifestSchemaTests
{
    private static readonly string RepoRoot = FindRepoRoot();

    private static string SchemaPath => Path.Combine(RepoRoot, "docs", "schemas", "microapp-manifest.schema.json");

    private static readonly Lazy<JsonSchema> Schema = new(() =>
        JsonSchema.Build(JsonDocument.Parse(File.ReadAllText(SchemaPath)).RootElement.Clone(), new BuildOptions { SchemaRegistry = new SchemaRegistry() }));

    private static IReadOnlyList<string> ExampleFiles() =>
        [.. Directory.GetFiles(Path.Combine(FindRepoRoot(), "docs", "examples"), "*.yaml").Select(f => Path.GetFileName(f)).Order(StringComparer.Ordinal)];

    public static TheoryData<string> Examples => new(ExampleFiles());

    [Fact]
    public void The_schema_is_valid_draft_2020_12()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(SchemaPath));

        var meta = MetaSchemas.Draft202012.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });

        Assert.True(meta.IsValid, Problems(meta));
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", document.RootElement.GetProperty("$schema").GetString());
    }

    [Fact]
    public void The_served_schema_is_the_checked_in_file()
    {
        Assert.Equal(File.ReadAllText(SchemaPath), ManifestEndpoints.Schema);
    }

    [Fact]
    public void There_is_an_example_for_each_built_in_template()
    {
        var templates = ExampleFiles()
            .Select(file => ManifestYaml.ToJson(File.ReadAllText(Path.Combine(RepoRoot, "docs", "examples", file))).Json!["template"]!.GetValue<string>())
            .ToList();

        Assert.Contains("chat-assistant@1.0.0", templates);
        Assert.Contains("summarizer@1.0.0", templates);
        Assert.Contains("approvals-bot@1.0.0", templates);
    }

    [Theory]
    [MemberData(nameof(Examples))]
    public void Every_example_manifest_matches_the_schema(string file)
    {
        var converted = ManifestYaml.ToJson(File.ReadAllText(Path.Combine(RepoRoot, "docs", "examples", file)));
        Assert.True(converted.Ok, converted.Error);

        var results = Evaluate(converted.Json);

        Assert.True(results.IsValid, $"{file}: {Problems(results)}");
    }

    [Theory]
    [InlineData("colour", "\"blue\"")]
    [InlineData("template", "\"summarizer\"")]
    [InlineData("template", "\"Summarizer@1.0\"")]
    [InlineData("audience", "\"everyone\"")]
    [InlineData("limits", "{\"maxTokens\": 0}")]
    [InlineData("limits", "{\"maxTokens\": 100, \"maxCalls\": 3}")]
    [InlineData("components", "[\"brand-voice\"]")]
    [InlineData("parameters", "{\"approvers\": [[\"nested\"]]}")]
    [InlineData("parameters", "{\"bad name\": \"x\"}")]
    [InlineData("connectors", "[{\"name\": \"api\", \"host\": \"a.example.com\", \"use\": \"http-json\"}]")]
    [InlineData("connectors", "[{\"name\": \"api\"}]")]
    [InlineData("quotas", "{\"requestsPerMinute\": -1}")]
    [InlineData("appId", "\"Not_Valid\"")]
    public void A_broken_manifest_is_rejected(string field, string value)
    {
        var manifest = ManifestYaml.ToJson(File.ReadAllText(Path.Combine(RepoRoot, "docs", "examples", "summarizer.yaml"))).Json!.AsObject();
        Assert.True(Evaluate(manifest).IsValid, "the unbroken example must be valid for this test to mean anything");

        manifest[field] = JsonNode.Parse(value);

        Assert.False(Evaluate(manifest).IsValid, $"{field}: {value} should be refused");
    }

    [Fact]
    public void Every_body_field_is_in_the_schema_and_every_schema_field_is_in_the_body()
    {
        var properties = JsonDocument.Parse(File.ReadAllText(SchemaPath)).RootElement.GetProperty("properties")
            .EnumerateObject().Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        var fields = ManifestDocument.FieldNames(typeof(CreateAppBody));

        Assert.Empty(fields.Except(properties));
        Assert.Empty(properties.Except(fields));
        Assert.Contains("template", fields);
    }

    [Fact]
    public void Nested_body_records_match_their_schema_objects()
    {
        var root = JsonDocument.Parse(File.ReadAllText(SchemaPath)).RootElement.GetProperty("properties");
        var pairs = new (Type Body, JsonElement Schema)[]
        {
            (typeof(QuotasBody), root.GetProperty("quotas")),
            (typeof(BudgetBody), root.GetProperty("budget")),
            (typeof(LimitsBody), root.GetProperty("limits")),
            (typeof(SavingsBody), root.GetProperty("savings")),
            (typeof(ConnectorBody), root.GetProperty("connectors").GetProperty("items")),
            (typeof(RegressionTestBody), root.GetProperty("tests").GetProperty("items")),
            (typeof(AssertionBody), root.GetProperty("tests").GetProperty("items").GetProperty("properties").GetProperty("assertions").GetProperty("items")),
            (typeof(PromptPinBody), root.GetProperty("prompts").GetProperty("items")),
        };

        foreach (var (body, schema) in pairs)
        {
            var names = schema.GetProperty("properties").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal);
            Assert.Equal(ManifestDocument.FieldNames(body).Order(StringComparer.Ordinal), names);
        }
    }

    [Fact]
    public void A_serialised_app_manifest_is_a_valid_document()
    {
        var manifest = new AppManifest(
            "Notes", "author-alice", "pmo", Audience.Internal, ["email"], ["standard", "local"], "standard", new AppQuotas(30, 1000), "", "v1",
            [new PromptPin("brand/voice", 2)],
            [new RegressionTestCase("t1", "hello", [new RegressionAssertion("max_tokens", "100")])],
            [new ConnectorRef("notes-api", "notes.example.com", [], new CatalogRef("http-json", "1.0.0"), new Dictionary<string, string> { ["baseUrl"] = "https://notes.example.com/" })],
            ["notes.example.com"], 1000, 0.1, null,
            new CatalogRef("summarizer", "1.0.0"),
            new Dictionary<string, string> { ["chunkTokens"] = "1500", ["source"] = "notes-api" },
            [new CatalogRef("brand-voice", "1.0.0")],
            new AppLineage("origin-app", 2, [new LineageStep(BuiltIns.Forked, "origin-app", 2, "sha256:abc", "admin", DateTimeOffset.UnixEpoch)]),
            new RunLimits(1000, 3, 30));
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));

        var document = ManifestDocument.Document("notes-app", manifest, options);
        var results = Evaluate(document);

        Assert.True(results.IsValid, Problems(results) + "\n" + document);
        Assert.Equal("summarizer@1.0.0", document["template"]!.GetValue<string>());
        Assert.Equal("notes-app", document.First().Value!.GetValue<string>());
    }

    private static EvaluationResults Evaluate(JsonNode? json)
    {
        using var document = JsonDocument.Parse(json?.ToJsonString() ?? "null");
        return Schema.Value.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
    }

    private static string Problems(EvaluationResults results) =>
        string.Join("; ", (results.Details ?? [])
            .Where(d => d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => $"{d.InstanceLocation}: {e.Value}"))
            .Take(10));

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "docs", "schemas", "microapp-manifest.schema.json")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("The repository root (with docs/schemas) was not found above " + AppContext.BaseDirectory);
    }
}
