using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MicroApps.Orleans;

/// <summary>Registers what the grains need in a silo: options, backends, tokenizer, pipeline steps.</summary>
public static class MicroAppsGrainsServiceCollectionExtensions
{
    public static IServiceCollection AddMicroAppsGrains(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<Budgets.BudgetOptions>().Bind(configuration.GetSection(Budgets.BudgetOptions.Section));
        return services;
    }
}
