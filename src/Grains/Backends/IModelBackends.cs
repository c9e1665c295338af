using Microsoft.Extensions.AI;

namespace MicroApps.Orleans.Backends;

/// <summary>
/// The chat clients of the configured backends. A client is asked for per (backend, model) so
/// clients bound to one model (as OpenAI's are) can be cached; callers still set
/// <see cref="ChatOptions.ModelId"/> so shared clients know the model too.
/// </summary>
public interface IModelBackends
{
    /// <summary>The client serving <paramref name="model"/> on <paramref name="backend"/>.</summary>
    /// <exception cref="InvalidOperationException">No backend has that name.</exception>
    IChatClient GetClient(string backend, string model);
}
