using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.UnitTests.Tiers;

public sealed class ModelCatalogTests
{
    private static ModelCatalogOptions Bind(Dictionary<string, string?> settings)
    {
        var options = new ModelCatalogOptions();
        new ConfigurationBuilder().AddInMemoryCollection(settings).Build().GetSection(ModelCatalogOptions.Section).Bind(options);
        options.ApplyDefaults();
        return options;
    }

    private static Dictionary<string, string?> TwoTiers() => new()
    {
        ["Models:Backends:0:Name"] = "openai",
        ["Models:Backends:0:Kind"] = "OpenAI",
        ["Models:Backends:0:BaseUrl"] = "http://127.0.0.1:9/v1",
        ["Models:Tiers:local:Models:0:Name"] = "local-extractive-summarizer",
        ["Models:Tiers:local:Models:0:Backend"] = "local",
        ["Models:Tiers:standard:Models:0:Name"] = "small-a",
        ["Models:Tiers:standard:Models:0:Backend"] = "openai",
        ["Models:Tiers:standard:Models:0:InputPricePer1K"] = "0.15",
        ["Models:Tiers:standard:Models:0:OutputPricePer1K"] = "0.6",
        ["Models:Tiers:standard:Models:0:ContextWindow"] = "16000",
        ["Models:Tiers:standard:Models:0:External"] = "true",
        ["Models:Tiers:standard:Models:1:Name"] = "small-b",
        ["Models:Tiers:standard:Models:1:Backend"] = "openai",
    };

    private static ValidateOptionsResult Validate(ModelCatalogOptions options, IServiceProvider? services = null) =>
        new ModelCatalogOptionsValidator(services ?? new ServiceCollection().BuildServiceProvider()).Validate(null, options);

    [Fact]
    public void With_nothing_configured_there_is_a_free_local_tier()
    {
        var catalog = new ModelCatalog(Bind([]));

        var resolution = catalog.Resolve("auto", "local");

        Assert.NotNull(resolution);
        Assert.Equal("local", resolution.Tier);
        var model = Assert.Single(resolution.Candidates);
        Assert.Equal("local-extractive-summarizer", model.Name);
        Assert.Equal(0m, model.InputPricePer1K + model.OutputPricePer1K);
        Assert.False(model.External);
    }

    [Fact]
    public void A_tier_name_resolves_to_all_its_models_in_order()
    {
        var catalog = new ModelCatalog(Bind(TwoTiers()));

        var resolution = catalog.Resolve("Standard", "local");

        Assert.NotNull(resolution);
        Assert.Equal("standard", resolution.Tier);
        Assert.Null(resolution.PinnedModel);
        Assert.Equal(["small-a", "small-b"], resolution.Candidates.Select(c => c.Name));
        Assert.Equal(0.15m, resolution.Candidates[0].InputPricePer1K);
        Assert.Equal(16_000, resolution.Candidates[0].ContextWindow);
    }

    [Fact]
    public void A_model_name_resolves_to_that_model_alone_in_its_tier()
    {
        var catalog = new ModelCatalog(Bind(TwoTiers()));

        var resolution = catalog.Resolve("small-b", "local");

        Assert.NotNull(resolution);
        Assert.Equal("standard", resolution.Tier);
        Assert.Equal("small-b", resolution.PinnedModel);
        Assert.Equal("small-b", Assert.Single(resolution.Candidates).Name);
    }

    [Theory]
    [InlineData("auto")]
    [InlineData("")]
    [InlineData(null)]
    public void Auto_or_no_model_means_the_apps_default_tier(string? requested)
    {
        var catalog = new ModelCatalog(Bind(TwoTiers()));

        Assert.Equal("standard", catalog.Resolve(requested, "standard")?.Tier);
        Assert.Equal("local", catalog.Resolve(requested, "local")?.Tier);
    }

    [Fact]
    public void Unknown_names_resolve_to_nothing()
    {
        var catalog = new ModelCatalog(Bind(TwoTiers()));

        Assert.Null(catalog.Resolve("gpt-nonexistent", "local"));
        Assert.Null(catalog.Resolve("auto", "premium"));
    }

    [Fact]
    public void Configured_catalog_is_valid_and_keeps_the_implicit_local_backend()
    {
        var options = Bind(TwoTiers());

        Assert.True(Validate(options).Succeeded);
        Assert.Contains(options.Backends, b => b.Name == "local" && b.Kind == ModelBackendKind.Local);
        Assert.DoesNotContain("premium", options.Tiers.Keys);
    }

    [Fact]
    public void Unknown_backend_duplicate_model_and_negative_price_are_reported_by_name()
    {
        var settings = TwoTiers();
        settings["Models:Tiers:standard:Models:1:Backend"] = "nowhere";
        settings["Models:Tiers:premium:Models:0:Name"] = "small-a";
        settings["Models:Tiers:premium:Models:0:Backend"] = "openai";
        settings["Models:Tiers:premium:Models:1:Name"] = "big";
        settings["Models:Tiers:premium:Models:1:Backend"] = "openai";
        settings["Models:Tiers:premium:Models:1:OutputPricePer1K"] = "-1";

        var result = Validate(Bind(settings));

        Assert.True(result.Failed);
        var errors = string.Join("\n", result.Failures!);
        Assert.Contains("unknown backend 'nowhere'", errors);
        Assert.Contains("model 'small-a' is configured twice", errors);
        Assert.Contains("model 'big' has a negative price", errors);
    }

    [Fact]
    public void The_silo_registration_validates_the_catalog_and_names_the_mistake()
    {
        var settings = TwoTiers();
        settings["Models:Tiers:standard:Models:1:Backend"] = "nowhere";
        var services = new ServiceCollection();
        services.AddMicroAppsGrains(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ModelCatalogOptions>>().Value);

        Assert.Contains("unknown backend 'nowhere'", error.Message);
    }

    [Fact]
    public void An_openai_backend_needs_an_absolute_base_url()
    {
        var settings = TwoTiers();
        settings["Models:Backends:0:BaseUrl"] = "not a url";

        var result = Validate(Bind(settings));

        Assert.Contains(result.Failures!, f => f.Contains("BaseUrl of OpenAI backend 'openai'"));
    }

    [Fact]
    public void A_keyed_chat_client_in_di_counts_as_a_backend()
    {
        var settings = TwoTiers();
        settings["Models:Tiers:standard:Models:1:Backend"] = "injected";
        var services = new ServiceCollection();
        services.AddKeyedSingleton<IChatClient>("injected", (_, _) => throw new InvalidOperationException("not built by the validator"));
        using var provider = services.BuildServiceProvider();

        Assert.True(Validate(Bind(settings), provider).Succeeded);
        Assert.True(Validate(Bind(settings)).Failed);
    }

    [Fact]
    public void An_unknown_backend_kind_is_named_rather_than_dropped()
    {
        var settings = TwoTiers();
        settings["Models:Backends:0:Kind"] = "Banana";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddMicroAppsGrains(configuration);
        using var provider = services.BuildServiceProvider();

        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<ModelCatalogOptions>>().Value);

        Assert.Contains("Models:Backends:0:Kind must be Local or OpenAI, got 'Banana'", error.Message);
    }
}
