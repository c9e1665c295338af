using System.Reflection;
using MicroApps.Orleans.Policies;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MicroApps.Orleans.UnitTests.Policies;

public sealed class PolicySetCacheTests
{
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UnixEpoch);
    private readonly FakePolicySet _grain = new();

    private PolicySetCache Cache(TimeSpan interval)
    {
        var factory = DispatchProxy.Create<IGrainFactory, GrainFactoryProxy>();
        ((GrainFactoryProxy)(object)factory).Grain = _grain;
        return new PolicySetCache(factory, Options.Create(new PolicyOptions { RefreshInterval = interval }), _time, NullLogger<PolicySetCache>.Instance);
    }

    private static PolicySetVersion Version(int number, string yaml) =>
        new(number, yaml, "admin", "", DateTimeOffset.UnixEpoch, PolicySetGrain.ContentHash(yaml));

    [Fact]
    public async Task The_grain_is_asked_at_most_once_per_interval_and_a_new_version_applies_after_it()
    {
        var cache = Cache(TimeSpan.FromSeconds(1));
        _grain.Active = Version(1, "policies: []");

        Assert.Equal(1, (await cache.GetAsync()).Version);
        _grain.Active = Version(2, "policies: []\n# v2");
        _time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(1, (await cache.GetAsync()).Version);
        Assert.Equal(1, _grain.Reads);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, (await cache.GetAsync()).Version);
        Assert.Equal(2, _grain.Reads);
    }

    [Fact]
    public async Task A_zero_interval_asks_on_every_call_but_parses_each_version_once()
    {
        var cache = Cache(TimeSpan.Zero);
        _grain.Active = Version(3, "policies: []");

        var first = await cache.GetAsync();
        var second = await cache.GetAsync();

        Assert.Equal(2, _grain.Reads);
        Assert.Same(first, second);
    }

    [Fact]
    public async Task Before_anything_is_published_nothing_applies()
    {
        Assert.Same(CompiledPolicySet.None, await Cache(TimeSpan.Zero).GetAsync());
    }

    [Fact]
    public async Task When_the_grain_cannot_be_reached_calls_keep_the_version_the_silo_has()
    {
        var cache = Cache(TimeSpan.FromSeconds(1));
        _grain.Active = Version(5, "policies: []");
        await cache.GetAsync();

        _grain.Failure = new TimeoutException("silo gone");
        _time.Advance(TimeSpan.FromSeconds(2));

        Assert.Equal(5, (await cache.GetAsync()).Version);
        Assert.Equal(2, _grain.Reads);
    }

    [Fact]
    public async Task Without_a_version_to_fall_back_on_the_failure_surfaces()
    {
        _grain.Failure = new TimeoutException("silo gone");

        await Assert.ThrowsAsync<TimeoutException>(async () => await Cache(TimeSpan.FromSeconds(1)).GetAsync());
    }

    public class GrainFactoryProxy : DispatchProxy
    {
        public IPolicySetGrain? Grain { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args) =>
            targetMethod?.Name == nameof(IGrainFactory.GetGrain) && targetMethod.ReturnType == typeof(IPolicySetGrain) && args?[0] is "default"
                ? Grain
                : throw new NotSupportedException(targetMethod?.Name);
    }

    private sealed class FakePolicySet : IPolicySetGrain
    {
        public PolicySetVersion? Active { get; set; }

        public Exception? Failure { get; set; }

        public int Reads { get; private set; }

        public Task<PolicySetVersion?> GetActiveAsync()
        {
            Reads++;
            return Failure is null ? Task.FromResult(Active) : Task.FromException<PolicySetVersion?>(Failure);
        }

        public Task<PolicyPublishResult> PublishAsync(string yaml, string author, string comment) => throw new NotSupportedException();

        public Task<IReadOnlyList<PolicySetVersion>> ListVersionsAsync() => throw new NotSupportedException();

        public Task<PolicyDecision> EvaluateAsync(PolicyFacts facts) => throw new NotSupportedException();
    }
}
