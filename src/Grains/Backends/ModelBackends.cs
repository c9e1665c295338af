using System.ClientModel;
using System.ClientModel.Primitives;
using System.Collections.Concurrent;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenAI;

namespace MicroApps.Orleans.Backends;

/// <summary>
/// Builds and caches chat clients per (backend, model). An <see cref="IChatClient"/> registered in DI as a
/// keyed service under a backend name takes precedence over configuration: that is how hosts plug in
/// clients that configuration cannot describe (Azure-authenticated clients, test doubles).
/// </summary>
public sealed class ModelBackends(IServiceProvider services, IOptions<ModelCatalogOptions> options, LocalExtractiveSummarizer local) : IModelBackends, Embeddings.IEmbeddingBackends, IDisposable
{
    private readonly ConcurrentDictionary<(string Backend, string Model), IChatClient> _clients = new();
    private readonly ConcurrentDictionary<(string Backend, string Model), IEmbeddingGenerator<string, Embedding<float>>> _generators = new();

    public IChatClient GetClient(string backend, string model) =>
        services.GetKeyedService<IChatClient>(backend) ?? _clients.GetOrAdd((backend, model), key => Create(key.Backend, key.Model));

    public IEmbeddingGenerator<string, Embedding<float>> GetEmbeddingGenerator(string backend, string model) =>
        services.GetKeyedService<IEmbeddingGenerator<string, Embedding<float>>>(backend)
        ?? _generators.GetOrAdd((backend, model), key => CreateGenerator(key.Backend, key.Model));

    public void Dispose()
    {
        foreach (var client in _clients.Values.Where(c => !ReferenceEquals(c, local)))
        {
            client.Dispose();
        }

        foreach (var generator in _generators.Values)
        {
            generator.Dispose();
        }

        _clients.Clear();
        _generators.Clear();
    }

    private IEmbeddingGenerator<string, Embedding<float>> CreateGenerator(string backendName, string model)
    {
        var backend = options.Value.Backends.FirstOrDefault(b => string.Equals(b.Name, backendName, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"No model backend is named '{backendName}'.");
        if (backend.Kind != ModelBackendKind.OpenAI)
        {
            throw new InvalidOperationException($"Backend '{backendName}' of kind {backend.Kind} cannot embed.");
        }

        return new OpenAI.Embeddings.EmbeddingClient(model, new ApiKeyCredential(string.IsNullOrEmpty(backend.ApiKey) ? "unused" : backend.ApiKey), ClientOptions(backend))
            .AsIEmbeddingGenerator();
    }

    private static OpenAIClientOptions ClientOptions(ModelBackendOptions backend) => new()
    {
        Endpoint = new Uri(backend.BaseUrl!),
        NetworkTimeout = TimeSpan.FromSeconds(backend.TimeoutSeconds),

        // The tier fails over to its next model, which beats retrying a struggling one.
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
    };

    private IChatClient Create(string backendName, string model)
    {
        var backend = options.Value.Backends.FirstOrDefault(b => string.Equals(b.Name, backendName, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"No model backend is named '{backendName}'.");
        return backend.Kind switch
        {
            ModelBackendKind.Local => local,
            ModelBackendKind.OpenAI => new OpenAI.Chat.ChatClient(
                model,
                new ApiKeyCredential(string.IsNullOrEmpty(backend.ApiKey) ? "unused" : backend.ApiKey),
                ClientOptions(backend)).AsIChatClient(),
            _ => throw new InvalidOperationException($"Backend '{backendName}' has unsupported kind {backend.Kind}."),
        };
    }
}
