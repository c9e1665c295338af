using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Text;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Audit;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Connectors;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>The azure-blob connector against Azurite: CSV, JSON and text read; missing blobs; egress refusals.</summary>
public sealed class ConnectorsBlobTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>, IDisposable
{
    private const string App = "report-reader";
    private readonly List<ServiceProvider> _providers = [];

    public void Dispose() => _providers.ForEach(p => p.Dispose());

    [Fact]
    public async Task Csv_json_and_text_blobs_are_read_through_the_connector()
    {
        var container = await NewContainerAsync();
        await UploadAsync(container, "sales/2026-11.csv", "region,amount\nnorth,120\nsouth,80\n");
        await UploadAsync(container, "sales/summary.json", """{"total":200,"regions":2}""");
        await UploadAsync(container, "notes.txt", "Quarter closed early.");
        await UploadAsync(container, "readme", "# Plain text without an extension", "text/plain");
        var (gateway, _) = Gateway();
        var manifest = Manifest(["127.0.0.1"], Blob("files", "127.0.0.1", container.Name));

        var csv = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "sales/2026-11.csv"), CancellationToken.None);
        var json = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "sales/summary.json"), CancellationToken.None);
        var text = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "notes.txt"), CancellationToken.None);
        var typed = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "readme"), CancellationToken.None);

        Assert.True(csv.Ok, csv.ErrorMessage);
        Assert.Equal(("region,amount\nnorth,120\nsouth,80\n", "text/csv"), (csv.Content, csv.ContentType));
        Assert.Equal(Encoding.UTF8.GetByteCount(csv.Content), csv.Bytes);
        Assert.True(json.Ok, json.ErrorMessage);
        Assert.Equal(("""{"total":200,"regions":2}""", "application/json"), (json.Content, json.ContentType));
        Assert.True(text.Ok, text.ErrorMessage);
        Assert.Equal(("Quarter closed early.", "text/plain"), (text.Content, text.ContentType));
        Assert.True(typed.Ok, typed.ErrorMessage);
        Assert.Equal("text/plain", typed.ContentType);
    }

    [Fact]
    public async Task Missing_blob_and_missing_container_are_not_found()
    {
        var container = await NewContainerAsync();
        var (gateway, _) = Gateway();
        var manifest = Manifest(["127.0.0.1"], Blob("files", "127.0.0.1", container.Name), Blob("gone", "127.0.0.1", "no-such-container"));

        var blob = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "missing.csv"), CancellationToken.None);
        var missingContainer = await gateway.ReadAsync(new ConnectorCall(App, manifest, "gone", "any.csv"), CancellationToken.None);

        Assert.Equal("connector_not_found", blob.ErrorCode);
        Assert.Contains("blob 'missing.csv'", blob.ErrorMessage);
        Assert.Equal("connector_not_found", missingContainer.ErrorCode);
        Assert.Contains("'no-such-container'", missingContainer.ErrorMessage);
    }

    [Fact]
    public async Task Blob_over_the_cap_and_binary_files_are_refused()
    {
        var container = await NewContainerAsync();
        await UploadAsync(container, "big.csv", string.Join('\n', Enumerable.Repeat("a,b,c,d,e,f,g,h", 200)));
        await UploadAsync(container, "logo.png", "not really a png");
        await UploadAsync(container, "blob-without-extension", "\u0001\u0002", "application/octet-stream");
        var (gateway, _) = Gateway();
        var capped = Blob("files", "127.0.0.1", container.Name) with
        {
            Settings = new Dictionary<string, string> { ["container"] = container.Name, ["maxBytes"] = "1000" },
        };
        var manifest = Manifest(["127.0.0.1"], capped);

        var big = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "big.csv"), CancellationToken.None);
        var png = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "logo.png"), CancellationToken.None);
        var octets = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "blob-without-extension"), CancellationToken.None);

        Assert.Equal("connector_too_large", big.ErrorCode);
        Assert.Contains("1000 bytes", big.ErrorMessage);
        Assert.Equal("connector_unsupported_content", png.ErrorCode);
        Assert.Contains(".png", png.ErrorMessage);
        Assert.Equal("connector_unsupported_content", octets.ErrorCode);
        Assert.Contains("application/octet-stream", octets.ErrorMessage);
    }

    [Fact]
    public async Task Account_host_off_the_allowlist_is_refused_before_any_connection()
    {
        // An account whose blob endpoint is a port nobody answers on: any connection attempt would queue there.
        var trap = new TcpListener(IPAddress.Loopback, 0);
        trap.Start();
        try
        {
            var port = ((IPEndPoint)trap.LocalEndpoint).Port;
            var elsewhere = storage.ConnectionString.Split(';').Where(p => !p.StartsWith("BlobEndpoint=", StringComparison.Ordinal))
                .Append($"BlobEndpoint=http://localhost:{port}/devstoreaccount1").Where(p => p.Length > 0);
            var (gateway, audit) = Gateway(new Dictionary<string, string?> { ["Connectors:AzureBlob:Accounts:elsewhere"] = string.Join(';', elsewhere) });
            var connector = Blob("files", "localhost", "reports") with
            {
                Settings = new Dictionary<string, string> { ["container"] = "reports", ["account"] = "elsewhere" },
            };
            var manifest = Manifest(["127.0.0.1"], connector);

            var response = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "q3.csv"), CancellationToken.None);

            Assert.Equal("egress_refused", response.ErrorCode);
            Assert.True(response.Refused);
            Assert.Contains("'files'", response.ErrorMessage);
            Assert.Contains("'localhost'", response.ErrorMessage);
            Assert.False(trap.Pending());
            Assert.Equal("egress.refused", Assert.Single(audit.Records).Action);
        }
        finally
        {
            trap.Stop();
        }
    }

    [Fact]
    public async Task Declared_host_that_is_not_the_accounts_endpoint_is_refused()
    {
        var container = await NewContainerAsync();
        await UploadAsync(container, "q3.csv", "a,b\n1,2\n");
        var (gateway, _) = Gateway();
        // The manifest claims a host its allowlist allows, but the account lives on 127.0.0.1.
        var manifest = Manifest(["storage.example.com", "127.0.0.1"], Blob("files", "storage.example.com", container.Name));

        var response = await gateway.ReadAsync(new ConnectorCall(App, manifest, "files", "q3.csv"), CancellationToken.None);
        var escape = await gateway.ReadAsync(new ConnectorCall(App, Manifest(["127.0.0.1"], Blob("files", "127.0.0.1", container.Name)), "files", "../other/q3.csv"), CancellationToken.None);

        Assert.Equal("egress_refused", response.ErrorCode);
        Assert.Contains("declared host 'storage.example.com'", response.ErrorMessage);
        Assert.Equal("egress_refused", escape.ErrorCode);
        Assert.Contains("leaves the container", escape.ErrorMessage);
    }

    private async Task<BlobContainerClient> NewContainerAsync()
    {
        var container = new BlobServiceClient(storage.ConnectionString).GetBlobContainerClient("c" + Guid.NewGuid().ToString("N")[..16]);
        await container.CreateAsync();
        return container;
    }

    private static async Task UploadAsync(BlobContainerClient container, string name, string content, string? contentType = null)
    {
        var options = new BlobUploadOptions();
        if (contentType is not null)
        {
            options.HttpHeaders = new BlobHttpHeaders { ContentType = contentType };
        }

        await container.GetBlobClient(name).UploadAsync(BinaryData.FromString(content), options);
    }

    private static AppManifest Manifest(IReadOnlyList<string> allowlist, params ConnectorRef[] connectors) =>
        new("Blob test", "owner", "team", Audience.Internal, [], ["standard"], "standard", AppQuotas.Default, "", "v1",
            Connectors: connectors, EgressAllowlist: allowlist);

    private static ConnectorRef Blob(string name, string host, string container) =>
        new(name, host, [], BuiltInCatalog.AzureBlob.Ref, new Dictionary<string, string> { ["container"] = container });

    /// <summary>The gateway as a silo registers it; the "default" account is Azurite through Storage:ConnectionString.</summary>
    private (IConnectorGateway Gateway, RecordingAuditLog Audit) Gateway(IDictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?> { ["Storage:ConnectionString"] = storage.ConnectionString };
        foreach (var (key, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }

        var audit = new RecordingAuditLog();
        var grains = DispatchProxy.Create<IGrainFactory, AuditOnlyGrainFactory>();
        ((AuditOnlyGrainFactory)(object)grains).Audit = audit;
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSingleton(grains);
        services.AddMicroAppsConnectors(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        var provider = services.BuildServiceProvider();
        _providers.Add(provider);
        return (provider.GetRequiredService<IConnectorGateway>(), audit);
    }

    private sealed class RecordingAuditLog : IAuditLogGrain
    {
        private readonly ConcurrentQueue<AuditRecord> _records = new();

        public IReadOnlyList<AuditRecord> Records => _records.ToArray();

        public Task<AuditEntry> AppendAsync(AuditRecord record)
        {
            _records.Enqueue(record);
            return Task.FromResult(new AuditEntry(_records.Count, DateTimeOffset.UnixEpoch, record, "hash"));
        }

        public Task<AuditPage> QueryAsync(AuditQuery query) => throw new NotSupportedException();

        public Task<AuditVerification> VerifyAsync(DateTimeOffset? from, DateTimeOffset? to) => throw new NotSupportedException();
    }

    /// <summary>Answers GetGrain&lt;IAuditLogGrain&gt;("default") only.</summary>
    public class AuditOnlyGrainFactory : DispatchProxy
    {
        internal object? Audit { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod is { Name: nameof(IGrainFactory.GetGrain), IsGenericMethod: true } && targetMethod.GetGenericArguments()[0] == typeof(IAuditLogGrain) && args is ["default", ..]
                ? Audit
                : throw new InvalidOperationException($"unexpected call {targetMethod?.Name}");
    }
}
