using System.Net;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Connectors;
using static MicroApps.Orleans.UnitTests.Connectors.ConnectorHarness;

namespace MicroApps.Orleans.UnitTests.Connectors;

/// <summary>The http-json connector against real HTTP servers on loopback.</summary>
public sealed class ConnectorGatewayHttpTests : IDisposable
{
    private const string App = "crm-helper";
    private readonly ConnectorHarness _harness = new();

    private IConnectorGateway Gateway => _harness.Gateway;

    public void Dispose() => _harness.Dispose();

    private static Task Json(HttpListenerContext context, int _) =>
        LoopbackServer.AnswerAsync(context, 200, "application/json", """{"customer":"Ada","orders":3}""");

    [Fact]
    public async Task Allowlisted_get_reads_json_under_the_base_url()
    {
        await using var server = LoopbackServer.Start(Json);
        var manifest = Manifest(["127.0.0.1"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api/v1"));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "customers/42?fields=orders"), CancellationToken.None);

        Assert.True(response.Ok, response.ErrorMessage);
        Assert.Equal("""{"customer":"Ada","orders":3}""", response.Content);
        Assert.Equal("application/json", response.ContentType);
        Assert.Equal(response.Content.Length, response.Bytes);
        var seen = Assert.Single(server.Requests);
        Assert.Equal("GET", seen.Method);
        Assert.Equal("/api/v1/customers/42?fields=orders", seen.PathAndQuery);
        Assert.Empty(_harness.Audit.Records);
    }

    [Fact]
    public async Task Host_not_on_the_egress_allowlist_is_refused_before_any_request_and_audited()
    {
        await using var server = LoopbackServer.Start(Json);
        var manifest = Manifest(["api.example.com"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api"));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "customers"), CancellationToken.None);

        Assert.False(response.Ok);
        Assert.True(response.Refused);
        Assert.Equal("egress_refused", response.ErrorCode);
        Assert.Contains("'crm'", response.ErrorMessage);
        Assert.Contains("127.0.0.1", response.ErrorMessage);
        Assert.Empty(server.Requests);
        var audit = Assert.Single(_harness.Audit.Records);
        Assert.Equal("egress.refused", audit.Action);
        Assert.Equal($"app:{App}", audit.Target);
    }

    [Fact]
    public async Task Base_url_on_another_host_than_the_declared_one_is_refused_before_any_request()
    {
        await using var server = LoopbackServer.Start(Json);
        // Allowlisted, but the connector declares localhost and its base URL points at 127.0.0.1.
        var manifest = Manifest(["127.0.0.1", "localhost"], HttpJson("crm", "localhost", $"{server.Origin}/api"));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "customers"), CancellationToken.None);

        Assert.Equal("egress_refused", response.ErrorCode);
        Assert.Contains("only its declared host 'localhost'", response.ErrorMessage);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Undeclared_connector_is_refused_naming_it()
    {
        await using var server = LoopbackServer.Start(Json);
        var manifest = Manifest(["127.0.0.1"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api"));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "billing", "invoices"), CancellationToken.None);

        Assert.Equal("connector_not_declared", response.ErrorCode);
        Assert.True(response.Refused);
        Assert.Contains("'billing'", response.ErrorMessage);
        Assert.Contains("declared: crm", response.ErrorMessage);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Connector_without_a_certified_use_is_refused()
    {
        await using var server = LoopbackServer.Start(Json);
        var declaredOnly = new ConnectorRef("crm", "127.0.0.1", []);
        var unknown = new ConnectorRef("ftp", "127.0.0.1", [], new CatalogRef("ftp-files", "1.0.0"), new Dictionary<string, string>());
        var manifest = Manifest(["127.0.0.1"], declaredOnly, unknown);

        var noUse = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "x"), CancellationToken.None);
        var notCertified = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "ftp", "x"), CancellationToken.None);

        Assert.Equal("connector_not_declared", noUse.ErrorCode);
        Assert.Contains("declares no 'use'", noUse.ErrorMessage);
        Assert.Equal("connector_not_declared", notCertified.ErrorCode);
        Assert.Contains("'ftp-files@1.0.0', which is not a certified connector", notCertified.ErrorMessage);
        Assert.Empty(server.Requests);
    }

    [Theory]
    [InlineData("../admin/keys")]
    [InlineData("customers/../../admin")]
    [InlineData("%2e%2e/admin")]
    [InlineData("customers%2F..%2F..%2Fadmin")]
    [InlineData("http://127.0.0.1/admin")]
    [InlineData("//127.0.0.1/admin")]
    [InlineData("..\\admin")]
    public async Task Path_that_leaves_the_base_url_is_refused_before_any_request(string path)
    {
        await using var server = LoopbackServer.Start(Json);
        var manifest = Manifest(["127.0.0.1"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api/v1"));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", path), CancellationToken.None);

        Assert.Equal("egress_refused", response.ErrorCode);
        Assert.Contains("'crm'", response.ErrorMessage);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public async Task Slow_host_times_out_at_the_connectors_timeout()
    {
        using var release = new CancellationTokenSource();
        await using var server = LoopbackServer.Start(async (context, _) =>
        {
            // Answers only when the test ends: long after the one-second timeout.
            await Task.Delay(Timeout.Infinite, release.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            await LoopbackServer.AnswerAsync(context, 200, "application/json", "{}");
        });
        var manifest = Manifest(["127.0.0.1"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api", timeoutSeconds: 1));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "slow"), CancellationToken.None);

        Assert.Equal("connector_timeout", response.ErrorCode);
        Assert.Contains("within 1 s", response.ErrorMessage);
        Assert.Single(server.Requests);
        await release.CancelAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Answer_over_the_size_cap_is_refused_whether_or_not_its_length_is_announced(bool chunked)
    {
        var big = "{\"data\":\"" + new string('x', 5000) + "\"}";
        await using var server = LoopbackServer.Start((context, _) => LoopbackServer.AnswerAsync(context, 200, "application/json", big, chunked));
        var manifest = Manifest(["127.0.0.1"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api", maxBytes: 1000));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "big"), CancellationToken.None);

        Assert.Equal("connector_too_large", response.ErrorCode);
        Assert.Contains("1000 bytes", response.ErrorMessage);
        Assert.Equal("", response.Content);
    }

    [Fact]
    public async Task Answer_exactly_at_the_size_cap_is_read()
    {
        var body = "{\"data\":\"" + new string('x', 989) + "\"}";
        Assert.Equal(1000, body.Length);
        await using var server = LoopbackServer.Start((context, _) => LoopbackServer.AnswerAsync(context, 200, "application/json", body, chunked: true));
        var manifest = Manifest(["127.0.0.1"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api", maxBytes: 1000));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "exact"), CancellationToken.None);

        Assert.True(response.Ok, response.ErrorMessage);
        Assert.Equal(1000, response.Bytes);
    }

    [Theory]
    [InlineData("text/html", "<html>login</html>")]
    [InlineData("application/json", "not json at all")]
    public async Task Non_json_answer_is_unsupported_content(string contentType, string body)
    {
        await using var server = LoopbackServer.Start((context, _) => LoopbackServer.AnswerAsync(context, 200, contentType, body));
        var manifest = Manifest(["127.0.0.1"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api"));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "page"), CancellationToken.None);

        Assert.Equal("connector_unsupported_content", response.ErrorCode);
        Assert.Contains("'crm'", response.ErrorMessage);
        Assert.Contains(contentType, response.ErrorMessage);
    }

    [Fact]
    public async Task Missing_resource_is_not_found_and_other_errors_name_the_status()
    {
        await using var server = LoopbackServer.Start((context, _) => context.Request.Url!.AbsolutePath.EndsWith("/missing", StringComparison.Ordinal)
            ? LoopbackServer.AnswerAsync(context, 404, "application/json", "{}")
            : LoopbackServer.AnswerAsync(context, 500, "application/json", "{}"));
        var manifest = Manifest(["127.0.0.1"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api"));

        var missing = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "missing"), CancellationToken.None);
        var broken = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "broken"), CancellationToken.None);

        Assert.Equal("connector_not_found", missing.ErrorCode);
        Assert.Contains("/api/missing", missing.ErrorMessage);
        Assert.Equal("connector_failed", broken.ErrorCode);
        Assert.Contains("500", broken.ErrorMessage);
        Assert.Equal(2, server.Requests.Count);
    }

    [Fact]
    public async Task Redirect_to_another_host_is_not_followed()
    {
        await using var elsewhere = LoopbackServer.Start(Json, host: "localhost");
        await using var server = LoopbackServer.Start((context, _) =>
        {
            context.Response.RedirectLocation = $"{elsewhere.Origin}/steal";
            return LoopbackServer.AnswerAsync(context, 302, null, "");
        });
        // Even with both hosts on the allowlist, the redirect is a failure: a connector reaches only its declared host.
        var manifest = Manifest(["127.0.0.1", "localhost"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api"));

        var response = await Gateway.ReadAsync(new ConnectorCall(App, manifest, "crm", "moved"), CancellationToken.None);

        Assert.Equal("connector_failed", response.ErrorCode);
        Assert.Contains($"{elsewhere.Origin}/steal", response.ErrorMessage);
        Assert.Contains("not followed", response.ErrorMessage);
        Assert.Single(server.Requests);
        Assert.Empty(elsewhere.Requests);
    }

    [Fact]
    public async Task Post_through_http_json_sends_the_body_and_reads_the_json_answer()
    {
        await using var server = LoopbackServer.Start((context, _) => LoopbackServer.AnswerAsync(context, 201, "application/problem+json", """{"id":7}"""));
        var manifest = Manifest(["127.0.0.1"], HttpJson("crm", "127.0.0.1", $"{server.Origin}/api"));

        var response = await Gateway.SendAsync(new ConnectorCall(App, manifest, "crm", "notes"), """{"text":"hello"}""", CancellationToken.None);

        Assert.True(response.Ok, response.ErrorMessage);
        Assert.Equal("""{"id":7}""", response.Content);
        var seen = Assert.Single(server.Requests);
        Assert.Equal(("POST", "/api/notes", """{"text":"hello"}"""), (seen.Method, seen.PathAndQuery, seen.Body));
        Assert.StartsWith("application/json", seen.ContentType);
    }

    [Fact]
    public async Task Wrong_settings_are_refused_before_any_request()
    {
        await using var server = LoopbackServer.Start(Json);
        var connector = HttpJson("crm", "127.0.0.1", $"{server.Origin}/api") with
        {
            Settings = new Dictionary<string, string> { ["baseUrl"] = $"{server.Origin}/api", ["timeoutSeconds"] = "600" },
        };

        var response = await Gateway.ReadAsync(new ConnectorCall(App, Manifest(["127.0.0.1"], connector), "crm", "x"), CancellationToken.None);

        Assert.Equal("connector_not_declared", response.ErrorCode);
        Assert.Contains("settings.timeoutSeconds", response.ErrorMessage);
        Assert.Empty(server.Requests);
    }
}
