using Microsoft.Extensions.AI;

namespace MicroApps.Orleans.Embeddings;

/// <summary>
/// The embedding generators of the configured backends, per (backend, model). A generator registered in DI as a
/// keyed <c>IEmbeddingGenerator&lt;string, Embedding&lt;float&gt;&gt;</c> under a backend name takes precedence (test doubles,
/// Azure-authenticated clients).
/// </summary>
public interface IEmbeddingBackends
{
    /// <summary>The generator serving <paramref name="model"/> on <paramref name="backend"/>.</summary>
    /// <exception cref="InvalidOperationException">No backend has that name, or it cannot embed.</exception>
    IEmbeddingGenerator<string, Embedding<float>> GetEmbeddingGenerator(string backend, string model);
}
