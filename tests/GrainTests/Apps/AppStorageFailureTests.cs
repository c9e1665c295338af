using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using MicroApps.Orleans.Apps;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Storage;

namespace MicroApps.Orleans.GrainTests.Apps;

/// <summary>A change whose write failed is not served, and is not saved later behind the caller's back.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AppStorageFailureTests(ClusterFixture fixture)
{
    [Fact]
    public async Task A_change_whose_write_failed_is_not_served_and_not_saved_later()
    {
        var appId = $"store-fail-{Guid.NewGuid():N}"[..30];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest("Store failure", "owner", "team", Audience.Internal, [], ["local"], "local", new AppQuotas(0, 0), "", "v1"));
        var key = await app.IssueKeyAsync("kept");
        Assert.True(ApiKeys.TryParse(key.ApiKey, out _, out var keyId, out var secret));

        FailingStore.FailWritesFor[app.GetGrainId()] = true;
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => app.RevokeKeyAsync(keyId));
        }
        finally
        {
            FailingStore.FailWritesFor.TryRemove(app.GetGrainId(), out _);
        }

        // The caller was told the revocation failed: the key still admits, now and after the grain reloads.
        Assert.Equal(AdmissionOutcome.Admitted, (await app.AdmitAsync(new AdmissionRequest(keyId, secret, 10))).Outcome);
        var info = await app.GetAsync();
        Assert.Null(Assert.Single(info!.Keys).RevokedAt);
    }
}

/// <summary>Wraps the test cluster's "store" so a test can make writes of chosen grains fail.</summary>
public static class FailingStore
{
    public static ConcurrentDictionary<GrainId, bool> FailWritesFor { get; } = new();

    [ModuleInitializer]
    public static void Register() => ClusterFixture.SiloServices.Add(services =>
    {
        var store = services.Last(d => d.ServiceType == typeof(IGrainStorage) && d.IsKeyedService && Equals(d.ServiceKey, "store"));
        services.Remove(store);
        services.AddKeyedSingleton<IGrainStorage>("store", (sp, key) => new Wrapper(
            store.KeyedImplementationFactory is { } factory ? (IGrainStorage)factory(sp, key) : (IGrainStorage)store.KeyedImplementationInstance!));
    });

    private sealed class Wrapper(IGrainStorage inner) : IGrainStorage
    {
        public Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ReadStateAsync(stateName, grainId, grainState);

        public Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) => inner.ClearStateAsync(stateName, grainId, grainState);

        public Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState) =>
            FailWritesFor.ContainsKey(grainId)
                ? throw new IOException($"injected write failure for {grainId}")
                : inner.WriteStateAsync(stateName, grainId, grainState);
    }
}
