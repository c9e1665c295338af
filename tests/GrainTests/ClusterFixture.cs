using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Time.Testing;
using Orleans.TestingHost;

namespace MicroApps.Orleans.GrainTests;

/// <summary>
/// One in-process two-silo cluster with memory storage for every grain test. Tests use fresh
/// grain keys; time is a shared <see cref="FakeTimeProvider"/> that tests advance explicitly.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    /// <summary>The silos are in this process, so they share this clock with the tests.</summary>
    public static FakeTimeProvider Time { get; } = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    /// <summary>Configuration handed to the grains; tests add keys here through <see cref="SiloSettings"/>.</summary>
    public static Dictionary<string, string?> SiloSettings { get; } = new()
    {
        ["Budgets:ReservationTtl"] = "00:05:00",

        // Policy tests publish and call at once; every call reads the active policy set.
        ["Policies:RefreshInterval"] = "00:00:00",
    };

    /// <summary>One trace store for both silos, so a query on either sees every call's trace.</summary>
    public static Telemetry.InMemoryTraceStore Traces { get; } = new();

    /// <summary>Extra silo services (for example test chat backends); add through a module initializer.</summary>
    public static List<Action<IServiceCollection>> SiloServices { get; } = [];

    public TestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.GrainFactory;

    public async Task InitializeAsync()
    {
        var builder = new TestClusterBuilder(2);
        builder.AddSiloBuilderConfigurator<SiloConfigurator>();
        builder.AddClientBuilderConfigurator<ClientConfigurator>();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync()
    {
        await Cluster.StopAllSilosAsync();
        await Cluster.DisposeAsync();
    }

    private sealed class SiloConfigurator : ISiloConfigurator
    {
        public void Configure(ISiloBuilder siloBuilder)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(SiloSettings).Build();
            siloBuilder.AddMemoryGrainStorage("store");

            // As the hosts do (AddMicroAppsSilo/AddMicroAppsClient): a caller's trace continues into grain calls.
            siloBuilder.AddActivityPropagation();
            siloBuilder.ConfigureServices(services =>
            {
                services.AddSingleton<Telemetry.ITraceStore>(Traces);
                services.AddMicroAppsGrains(configuration);
                foreach (var configure in SiloServices)
                {
                    configure(services);
                }

                services.RemoveAllKeyed<TimeProvider>(PlatformClock.Key);
                services.AddKeyedSingleton<TimeProvider>(PlatformClock.Key, Time);
            });
        }
    }

    private sealed class ClientConfigurator : IClientBuilderConfigurator
    {
        public void Configure(IConfiguration configuration, IClientBuilder clientBuilder) => clientBuilder.AddActivityPropagation();
    }
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
