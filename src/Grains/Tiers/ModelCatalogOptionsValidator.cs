using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Tiers;

/// <summary>
/// Stops the silo at start with one line per mistake in <c>Models</c>. Backends may also come from
/// DI: an <see cref="IChatClient"/> registered as a keyed service under a backend name counts as that backend.
/// </summary>
public sealed class ModelCatalogOptionsValidator(IServiceProvider services) : IValidateOptions<ModelCatalogOptions>
{
    public ValidateOptionsResult Validate(string? name, ModelCatalogOptions options)
    {
        var errors = new List<string>();
        var backendNames = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        // The configuration binder drops a backend whose Kind is not a known name without a word, so the
        // written values are checked here.
        var written = services.GetService<IConfiguration>()?.GetSection($"{ModelCatalogOptions.Section}:Backends").GetChildren() ?? [];
        foreach (var entry in written)
        {
            var kind = entry["Kind"];
            if (kind is not null && (!Enum.TryParse<ModelBackendKind>(kind, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed)))
            {
                errors.Add($"Models:Backends:{entry.Key}:Kind must be Local or OpenAI, got '{kind}'.");
            }
        }

        for (var i = 0; i < options.Backends.Count; i++)
        {
            var backend = options.Backends[i];
            if (string.IsNullOrWhiteSpace(backend.Name))
            {
                errors.Add($"Models:Backends:{i}:Name is empty.");
                continue;
            }

            if (!backendNames.Add(backend.Name))
            {
                errors.Add($"Models:Backends: backend '{backend.Name}' is configured twice.");
            }

            if (backend.Kind == ModelBackendKind.OpenAI &&
                (!Uri.TryCreate(backend.BaseUrl, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)))
            {
                errors.Add($"Models:Backends:{i}:BaseUrl of OpenAI backend '{backend.Name}' must be an absolute http(s) URL, got '{backend.BaseUrl}'.");
            }

            if (backend.TimeoutSeconds <= 0)
            {
                errors.Add($"Models:Backends:{i}:TimeoutSeconds of backend '{backend.Name}' must be positive, got {backend.TimeoutSeconds}.");
            }
        }

        var keyed = services.GetService<IServiceProviderIsService>() as IServiceProviderIsKeyedService;
        var models = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (tier, tierOptions) in options.Tiers)
        {
            if (string.IsNullOrWhiteSpace(tier) || string.Equals(tier, ModelCatalogOptions.AutoModel, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add($"Models:Tiers: '{tier}' cannot be a tier name.");
            }

            if (tierOptions.Models.Count == 0)
            {
                errors.Add($"Models:Tiers:{tier} has no models.");
            }

            for (var i = 0; i < tierOptions.Models.Count; i++)
            {
                var model = tierOptions.Models[i];
                var where = $"Models:Tiers:{tier}:Models:{i}";
                if (string.IsNullOrWhiteSpace(model.Name))
                {
                    errors.Add($"{where}:Name is empty.");
                    continue;
                }

                if (models.TryGetValue(model.Name, out var otherTier))
                {
                    errors.Add($"{where}: model '{model.Name}' is configured twice (also in tier '{otherTier}').");
                }
                else
                {
                    models[model.Name] = tier;
                }

                if (options.Tiers.ContainsKey(model.Name) || string.Equals(model.Name, ModelCatalogOptions.AutoModel, StringComparison.OrdinalIgnoreCase))
                {
                    errors.Add($"{where}: model name '{model.Name}' is also a tier name or 'auto', so requests for it would be ambiguous.");
                }

                if (!backendNames.Contains(model.Backend) && keyed?.IsKeyedService(typeof(IChatClient), model.Backend) != true)
                {
                    errors.Add($"{where}: model '{model.Name}' names unknown backend '{model.Backend}' (configured: {string.Join(", ", backendNames)}).");
                }

                if (model.InputPricePer1K < 0 || model.OutputPricePer1K < 0)
                {
                    errors.Add($"{where}: model '{model.Name}' has a negative price.");
                }

                if (model.ContextWindow <= 0)
                {
                    errors.Add($"{where}: model '{model.Name}' needs a positive ContextWindow, got {model.ContextWindow}.");
                }
            }
        }

        ValidateEmbeddings(options, keyed, errors);

        if (options.CircuitBreakerFailures <= 0)
        {
            errors.Add($"Models:CircuitBreakerFailures must be positive, got {options.CircuitBreakerFailures}.");
        }

        if (options.CircuitBreakerCoolDown < TimeSpan.Zero)
        {
            errors.Add($"Models:CircuitBreakerCoolDown must not be negative, got {options.CircuitBreakerCoolDown}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>
    /// Embedding models need a backend that can embed: an OpenAI-kind backend, or one registered in DI as a keyed
    /// <see cref="IEmbeddingGenerator{TInput, TEmbedding}"/> of strings to float embeddings.
    /// </summary>
    private static void ValidateEmbeddings(ModelCatalogOptions options, IServiceProviderIsKeyedService? keyed, List<string> errors)
    {
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var models = options.Embeddings?.Models ?? [];
        for (var i = 0; i < models.Count; i++)
        {
            var model = models[i];
            var where = $"Models:Embeddings:Models:{i}";
            if (string.IsNullOrWhiteSpace(model.Name))
            {
                errors.Add($"{where}:Name is empty.");
                continue;
            }

            if (!names.Add(model.Name))
            {
                errors.Add($"{where}: embedding model '{model.Name}' is configured twice.");
            }

            var backend = options.Backends.FirstOrDefault(b => string.Equals(b.Name, model.Backend, StringComparison.OrdinalIgnoreCase));
            var keyedGenerator = keyed?.IsKeyedService(typeof(IEmbeddingGenerator<string, Embedding<float>>), model.Backend) == true;
            if (!keyedGenerator)
            {
                if (backend is null)
                {
                    errors.Add($"{where}: embedding model '{model.Name}' names unknown backend '{model.Backend}' (configured: {string.Join(", ", options.Backends.Select(b => b.Name))}).");
                }
                else if (backend.Kind != ModelBackendKind.OpenAI)
                {
                    errors.Add($"{where}: embedding model '{model.Name}' names backend '{model.Backend}' of kind {backend.Kind}, which cannot embed; use an OpenAI-kind backend.");
                }
            }

            if (model.InputPricePer1K < 0)
            {
                errors.Add($"{where}: embedding model '{model.Name}' has a negative InputPricePer1K.");
            }

            if (model.Dimensions < 0)
            {
                errors.Add($"{where}: embedding model '{model.Name}' has negative Dimensions ({model.Dimensions}); use 0 when not declared.");
            }
        }
    }
}
