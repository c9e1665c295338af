using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Connectors;
using MicroApps.Orleans.Runtime;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.GrainTests.Approvals;

/// <summary>
/// The approvals tests' apps (ids starting <c>apv-</c>) send their webhooks to <see cref="FakeWebhooks"/> instead of the
/// network; every other app's connector calls go to the connector gateway the silo would use anyway.
/// </summary>
internal static class ApprovalTestSetup
{
    public const string AppPrefix = "apv-";
    public const string NotifyConnector = "notify-requester";
    public const string Approver = "approver-carol";
    public const string OtherApprover = "approver-dan";
    public const string EscalationApprover = "head-erin";

#pragma warning disable CA2255 // The shared cluster reads its services when it starts; this runs before any test.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Configure() => ClusterFixture.SiloServices.Add(services =>
    {
        var inner = services.Last(d => d.ServiceType == typeof(IConnectorGateway));
        services.Remove(inner);
        services.AddSingleton<IConnectorGateway>(sp => new RoutingGateway(inner.ImplementationInstance as IConnectorGateway
            ?? (inner.ImplementationFactory is { } factory
                ? (IConnectorGateway)factory(sp)
                : (IConnectorGateway)ActivatorUtilities.CreateInstance(sp, inner.ImplementationType!))));
    });

    public static string NewAppId() => AppPrefix + Guid.NewGuid().ToString("N")[..12];

    /// <summary>An approvals-bot manifest with a webhook connector to 127.0.0.1 named <see cref="NotifyConnector"/>.</summary>
    public static AppManifest Manifest(string[]? escalateTo = null, string decisionTimeout = "2d", string escalationTimeout = "1d", bool notify = true)
    {
        var parameters = new Dictionary<string, string>
        {
            ["instructions"] = "Approve travel under 500 EUR; reject anything else.",
            ["approvers"] = $"{Approver}\n{OtherApprover}",
            ["decisionTimeout"] = decisionTimeout,
            ["escalationTimeout"] = escalationTimeout,
        };
        if (escalateTo is { Length: > 0 })
        {
            parameters["escalateTo"] = string.Join('\n', escalateTo);
        }

        if (notify)
        {
            parameters["notify"] = NotifyConnector;
        }

        return new AppManifest(
            "Approvals test", "tests@example.com", "approvals-tests", Audience.Internal, [], ["standard"], "standard",
            AppQuotas.Default, "", "v1",
            Connectors: [new ConnectorRef(NotifyConnector, "127.0.0.1", [], new CatalogRef(BuiltIns.Webhook, "1.0.0"),
                new Dictionary<string, string> { ["url"] = "http://127.0.0.1:9/hook" })],
            EgressAllowlist: ["127.0.0.1"],
            Template: new CatalogRef(BuiltIns.ApprovalsBot, "1.0.0"),
            Parameters: parameters);
    }

    /// <summary>A start as the runner makes it from <paramref name="manifest"/>'s parameters (defaults filled in).</summary>
    public static ApprovalWorkflowStart StartFor(string appId, AppManifest manifest, string runId, string requester = "requester-rita")
    {
        var p = TemplateParameters.WithDefaults(BuiltInCatalog.ApprovalsBot.Parameters, manifest.Parameters);
        return new ApprovalWorkflowStart(
            appId, 1, runId, requester, "Train to Lyon for the customer workshop, 320 EUR.", "APPROVE\nUnder the 500 EUR limit.",
            TemplateParameters.List(p, "approvers").ToArray(), TemplateParameters.List(p, "escalateTo").ToArray(),
            TemplateParameters.Duration(p, "decisionTimeout", TimeSpan.Zero), TemplateParameters.Duration(p, "escalationTimeout", TimeSpan.Zero),
            TemplateParameters.Text(p, "notify"));
    }

    private sealed class RoutingGateway(IConnectorGateway inner) : IConnectorGateway
    {
        public Task<ConnectorResponse> ReadAsync(ConnectorCall call, CancellationToken cancellationToken) => inner.ReadAsync(call, cancellationToken);

        public Task<ConnectorResponse> SendAsync(ConnectorCall call, string jsonBody, CancellationToken cancellationToken) =>
            call.AppId.StartsWith(AppPrefix, StringComparison.Ordinal)
                ? Task.FromResult(FakeWebhooks.For(call.AppId).Receive(call, jsonBody))
                : inner.SendAsync(call, jsonBody, cancellationToken);
    }
}

/// <summary>One app's webhook receiver: answers the first <see cref="FailFirst"/> posts with a failure, then accepts.</summary>
internal sealed class FakeWebhook
{
    private int _failuresLeft;

    public int FailFirst { init => _failuresLeft = value; }

    /// <summary>A refusal code (e.g. <c>egress_refused</c>) to answer with every time instead of accepting.</summary>
    public string? RefuseWith { get; init; }

    public ConcurrentQueue<(ConnectorCall Call, string Body)> Received { get; } = new();

    public ConnectorResponse Receive(ConnectorCall call, string body)
    {
        Received.Enqueue((call, body));
        if (RefuseWith is { } code)
        {
            return ConnectorResponse.Failure(code, $"refused by the test ({code})");
        }

        return Interlocked.Decrement(ref _failuresLeft) >= 0
            ? ConnectorResponse.Failure("connector_failed", "webhook answered 503")
            : new ConnectorResponse(true, "", "application/json", 0);
    }
}

internal static class FakeWebhooks
{
    private static readonly ConcurrentDictionary<string, FakeWebhook> Hooks = new(StringComparer.Ordinal);

    /// <summary>The receiver of an app's webhook (an accepting one unless a test set another).</summary>
    public static FakeWebhook For(string appId) => Hooks.GetOrAdd(appId, _ => new FakeWebhook());

    public static FakeWebhook Set(string appId, FakeWebhook hook) => Hooks[appId] = hook;
}
