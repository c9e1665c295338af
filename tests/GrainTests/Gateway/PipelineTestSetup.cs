using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.GrainTests.Gateway;

/// <summary>Model catalog and the fake backend the pipeline, cache and tier tests run against.</summary>
internal static class PipelineTestSetup
{
    public const string FakeBackend = "fake";

    /// <summary>One fake client serves every silo, so tests can see every call it received.</summary>
    public static FakeChatClient Fake { get; } = new();

    public const int CacheMaxEntriesPerShard = 50;

#pragma warning disable CA2255 // The shared cluster reads its settings when it starts; this runs before any test.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Configure()
    {
        var settings = ClusterFixture.SiloSettings;
        void Model(string tier, int index, string name, decimal input, decimal output, int contextWindow = 4_000)
        {
            var prefix = $"Models:Tiers:{tier}:Models:{index}:";
            settings[prefix + "Name"] = name;
            settings[prefix + "Backend"] = name.StartsWith("local-", StringComparison.Ordinal) ? "local" : FakeBackend;
            settings[prefix + "InputPricePer1K"] = input.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[prefix + "OutputPricePer1K"] = output.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[prefix + "ContextWindow"] = contextWindow.ToString(System.Globalization.CultureInfo.InvariantCulture);
            settings[prefix + "External"] = "true";
        }

        Model("local", 0, "local-extractive-summarizer", 0m, 0m, 128_000);
        Model("standard", 0, "fake-small", 1m, 2m);
        Model("standard", 1, "fake-large", 0.5m, 4m);
        Model("flaky", 0, "fake-broken-first", 1m, 1m);
        Model("flaky", 1, "fake-steady", 1m, 1m);
        Model("dead", 0, "fake-broken-only", 1m, 1m);
        Model("slow", 0, "fake-slow", 1m, 1m);
        Model("breaker", 0, "fake-breaker-a", 1m, 1m);
        Model("breaker", 1, "fake-breaker-b", 1m, 1m);
        settings["Models:CircuitBreakerFailures"] = "3";
        settings["Models:CircuitBreakerCoolDown"] = "00:00:30";
        settings["Gateway:CacheShards"] = "4";
        settings["Gateway:CacheTtl"] = "00:05:00";
        settings["Gateway:CacheMaxEntriesPerShard"] = CacheMaxEntriesPerShard.ToString(System.Globalization.CultureInfo.InvariantCulture);
        settings["Gateway:DefaultMaxOutputTokens"] = "64";
        ClusterFixture.SiloServices.Add(services => services.AddKeyedSingleton<IChatClient>(FakeBackend, Fake));
    }
}
