using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Connectors;

/// <summary>Registers the certified connectors: options (validated at start), the named HTTP client and the gateway.</summary>
public static class ConnectorServiceCollectionExtensions
{
    public static IServiceCollection AddMicroAppsConnectors(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ConnectorOptions>()
            .Bind(configuration.GetSection(ConnectorOptions.Section))
            .PostConfigure(o => o.AzureBlob.PlatformStorage = configuration["Storage:ConnectionString"])
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ConnectorOptions>, ConnectorOptionsValidator>());

        // Redirects are never followed (a redirect could lead off the allowlisted host), no cookies are kept between apps'
        // calls, and the connector's own timeout applies instead of HttpClient's.
        services.AddHttpClient(ConnectorOptions.HttpClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.None,
                ConnectTimeout = TimeSpan.FromSeconds(30),
            });
        services.TryAddSingleton<Governance.EgressGuard>();
        services.TryAddSingleton<IConnectorGateway, ConnectorGateway>();
        return services;
    }
}
