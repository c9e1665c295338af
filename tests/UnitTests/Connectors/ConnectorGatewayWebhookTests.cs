using System.Net;
using MicroApps.Orleans.Connectors;
using static MicroApps.Orleans.UnitTests.Connectors.ConnectorHarness;

namespace MicroApps.Orleans.UnitTests.Connectors;

/// <summary>Outgoing webhooks against a real HTTP server on loopback: delivery id, retries on 5xx and timeouts only.</summary>
public sealed class ConnectorGatewayWebhookTests : IDisposable
{
    private const string App = "approvals";
    private const string Body = """{"workflowId":"wf-1","state":"approved"}""";
    private readonly ConnectorHarness _harness = new(new Dictionary<string, string?> { ["Connectors:Webhook:Retries"] = "3" });

    public void Dispose() => _harness.Dispose();

    [Fact]
    public async Task Webhook_retried_on_503_is_delivered_once_with_the_same_delivery_id()
    {
        await using var server = LoopbackServer.Start((context, n) => n == 1
            ? LoopbackServer.AnswerAsync(context, 503, "text/plain", "busy")
            : LoopbackServer.AnswerAsync(context, 202, "text/plain", "queued"));
        var manifest = Manifest(["127.0.0.1"], Webhook("notify", "127.0.0.1", $"{server.Origin}/hooks/approvals"));

        var response = await _harness.Gateway.SendAsync(new ConnectorCall(App, manifest, "notify", "", "run-1/notify"), Body, CancellationToken.None);

        Assert.True(response.Ok, response.ErrorMessage);
        Assert.Equal(Body.Length, response.Bytes);
        var seen = server.Requests;
        Assert.Equal(2, seen.Count);
        Assert.All(seen, r => Assert.Equal(("POST", "/hooks/approvals", "run-1/notify", Body), (r.Method, r.PathAndQuery, r.DeliveryId, r.Body)));
        Assert.StartsWith("application/json", seen[0].ContentType);
    }

    [Fact]
    public async Task Each_call_is_logged_with_connector_host_outcome_and_bytes_but_never_its_body()
    {
        await using var server = LoopbackServer.Start((context, _) => LoopbackServer.AnswerAsync(context, 204, null, ""));
        var manifest = Manifest(["127.0.0.1"], Webhook("notify", "127.0.0.1", $"{server.Origin}/hooks"));
        const string secret = """{"note":"salary of Ada is 123456"}""";

        var response = await _harness.Gateway.SendAsync(new ConnectorCall(App, manifest, "notify", "", "run-6/notify"), secret, CancellationToken.None);

        Assert.True(response.Ok, response.ErrorMessage);
        var line = Assert.Single(_harness.Logs.Lines, l => l.StartsWith("Connector call", StringComparison.Ordinal));
        Assert.Contains($"app={App} connector=notify kind=webhook op=send host=127.0.0.1 outcome=ok bytes={secret.Length} attempts=1 durationMs=", line);
        Assert.DoesNotContain(_harness.Logs.Lines, l => l.Contains("123456", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Webhook_answered_400_is_not_retried()
    {
        await using var server = LoopbackServer.Start((context, _) => LoopbackServer.AnswerAsync(context, 400, "text/plain", "bad"));
        var manifest = Manifest(["127.0.0.1"], Webhook("notify", "127.0.0.1", $"{server.Origin}/hooks"));

        var response = await _harness.Gateway.SendAsync(new ConnectorCall(App, manifest, "notify", "", "run-2/notify"), Body, CancellationToken.None);

        Assert.Equal("connector_failed", response.ErrorCode);
        Assert.Contains("400", response.ErrorMessage);
        Assert.Single(server.Requests);
    }

    [Fact]
    public async Task Webhook_failing_every_attempt_gives_up_after_the_configured_retries()
    {
        await using var server = LoopbackServer.Start((context, _) => LoopbackServer.AnswerAsync(context, 502, "text/plain", "down"));
        var manifest = Manifest(["127.0.0.1"], Webhook("notify", "127.0.0.1", $"{server.Origin}/hooks"));

        var response = await _harness.Gateway.SendAsync(new ConnectorCall(App, manifest, "notify", "", "run-3/notify"), Body, CancellationToken.None);

        Assert.Equal("connector_failed", response.ErrorCode);
        Assert.Contains("502", response.ErrorMessage);
        Assert.Contains("after 4 attempts", response.ErrorMessage);
        Assert.Equal(4, server.Requests.Count);
        Assert.Single(server.Requests.Select(r => r.DeliveryId).Distinct());
    }

    [Fact]
    public async Task Webhook_that_times_out_is_retried_and_then_reported_as_a_timeout()
    {
        using var harness = new ConnectorHarness(new Dictionary<string, string?> { ["Connectors:Webhook:Retries"] = "1" });
        using var release = new CancellationTokenSource();
        await using var server = LoopbackServer.Start(async (context, _) =>
        {
            // Answers only when the test ends: long after the one-second timeout.
            await Task.Delay(Timeout.Infinite, release.Token).ContinueWith(_ => { }, TaskScheduler.Default);
            await LoopbackServer.AnswerAsync(context, 200, "text/plain", "late");
        });
        var manifest = Manifest(["127.0.0.1"], Webhook("notify", "127.0.0.1", $"{server.Origin}/hooks", timeoutSeconds: 1));

        var response = await harness.Gateway.SendAsync(new ConnectorCall(App, manifest, "notify", "", "run-4/notify"), Body, CancellationToken.None);

        Assert.Equal("connector_timeout", response.ErrorCode);
        Assert.Contains("2 attempt(s)", response.ErrorMessage);
        Assert.Equal(2, server.Requests.Count);
        await release.CancelAsync();
    }

    [Fact]
    public async Task Webhook_to_a_host_off_the_allowlist_is_refused_before_any_request()
    {
        await using var server = LoopbackServer.Start((context, _) => LoopbackServer.AnswerAsync(context, 200, "text/plain", "ok"));
        var manifest = Manifest(["hooks.example.com"], Webhook("notify", "127.0.0.1", $"{server.Origin}/hooks"));

        var response = await _harness.Gateway.SendAsync(new ConnectorCall(App, manifest, "notify", "", "run-5/notify"), Body, CancellationToken.None);

        Assert.Equal("egress_refused", response.ErrorCode);
        Assert.Contains("'notify'", response.ErrorMessage);
        Assert.Empty(server.Requests);
        Assert.Equal("egress.refused", Assert.Single(_harness.Audit.Records).Action);
    }

    [Fact]
    public async Task Webhook_cannot_be_read_and_blob_cannot_be_sent_to()
    {
        await using var server = LoopbackServer.Start((context, _) => LoopbackServer.AnswerAsync(context, 200, "text/plain", "ok"));
        var manifest = Manifest(["127.0.0.1"], Webhook("notify", "127.0.0.1", $"{server.Origin}/hooks"));

        var read = await _harness.Gateway.ReadAsync(new ConnectorCall(App, manifest, "notify", "x"), CancellationToken.None);
        var notJson = await _harness.Gateway.SendAsync(new ConnectorCall(App, manifest, "notify", "", "k"), "not json", CancellationToken.None);

        Assert.Equal("connector_failed", read.ErrorCode);
        Assert.Contains("only sends", read.ErrorMessage);
        Assert.Equal("connector_failed", notJson.ErrorCode);
        Assert.Contains("not valid JSON", notJson.ErrorMessage);
        Assert.Empty(server.Requests);
    }

    [Fact]
    public void Invalid_connector_settings_stop_the_host_with_one_line_each()
    {
        var result = new ConnectorOptionsValidator().Validate(null, new ConnectorOptions
        {
            Webhook = new WebhookConnectorOptions { Retries = 11, RetryDelay = TimeSpan.Zero },
            AzureBlob = new AzureBlobConnectorOptions
            {
                TimeoutSeconds = 0,
                Accounts = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["reports"] = "not a connection string" },
            },
        });

        Assert.True(result.Failed);
        var failures = result.Failures!.ToList();
        Assert.Equal(4, failures.Count);
        Assert.Contains(failures, f => f.StartsWith("Connectors:Webhook:Retries", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Connectors:Webhook:RetryDelay", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Connectors:AzureBlob:TimeoutSeconds", StringComparison.Ordinal));
        Assert.Contains(failures, f => f.StartsWith("Connectors:AzureBlob:Accounts:reports is not a valid storage connection string", StringComparison.Ordinal));
        Assert.True(new ConnectorOptionsValidator().Validate(null, new ConnectorOptions()).Succeeded);
    }
}
