using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Connectors;

namespace MicroApps.Orleans.UnitTests.Connectors;

public sealed class ConnectorRulesTests
{
    private static readonly IReadOnlyList<CatalogEntry> Catalog = BuiltInCatalog.All.Where(e => e.Kind == CatalogKind.Connector).ToList();

    private static AppManifest Manifest(IReadOnlyList<string> allowlist, params ConnectorRef[] connectors) =>
        ConnectorHarness.Manifest(allowlist, connectors);

    private static ConnectorRef Http(string host, string baseUrl, string name = "crm", string use = "http-json@1.0.0", Dictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string> { ["baseUrl"] = baseUrl };
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }

        return new ConnectorRef(name, host, [], CatalogRef.TryParse(use, out var r) ? r : throw new ArgumentException(use), settings);
    }

    [Fact]
    public void Valid_connectors_of_every_kind_pass()
    {
        var manifest = Manifest(["api.example.com", "hooks.example.com", "127.0.0.1"],
            Http("api.example.com", "https://api.example.com/v2"),
            new ConnectorRef("notify", "hooks.example.com", [], BuiltInCatalog.Webhook.Ref, new Dictionary<string, string> { ["url"] = "https://hooks.example.com/a?token=x" }),
            new ConnectorRef("files", "127.0.0.1", [], BuiltInCatalog.AzureBlob.Ref, new Dictionary<string, string> { ["container"] = "reports" }),
            new ConnectorRef("legacy", "anything.example.net", []));

        Assert.Empty(ConnectorRules.Validate(manifest, Catalog));
    }

    [Fact]
    public void Unknown_use_and_unknown_version_name_the_use_field()
    {
        var manifest = Manifest(["api.example.com"],
            Http("api.example.com", "https://api.example.com", name: "a", use: "soap-xml@1.0.0"),
            Http("api.example.com", "https://api.example.com", name: "b", use: "http-json@2.0.0"));

        var errors = ConnectorRules.Validate(manifest, Catalog);

        Assert.Equal(2, errors.Count);
        Assert.Equal("connectors[0].use", errors[0].Field);
        Assert.Contains("'soap-xml@1.0.0' is not a catalog connector", errors[0].Message);
        Assert.Contains("http-json@1.0.0", errors[0].Message);
        Assert.Equal("connectors[1].use", errors[1].Field);
        Assert.Contains("no version 2.0.0", errors[1].Message);
    }

    [Fact]
    public void Settings_are_checked_against_the_connectors_parameters()
    {
        var manifest = Manifest(["api.example.com"],
            new ConnectorRef("crm", "api.example.com", [], BuiltInCatalog.HttpJson.Ref,
                new Dictionary<string, string> { ["timeoutSeconds"] = "90", ["retries"] = "2" }));

        var fields = ConnectorRules.Validate(manifest, Catalog).Select(e => e.Field).ToList();

        Assert.Equal(["connectors[0].settings.retries", "connectors[0].settings.baseUrl", "connectors[0].settings.timeoutSeconds"], fields);
    }

    [Fact]
    public void Base_url_on_another_host_names_the_setting()
    {
        var manifest = Manifest(["api.example.com", "evil.example.org"], Http("api.example.com", "https://evil.example.org/v1"));

        var error = Assert.Single(ConnectorRules.Validate(manifest, Catalog));

        Assert.Equal("connectors[0].settings.baseUrl", error.Field);
        Assert.Contains("'evil.example.org' is not the connector's host 'api.example.com'", error.Message);
    }

    [Fact]
    public void Hosts_compare_ignoring_case_and_a_trailing_dot()
    {
        var manifest = Manifest(["API.example.com"], Http("Api.Example.com.", "https://api.example.COM/v1"));

        Assert.Empty(ConnectorRules.Validate(manifest, Catalog));
    }

    [Fact]
    public void Host_off_the_egress_allowlist_names_the_host_field()
    {
        var manifest = Manifest(["*.example.com"], Http("example.com", "https://example.com/v1"));

        var error = Assert.Single(ConnectorRules.Validate(manifest, Catalog));

        Assert.Equal("connectors[0].host", error.Field);
        Assert.Contains("'example.com' is not on the app's egressAllowlist", error.Message);
        Assert.Contains("sub-domains", error.Message);
    }

    [Fact]
    public void Base_url_with_credentials_or_a_query_is_refused()
    {
        var manifest = Manifest(["api.example.com"],
            Http("api.example.com", "https://user:secret@api.example.com/v1", name: "a"),
            Http("api.example.com", "https://api.example.com/v1?key=1", name: "b"));

        var errors = ConnectorRules.Validate(manifest, Catalog);

        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.EndsWith(".settings.baseUrl", e.Field));
        Assert.Contains("credentials", errors[0].Message);
        Assert.Contains("no query", errors[1].Message);
    }

    [Fact]
    public void Settings_without_a_use_and_duplicate_names_are_refused()
    {
        var manifest = Manifest(["api.example.com"],
            new ConnectorRef("crm", "api.example.com", [], null, new Dictionary<string, string> { ["baseUrl"] = "https://api.example.com" }),
            Http("api.example.com", "https://api.example.com"));

        var errors = ConnectorRules.Validate(manifest, Catalog);

        Assert.Equal([("connectors[0].use"), ("connectors[1].name")], errors.Select(e => e.Field).ToArray());
        Assert.Contains("http-json@1.0.0", errors[0].Message);
    }

    [Fact]
    public void Missing_required_blob_container_is_named()
    {
        var manifest = Manifest(["127.0.0.1"], new ConnectorRef("files", "127.0.0.1", [], BuiltInCatalog.AzureBlob.Ref, new Dictionary<string, string>()));

        var error = Assert.Single(ConnectorRules.Validate(manifest, Catalog));

        Assert.Equal("connectors[0].settings.container", error.Field);
    }

    [Theory]
    [InlineData("customers/42", "https://api.example.com/v1/customers/42")]
    [InlineData("/customers?q=a%20b", "https://api.example.com/v1/customers?q=a%20b")]
    [InlineData("", "https://api.example.com/v1/")]
    [InlineData("a..b/c", "https://api.example.com/v1/a..b/c")]
    public void Paths_resolve_under_the_base_url(string path, string expected)
    {
        Assert.True(CertifiedConnectors.TryResolveUnder(new Uri("https://api.example.com/v1"), path, out var target, out var problem), problem);
        Assert.Equal(expected, target.AbsoluteUri);
    }

    [Theory]
    [InlineData("http-json@1.0.0", "1.0.0")]
    [InlineData("http-json@1.4.2", "1.0.0")]
    [InlineData("http-json@2.0.0", null)]
    [InlineData("summarizer@1.0.0", null)]
    public void Implementation_is_found_by_name_and_major_version(string use, string? version)
    {
        Assert.True(CatalogRef.TryParse(use, out var reference));
        Assert.Equal(version, CertifiedConnectors.Find(reference, BuiltInCatalog.All)?.Version);
    }

    [Theory]
    [InlineData("API.Example.com.", "api.example.com", true)]
    [InlineData("[::1]", "0:0:0:0:0:0:0:1", true)]
    [InlineData("127.0.0.1", "127.0.0.2", false)]
    [InlineData("api.example.com", "example.com", false)]
    public void Hosts_are_compared_normalised(string a, string b, bool same) =>
        Assert.Equal(same, CertifiedConnectors.SameHost(a, b));

    [Theory]
    [InlineData("a/b.csv", null)]
    [InlineData("../other/secret.csv", "leaves the container")]
    [InlineData("/abs.csv", "leaves the container")]
    [InlineData("a/./b.csv", "leaves the container")]
    [InlineData("", "no blob name")]
    public void Blob_names_stay_inside_the_container(string name, string? problem)
    {
        var found = CertifiedConnectors.BlobNameProblem(name);
        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found);
        }
    }
}
