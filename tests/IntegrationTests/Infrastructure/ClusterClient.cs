using MicroApps.Orleans.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace MicroApps.Orleans.IntegrationTests.Infrastructure;

/// <summary>An Orleans client in the test process, connected the way the front door connects.</summary>
internal sealed class ClusterClient : IAsyncDisposable
{
    private readonly IHost _host;

    private ClusterClient(IHost host)
    {
        _host = host;
        Client = host.Services.GetRequiredService<IClusterClient>();
    }

    public IClusterClient Client { get; }

    public IGrainFactory Grains => Client;

    /// <summary>A client that finds gateways in the Azure Table membership of <paramref name="clusterId"/>.</summary>
    public static Task<ClusterClient> ConnectAsync(string connectionString, string clusterId, string serviceId,
        ILoggerProvider? logs = null) =>
        StartAsync(builder =>
        {
            if (logs is not null)
            {
                builder.Logging.AddProvider(logs);
            }

            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Orleans:Provider"] = "AzureStorage",
                ["Orleans:ClusterId"] = clusterId,
                ["Orleans:ServiceId"] = serviceId,
                ["Orleans:ClientConnectTimeout"] = "00:00:30",
                ["Storage:ConnectionString"] = connectionString,
            });
            builder.AddMicroAppsClient();
        });

    /// <summary>A client that only talks to the gateway of <paramref name="silo"/>, so its calls enter the cluster there.</summary>
    public static Task<ClusterClient> ConnectThroughAsync(SiloProcess silo, string clusterId, string serviceId) =>
        StartAsync(builder => builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = clusterId;
                o.ServiceId = serviceId;
            });
            client.UseStaticClustering(new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, silo.GatewayPort));
        }));

    public async ValueTask DisposeAsync()
    {
        try
        {
            await _host.StopAsync(TimeSpan.FromSeconds(10));
        }
        finally
        {
            _host.Dispose();
        }
    }

    private static async Task<ClusterClient> StartAsync(Action<HostApplicationBuilder> configure)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
        configure(builder);

        // Calls to grains on a killed silo fail fast enough for the test to retry them.
        builder.Services.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = TimeSpan.FromSeconds(10));
        var host = builder.Build();
        await host.StartAsync();
        return new ClusterClient(host);
    }
}
