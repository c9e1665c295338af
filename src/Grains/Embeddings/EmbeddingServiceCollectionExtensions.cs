using MicroApps.Orleans.Backends;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Embeddings;

public static class EmbeddingServiceCollectionExtensions
{
    /// <summary>
    /// Registers what the embeddings gateway needs: <c>Savings:Embeddings</c> options (validated at start), the embedding
    /// models of <c>Models:Embeddings</c>, the embedding backends and the per-silo batcher.
    /// </summary>
    public static IServiceCollection AddMicroAppsEmbeddings(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<EmbeddingOptions>().Bind(configuration.GetSection(EmbeddingOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<EmbeddingOptions>, EmbeddingOptionsValidator>());
        services.TryAddSingleton<EmbeddingModels>();

        // The chat backends usually implement both; a host that replaced them with chat-only backends still gets the
        // configured embedding generators.
        services.TryAddSingleton<IEmbeddingBackends>(sp =>
            sp.GetRequiredService<IModelBackends>() as IEmbeddingBackends ?? ActivatorUtilities.CreateInstance<ModelBackends>(sp));
        services.TryAddSingleton<EmbeddingBatcher>();
        return services;
    }
}
