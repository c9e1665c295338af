using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Time.Testing;

namespace MicroApps.Orleans.UnitTests.Tiers;

public sealed class ModelHealthTrackerTests
{
    private static readonly ModelSpec First = new("first", "b", 1m, 1m, 8_000, true);
    private static readonly ModelSpec Second = new("second", "b", 1m, 1m, 8_000, true);
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    private ModelHealthTracker Tracker() => new(_time, failureThreshold: 3, coolDown: TimeSpan.FromSeconds(30));

    [Fact]
    public void A_model_opens_after_the_threshold_of_consecutive_failures_and_moves_last()
    {
        var tracker = Tracker();
        tracker.Report("first", false, 10);
        tracker.Report("first", false, 10);
        Assert.True(tracker.IsAvailable("first"));
        Assert.Equal(["first", "second"], tracker.Order([First, Second]).Select(m => m.Name));

        tracker.Report("first", false, 10);

        Assert.False(tracker.IsAvailable("first"));
        Assert.Equal(["second", "first"], tracker.Order([First, Second]).Select(m => m.Name));
        var health = tracker.Snapshot("first");
        Assert.Equal(3, health.ConsecutiveFailures);
        Assert.Equal(_time.GetUtcNow().AddSeconds(30), health.OpenUntil);
    }

    [Fact]
    public void A_success_resets_the_failure_streak()
    {
        var tracker = Tracker();
        tracker.Report("first", false, 10);
        tracker.Report("first", false, 10);
        tracker.Report("first", true, 10);
        tracker.Report("first", false, 10);
        tracker.Report("first", false, 10);

        Assert.True(tracker.IsAvailable("first"));
        Assert.Equal(4, tracker.Snapshot("first").Failures);
    }

    [Fact]
    public void An_open_model_is_tried_again_after_the_cool_down_and_reopens_on_one_more_failure()
    {
        var tracker = Tracker();
        for (var i = 0; i < 3; i++)
        {
            tracker.Report("first", false, 10);
        }

        _time.Advance(TimeSpan.FromSeconds(29));
        Assert.False(tracker.IsAvailable("first"));
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.True(tracker.IsAvailable("first"));

        tracker.Report("first", false, 10);
        Assert.False(tracker.IsAvailable("first"));

        _time.Advance(TimeSpan.FromSeconds(30));
        tracker.Report("first", true, 10);
        Assert.True(tracker.IsAvailable("first"));
        Assert.Equal(0, tracker.Snapshot("first").ConsecutiveFailures);
    }

    [Fact]
    public void Latency_is_an_exponentially_weighted_moving_average_of_successes()
    {
        var tracker = Tracker();
        tracker.Report("first", true, 100);
        Assert.Equal(100, tracker.Snapshot("first").LatencyMsEstimate, 6);

        tracker.Report("first", true, 200);

        Assert.Equal(120, tracker.Snapshot("first").LatencyMsEstimate, 6);
    }
}
