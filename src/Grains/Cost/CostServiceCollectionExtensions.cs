using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Cost;

/// <summary>Registers what the cost roll-up and dashboard grains need.</summary>
public static class CostServiceCollectionExtensions
{
    /// <summary>Binds and validates <see cref="CostOptions"/> (<c>Telemetry:Cost</c>) at start; registers the hour scanner the roll-up grains share.</summary>
    public static IServiceCollection AddCostDashboard(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<CostOptions>().Bind(configuration.GetSection(CostOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CostOptions>, CostOptionsValidator>());
        services.TryAddSingleton<CostHourScanner>();
        return services;
    }
}
