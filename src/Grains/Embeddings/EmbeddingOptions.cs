using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Embeddings;

/// <summary>The embedding cache and batching (configuration section <c>Savings:Embeddings</c>).</summary>
public sealed class EmbeddingOptions
{
    public const string Section = "Savings:Embeddings";

    /// <summary>
    /// How long a silo collects cache misses of one (model, dimensions) before sending them as one backend call.
    /// Zero turns batching off (each request is sent alone, still split at <see cref="MaxBatchInputs"/>).
    /// </summary>
    public TimeSpan BatchWindow { get; set; } = TimeSpan.FromMilliseconds(5);

    /// <summary>Most inputs in one backend call; a full batch is sent at once, without waiting for the window.</summary>
    public int MaxBatchInputs { get; set; } = 256;

    /// <summary>Shard grains the embedding cache is spread over.</summary>
    public int CacheShards { get; set; } = 16;

    /// <summary>How long a cached embedding is served; zero turns the cache off.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromHours(24);

    /// <summary>Entries one shard keeps before it evicts its oldest.</summary>
    public int CacheMaxEntriesPerShard { get; set; } = 10_000;
}

public sealed class EmbeddingOptionsValidator : IValidateOptions<EmbeddingOptions>
{
    /// <summary>OpenAI's limit of inputs per embeddings call.</summary>
    public const int MaxBatchInputsLimit = 2048;

    public ValidateOptionsResult Validate(string? name, EmbeddingOptions options)
    {
        var errors = new List<string>();
        if (options.BatchWindow < TimeSpan.Zero || options.BatchWindow > TimeSpan.FromSeconds(10))
        {
            errors.Add($"{EmbeddingOptions.Section}:BatchWindow must be between 00:00:00 and 00:00:10, got {options.BatchWindow}.");
        }

        if (options.MaxBatchInputs is < 1 or > MaxBatchInputsLimit)
        {
            errors.Add($"{EmbeddingOptions.Section}:MaxBatchInputs must be between 1 and {MaxBatchInputsLimit}, got {options.MaxBatchInputs}.");
        }

        if (options.CacheShards < 1)
        {
            errors.Add($"{EmbeddingOptions.Section}:CacheShards must be at least 1, got {options.CacheShards}.");
        }

        if (options.CacheTtl < TimeSpan.Zero)
        {
            errors.Add($"{EmbeddingOptions.Section}:CacheTtl must not be negative, got {options.CacheTtl}.");
        }

        if (options.CacheMaxEntriesPerShard < 1)
        {
            errors.Add($"{EmbeddingOptions.Section}:CacheMaxEntriesPerShard must be at least 1, got {options.CacheMaxEntriesPerShard}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
