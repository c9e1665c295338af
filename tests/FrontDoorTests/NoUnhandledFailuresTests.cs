namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// Base of test classes whose requests are all bad input: each test must be answered by the endpoints,
/// never by the last-resort exception handler (which would be a 500).
/// </summary>
public abstract class NoUnhandledFailuresTests(FrontDoorFixture fixture) : IAsyncLifetime
{
    private long failuresBefore;

    protected FrontDoorFixture Fixture { get; } = fixture;

    public Task InitializeAsync()
    {
        failuresBefore = Fixture.Failures.Count;
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        Assert.Equal(failuresBefore, Fixture.Failures.Count);
        return Task.CompletedTask;
    }
}
