using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Gateway;

/// <summary>Settings of the governed call and its cache (configuration section <c>Gateway</c>).</summary>
public sealed class GatewayOptions
{
    public const string Section = "Gateway";

    /// <summary>Cache shard grains the key space is spread over. Changing it only costs cache misses.</summary>
    public int CacheShards { get; set; } = 16;

    /// <summary>How long a cached completion is served.</summary>
    public TimeSpan CacheTtl { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Entries one shard keeps before it evicts its oldest.</summary>
    public int CacheMaxEntriesPerShard { get; set; } = 1_000;

    /// <summary>Output tokens reserved (and passed to the model as its limit) when a request sets no max_tokens.</summary>
    public int DefaultMaxOutputTokens { get; set; } = 512;

    /// <summary>How long a worker reuses a tier's route before asking the tier grain again.</summary>
    public TimeSpan RouteCacheDuration { get; set; } = TimeSpan.FromSeconds(1);
}

public sealed class GatewayOptionsValidator : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var errors = new List<string>();
        if (options.CacheShards < 1)
        {
            errors.Add($"Gateway:CacheShards must be at least 1, got {options.CacheShards}.");
        }

        if (options.CacheTtl < TimeSpan.Zero)
        {
            errors.Add($"Gateway:CacheTtl must not be negative, got {options.CacheTtl}.");
        }

        if (options.CacheMaxEntriesPerShard < 1)
        {
            errors.Add($"Gateway:CacheMaxEntriesPerShard must be at least 1, got {options.CacheMaxEntriesPerShard}.");
        }

        if (options.DefaultMaxOutputTokens < 1)
        {
            errors.Add($"Gateway:DefaultMaxOutputTokens must be at least 1, got {options.DefaultMaxOutputTokens}.");
        }

        if (options.RouteCacheDuration < TimeSpan.Zero)
        {
            errors.Add($"Gateway:RouteCacheDuration must not be negative, got {options.RouteCacheDuration}.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
