using MicroApps.Orleans.Embeddings;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.UnitTests.Embeddings;

public sealed class EmbeddingConfigurationTests
{
    [Fact]
    public void Embedding_models_must_name_an_OpenAI_backend_and_have_sane_numbers()
    {
        var options = new ModelCatalogOptions
        {
            Backends = [new ModelBackendOptions { Name = "oai", Kind = ModelBackendKind.OpenAI, BaseUrl = "http://127.0.0.1:9/v1" }],
            Embeddings = new EmbeddingCatalogOptions
            {
                Models =
                [
                    new EmbeddingModelOptions { Name = "good", Backend = "oai", InputPricePer1K = 0.02m, Dimensions = 1536 },
                    new EmbeddingModelOptions { Name = "on-local", Backend = "local" },
                    new EmbeddingModelOptions { Name = "nowhere", Backend = "missing" },
                    new EmbeddingModelOptions { Name = "negative", Backend = "oai", InputPricePer1K = -1m, Dimensions = -3 },
                    new EmbeddingModelOptions { Name = "good", Backend = "oai" },
                    new EmbeddingModelOptions { Name = " ", Backend = "oai" },
                ],
            },
        };
        options.ApplyDefaults();

        var result = new ModelCatalogOptionsValidator(new ServiceCollection().BuildServiceProvider()).Validate(null, options);

        Assert.True(result.Failed);
        var failures = result.Failures!.ToArray();
        Assert.Contains(failures, f => f.Contains("Models:Embeddings:Models:1") && f.Contains("cannot embed"));
        Assert.Contains(failures, f => f.Contains("Models:Embeddings:Models:2") && f.Contains("unknown backend 'missing'"));
        Assert.Contains(failures, f => f.Contains("Models:Embeddings:Models:3") && f.Contains("negative InputPricePer1K"));
        Assert.Contains(failures, f => f.Contains("Models:Embeddings:Models:3") && f.Contains("negative Dimensions"));
        Assert.Contains(failures, f => f.Contains("Models:Embeddings:Models:4") && f.Contains("configured twice"));
        Assert.Contains(failures, f => f.Contains("Models:Embeddings:Models:5:Name is empty"));
        Assert.DoesNotContain(failures, f => f.Contains("Models:Embeddings:Models:0"));
    }

    [Theory]
    [InlineData(-1, 10, 16, 1, "BatchWindow")]
    [InlineData(5, 0, 16, 1, "MaxBatchInputs")]
    [InlineData(5, 5000, 16, 1, "MaxBatchInputs")]
    [InlineData(5, 10, 0, 1, "CacheShards")]
    [InlineData(5, 10, 16, 0, "CacheMaxEntriesPerShard")]
    public void Embedding_options_out_of_range_are_refused_naming_the_key(int windowMs, int maxInputs, int shards, int maxEntries, string key)
    {
        var options = new EmbeddingOptions
        {
            BatchWindow = TimeSpan.FromMilliseconds(windowMs),
            MaxBatchInputs = maxInputs,
            CacheShards = shards,
            CacheMaxEntriesPerShard = maxEntries,
        };

        var result = new EmbeddingOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(result.Failures!, f => f.StartsWith($"Savings:Embeddings:{key} ", StringComparison.Ordinal));
    }

    [Fact]
    public void Default_embedding_options_are_valid()
    {
        Assert.True(new EmbeddingOptionsValidator().Validate(null, new EmbeddingOptions()).Succeeded);
    }

    [Fact]
    public void Cache_keys_ignore_whitespace_differences_but_not_model_dimensions_or_text()
    {
        var key = EmbeddingCacheKeys.Compute("m", null, "hello world");

        Assert.Equal(key, EmbeddingCacheKeys.Compute("m", null, "  hello \n  world "));
        Assert.NotEqual(key, EmbeddingCacheKeys.Compute("other", null, "hello world"));
        Assert.NotEqual(key, EmbeddingCacheKeys.Compute("m", 8, "hello world"));
        Assert.NotEqual(key, EmbeddingCacheKeys.Compute("m", null, "hello world!"));
    }

    [Theory]
    [InlineData(true, false, EmbeddingCacheKeys.PublicScope)]
    [InlineData(true, true, "app-1")]
    [InlineData(false, false, "app-1")]
    [InlineData(false, true, "app-1")]
    public void Only_public_marked_inputs_without_pii_are_in_the_shared_scope(bool markedPublic, bool hasPii, string scope)
    {
        Assert.Equal(scope, EmbeddingCacheKeys.ScopeOf("app-1", markedPublic, hasPii));
    }
}
