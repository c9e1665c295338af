using System.Text.Json.Nodes;
using MicroApps.Orleans.Client.Admin;

namespace MicroApps.Orleans.UnitTests.Manifests;

public sealed class ManifestYamlTests
{
    [Fact]
    public void Plain_scalars_follow_the_core_schema_and_quoted_ones_stay_strings()
    {
        var converted = ManifestYaml.ToJson("""
            name: Notes
            count: 42
            negative: -7
            share: 0.25
            on: true
            off: False
            nothing: ~
            empty:
            quotedNumber: "42"
            singleQuotedBool: 'true'
            version: 1.0.0
            tagged: !!str 12
            """);

        Assert.True(converted.Ok, converted.Error);
        var json = converted.Json!.AsObject();
        Assert.Equal("Notes", json["name"]!.GetValue<string>());
        Assert.Equal(42, json["count"]!.GetValue<long>());
        Assert.Equal(-7, json["negative"]!.GetValue<long>());
        Assert.Equal(0.25m, json["share"]!.GetValue<decimal>());
        Assert.True(json["on"]!.GetValue<bool>());
        Assert.False(json["off"]!.GetValue<bool>());
        Assert.True(json.ContainsKey("nothing"));
        Assert.Null(json["nothing"]);
        Assert.Null(json["empty"]);
        Assert.Equal("42", json["quotedNumber"]!.GetValue<string>());
        Assert.Equal("true", json["singleQuotedBool"]!.GetValue<string>());
        Assert.Equal("1.0.0", json["version"]!.GetValue<string>());
        Assert.Equal("12", json["tagged"]!.GetValue<string>());
    }

    [Fact]
    public void Block_scalars_lists_and_nested_maps_become_json_strings_arrays_and_objects()
    {
        var converted = ManifestYaml.ToJson("""
            parameters:
              systemPrompt: |
                line one
                line two
              approvers: [alice, bob]
            connectors:
              - name: api
                settings:
                  timeoutSeconds: 10
            """);

        Assert.True(converted.Ok, converted.Error);
        var parameters = converted.Json!["parameters"]!.AsObject();
        Assert.Equal("line one\nline two\n", parameters["systemPrompt"]!.GetValue<string>());
        Assert.Equal(["alice", "bob"], parameters["approvers"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(10, converted.Json["connectors"]![0]!["settings"]!["timeoutSeconds"]!.GetValue<long>());
    }

    [Fact]
    public void A_syntax_error_names_its_line_and_column()
    {
        // The flow list opened on line 2 is never closed.
        var converted = ManifestYaml.ToJson("name: ok\nteam: [a, b\nowner: x\n");

        Assert.False(converted.Ok);
        Assert.StartsWith("YAML syntax error", converted.Error);
        Assert.Equal(2, converted.Line);
        Assert.True(converted.Column >= 1);
    }

    [Fact]
    public void A_bad_indentation_is_reported_on_the_line_it_happens()
    {
        var converted = ManifestYaml.ToJson("name: ok\nquotas:\n  requestsPerMinute: 5\n   tokensPerDay: 7\n");

        Assert.False(converted.Ok);
        Assert.Equal(4, converted.Line);
    }

    [Fact]
    public void A_duplicate_key_is_refused_with_its_position()
    {
        var converted = ManifestYaml.ToJson("name: a\nteam: t\nname: b\n");

        Assert.False(converted.Ok);
        Assert.Contains("name", converted.Error);
        Assert.Equal(3, converted.Line);
    }

    [Theory]
    [InlineData("")]
    [InlineData("   \n")]
    [InlineData("a: 1\n---\nb: 2\n")]
    public void Empty_or_multi_document_yaml_is_refused(string yaml)
    {
        var converted = ManifestYaml.ToJson(yaml);

        Assert.False(converted.Ok);
        Assert.True(converted.Line >= 1);
    }

    [Fact]
    public void Json_written_as_yaml_reads_back_to_the_same_json()
    {
        var original = JsonNode.Parse("""
            {
              "appId": "round-trip",
              "name": "Round trip: the app",
              "promptVersion": "2",
              "truthy": "true",
              "nully": "null",
              "empty": "",
              "hash": "#not a comment",
              "dash": "- not a list",
              "spaced": " leading space",
              "multi": "first line\nsecond line",
              "multiTrailing": "first\nsecond\n",
              "multiIndented": "first\n  indented",
              "quote": "it's \"quoted\"",
              "number": 12.5,
              "whole": 3,
              "flag": false,
              "none": null,
              "list": ["a", "1", "yes"],
              "nested": { "approvers": "alice\nbob", "tier": "standard" },
              "objects": [{ "name": "x", "dataClasses": [] }],
              "emptyMap": {}
            }
            """);

        var yaml = ManifestYaml.FromJson(original);
        var back = ManifestYaml.ToJson(yaml);

        Assert.True(back.Ok, back.Error + "\n" + yaml);
        Assert.True(JsonNode.DeepEquals(original, back.Json), $"YAML:\n{yaml}\nread back as:\n{back.Json}");
        Assert.DoesNotContain("...", yaml);
    }

    [Fact]
    public void Multi_line_text_is_written_as_a_literal_block()
    {
        var yaml = ManifestYaml.FromJson(new JsonObject { ["systemPrompt"] = "You are helpful.\nAnswer briefly." });

        Assert.Contains("systemPrompt: |", yaml);
        Assert.Contains("  Answer briefly.", yaml);
    }

    [Theory]
    [InlineData("application/yaml", true)]
    [InlineData("application/x-yaml; charset=utf-8", true)]
    [InlineData("TEXT/YAML", true)]
    [InlineData("application/json", false)]
    [InlineData(null, false)]
    public void Yaml_content_types_are_recognised(string? contentType, bool expected) =>
        Assert.Equal(expected, ManifestYaml.IsYaml(contentType));
}
