namespace MicroApps.Orleans.Tiers;

/// <summary>How a backend is reached.</summary>
public enum ModelBackendKind
{
    /// <summary>In-process models that need no network (the extractive summarizer).</summary>
    Local = 0,

    /// <summary>Any OpenAI-compatible HTTP server (OpenAI, Azure OpenAI v1, vLLM, Ollama, llama.cpp).</summary>
    OpenAI = 1,
}

/// <summary>One configured backend (<c>Models:Backends:n</c>).</summary>
public sealed class ModelBackendOptions
{
    public string Name { get; set; } = "";

    public ModelBackendKind Kind { get; set; } = ModelBackendKind.Local;

    /// <summary>Base URL of an OpenAI-compatible server, e.g. <c>http://127.0.0.1:8000/v1</c>.</summary>
    public string? BaseUrl { get; set; }

    /// <summary>API key sent to the server; local servers usually need none.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Network timeout of one backend call; past it the next model of the tier is tried.</summary>
    public int TimeoutSeconds { get; set; } = 60;
}

/// <summary>One model of a tier (<c>Models:Tiers:{tier}:Models:n</c>).</summary>
public sealed class ModelOptions
{
    public string Name { get; set; } = "";

    public string Backend { get; set; } = "";

    public decimal InputPricePer1K { get; set; }

    public decimal OutputPricePer1K { get; set; }

    public int ContextWindow { get; set; } = 128_000;

    public bool External { get; set; }
}

/// <summary>One embedding model (<c>Models:Embeddings:Models:n</c>), served by <c>POST /v1/embeddings</c>.</summary>
public sealed class EmbeddingModelOptions
{
    public string Name { get; set; } = "";

    /// <summary>An OpenAI-kind backend, or a backend registered in DI as a keyed embedding generator.</summary>
    public string Backend { get; set; } = "";

    public decimal InputPricePer1K { get; set; }

    /// <summary>The model's vector length; requests may ask for fewer (<c>dimensions</c>), never more. 0 = not declared.</summary>
    public int Dimensions { get; set; }

    public bool External { get; set; }
}

/// <summary>The embedding models (<c>Models:Embeddings</c>).</summary>
public sealed class EmbeddingCatalogOptions
{
    public List<EmbeddingModelOptions> Models { get; set; } = [];
}

/// <summary>One tier (<c>Models:Tiers:{tier}</c>); its models are tried in the configured order.</summary>
public sealed class ModelTierOptions
{
    public List<ModelOptions> Models { get; set; } = [];
}

/// <summary>
/// Backends and tiers (configuration section <c>Models</c>). A backend named <c>local</c> of kind
/// <see cref="ModelBackendKind.Local"/> always exists unless configured otherwise; when no tier is
/// configured the catalog has one tier <c>local</c> with <c>local-extractive-summarizer</c> at $0.
/// </summary>
public sealed class ModelCatalogOptions
{
    public const string Section = "Models";

    public const string LocalBackendName = "local";

    public const string LocalTierName = "local";

    public const string LocalModelName = "local-extractive-summarizer";

    /// <summary>Request model name meaning "the app's default tier".</summary>
    public const string AutoModel = "auto";

    public List<ModelBackendOptions> Backends { get; set; } = [];

    public Dictionary<string, ModelTierOptions> Tiers { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Embedding models; none by default, and then <c>POST /v1/embeddings</c> knows no model.</summary>
    public EmbeddingCatalogOptions Embeddings { get; set; } = new();

    /// <summary>Consecutive failures after which a model is skipped for <see cref="CircuitBreakerCoolDown"/>.</summary>
    public int CircuitBreakerFailures { get; set; } = 3;

    /// <summary>How long a failing model is skipped before it is tried again.</summary>
    public TimeSpan CircuitBreakerCoolDown { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The built-in local model as it appears in the default tier.</summary>
    public static ModelOptions LocalModel() => new()
    {
        Name = LocalModelName,
        Backend = LocalBackendName,
        InputPricePer1K = 0m,
        OutputPricePer1K = 0m,
        ContextWindow = 128_000,
        External = false,
    };

    /// <summary>Adds the implicit local backend and, when no tier is configured, the default local tier.</summary>
    internal void ApplyDefaults()
    {
        if (!Backends.Any(b => string.Equals(b.Name, LocalBackendName, StringComparison.OrdinalIgnoreCase)))
        {
            Backends.Add(new ModelBackendOptions { Name = LocalBackendName, Kind = ModelBackendKind.Local });
        }

        if (Tiers.Count == 0)
        {
            Tiers[LocalTierName] = new ModelTierOptions { Models = [LocalModel()] };
        }
    }
}
