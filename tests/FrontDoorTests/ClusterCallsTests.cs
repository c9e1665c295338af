using MicroApps.Orleans.Client;
using MicroApps.Orleans.Client.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MicroApps.Orleans.FrontDoorTests;

public sealed class ClusterCallsTests
{
    private static ClusterCalls Create(TimeSpan window) =>
        new(Options.Create(new FrontDoorOptions { AdminToken = "x", ClusterRetryWindow = window }), NullLogger<ClusterCalls>.Instance);

    [Fact]
    public async Task Transient_cluster_failures_are_retried_until_the_call_succeeds()
    {
        var attempts = 0;
        var result = await Create(TimeSpan.FromSeconds(10)).RunAsync(_ =>
        {
            attempts++;
            return attempts switch
            {
                1 => throw new SiloUnavailableException(),
                2 => throw new global::Orleans.Runtime.Messaging.ConnectionFailedException("no gateway"),
                3 => throw new OrleansException("wrapped", new TimeoutException()),
                _ => ValueTask.FromResult("answer"),
            };
        }, CancellationToken.None);

        Assert.Equal("answer", result);
        Assert.Equal(4, attempts);
    }

    [Fact]
    public async Task Failures_that_are_not_about_reaching_the_cluster_are_not_retried()
    {
        var attempts = 0;

        await Assert.ThrowsAsync<InvalidOperationException>(async () => await Create(TimeSpan.FromSeconds(10)).RunAsync<string>(_ =>
        {
            attempts++;
            throw new InvalidOperationException("a bug, not an outage");
        }, CancellationToken.None));

        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Retrying_stops_when_the_window_is_used_up_and_the_last_failure_surfaces()
    {
        var attempts = 0;

        await Assert.ThrowsAsync<SiloUnavailableException>(async () => await Create(TimeSpan.Zero).RunAsync<string>(_ =>
        {
            attempts++;
            throw new SiloUnavailableException();
        }, CancellationToken.None));

        Assert.Equal(1, attempts);
    }

    [Theory]
    [InlineData(typeof(SiloUnavailableException), true)]
    [InlineData(typeof(TimeoutException), true)]
    [InlineData(typeof(ArgumentException), false)]
    [InlineData(typeof(OrleansException), false)]
    public void Transient_means_the_cluster_could_not_be_reached(Type type, bool transient)
    {
        var exception = (Exception)Activator.CreateInstance(type)!;

        Assert.Equal(transient, ClusterCalls.IsTransient(exception));
    }
}
