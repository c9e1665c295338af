using MicroApps.Orleans.IntegrationTests.Infrastructure;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>docker-compose.yml cannot be run here (no image pulls), so its shape is checked instead.</summary>
public sealed class ComposeFileTests
{
    private static YamlMappingNode Services()
    {
        var path = Path.Combine(TestEnvironment.RepositoryRoot, "docker-compose.yml");
        using var reader = new StreamReader(path);
        var yaml = new YamlStream();
        // The file shares settings through anchors and merge keys (<<), as docker compose resolves them.
        yaml.Load(new MergingParser(new Parser(reader)));
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        return (YamlMappingNode)root.Children[new YamlScalarNode("services")];
    }

    private static YamlMappingNode Service(string name) => (YamlMappingNode)Services().Children[new YamlScalarNode(name)];

    private static Dictionary<string, string> Environment(string service)
    {
        var node = Service(service).Children[new YamlScalarNode("environment")];
        return node switch
        {
            YamlMappingNode map => map.Children.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString()),
            YamlSequenceNode list => list.Children.Select(n => n.ToString().Split('=', 2)).ToDictionary(p => p[0], p => p[1]),
            _ => throw new InvalidOperationException($"{service}.environment is neither a map nor a list"),
        };
    }

    private static string Dockerfile(string service) =>
        ((YamlMappingNode)Service(service).Children[new YamlScalarNode("build")]).Children[new YamlScalarNode("dockerfile")].ToString();

    [Fact]
    public void Compose_file_names_azurite_two_silos_and_the_front_door()
    {
        var names = Services().Children.Keys.Select(k => k.ToString()).ToHashSet();
        Assert.Superset(new HashSet<string> { "azurite", "silo1", "silo2", "frontdoor" }, names);
        Assert.StartsWith("mcr.microsoft.com/azure-storage/azurite", Service("azurite").Children[new YamlScalarNode("image")].ToString());
    }

    [Fact]
    public void Compose_silos_form_one_cluster_on_azurite_with_distinct_ports()
    {
        var silo1 = Environment("silo1");
        var silo2 = Environment("silo2");
        var frontDoor = Environment("frontdoor");

        Assert.Equal(silo1["Orleans__ClusterId"], silo2["Orleans__ClusterId"]);
        Assert.Equal(silo1["Orleans__ClusterId"], frontDoor["Orleans__ClusterId"]);
        Assert.Equal(silo1["Orleans__ServiceId"], frontDoor["Orleans__ServiceId"]);
        Assert.NotEqual(silo1["Orleans__SiloPort"], silo2["Orleans__SiloPort"]);
        Assert.NotEqual(silo1["Orleans__GatewayPort"], silo2["Orleans__GatewayPort"]);
        foreach (var env in new[] { silo1, silo2, frontDoor })
        {
            Assert.Contains("TableEndpoint=http://azurite:10002/devstoreaccount1", env["Storage__ConnectionString"]);
        }

        Assert.Equal("false", frontDoor["FrontDoor__CoHostSilo"], ignoreCase: true);
        Assert.Equal("src/Silo/Dockerfile", Dockerfile("silo1"));
        Assert.Equal("src/Silo/Dockerfile", Dockerfile("silo2"));
        Assert.Equal("src/Client/Dockerfile", Dockerfile("frontdoor"));
    }
}
