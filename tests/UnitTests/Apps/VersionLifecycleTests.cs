using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.UnitTests.Apps;

public sealed class VersionLifecycleTests
{
    public static TheoryData<VersionState, VersionState> Allowed => new()
    {
        { VersionState.Draft, VersionState.Submitted },
        { VersionState.Submitted, VersionState.Draft },
        { VersionState.Submitted, VersionState.Approved },
        { VersionState.Submitted, VersionState.Rejected },
        { VersionState.Approved, VersionState.Canary },
        { VersionState.Approved, VersionState.Published },
        { VersionState.Canary, VersionState.Published },
        { VersionState.Canary, VersionState.RolledBack },
        { VersionState.Published, VersionState.Superseded },
        { VersionState.Published, VersionState.RolledBack },
        { VersionState.Superseded, VersionState.Published },
    };

    public static TheoryData<VersionState, VersionState> Refused => new()
    {
        { VersionState.Draft, VersionState.Published },
        { VersionState.Draft, VersionState.Approved },
        { VersionState.Draft, VersionState.Canary },
        { VersionState.Submitted, VersionState.Published },
        { VersionState.Submitted, VersionState.Canary },
        { VersionState.Approved, VersionState.Draft },
        { VersionState.Rejected, VersionState.Approved },
        { VersionState.Rejected, VersionState.Submitted },
        { VersionState.Canary, VersionState.Approved },
        { VersionState.Published, VersionState.Canary },
        { VersionState.Published, VersionState.Published },
        { VersionState.RolledBack, VersionState.Published },
        { VersionState.Superseded, VersionState.Canary },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Allowed_transitions_are_allowed(VersionState from, VersionState to)
    {
        Assert.True(VersionLifecycle.CanMove(from, to));
        Assert.Null(VersionLifecycle.Refusal("app-1", 3, from, to));
        VersionLifecycle.EnsureCanMove("app-1", 3, from, to);
    }

    [Theory]
    [MemberData(nameof(Refused))]
    public void Refused_transitions_throw_naming_the_state(VersionState from, VersionState to)
    {
        Assert.False(VersionLifecycle.CanMove(from, to));
        var refused = Assert.Throws<InvalidOperationException>(() => VersionLifecycle.EnsureCanMove("app-1", 3, from, to));
        Assert.StartsWith($"version 3 of app 'app-1' is {VersionLifecycle.Name(from)};", refused.Message);
        Assert.EndsWith($"not to {VersionLifecycle.Name(to)}", refused.Message);
    }

    [Fact]
    public void Every_pair_not_in_the_table_is_refused()
    {
        var allowed = Allowed.Select(row => ((VersionState)row[0], (VersionState)row[1])).ToHashSet();
        foreach (var from in Enum.GetValues<VersionState>())
        {
            foreach (var to in Enum.GetValues<VersionState>())
            {
                Assert.Equal(allowed.Contains((from, to)), VersionLifecycle.CanMove(from, to));
            }
        }
    }

    [Fact]
    public void A_refusal_says_what_is_allowed()
    {
        Assert.Equal(
            "version 2 of app 'notes' is submitted; it can only move to draft or approved or rejected, not to published",
            VersionLifecycle.Refusal("notes", 2, VersionState.Submitted, VersionState.Published));
        Assert.Equal(
            "version 2 of app 'notes' is rolled_back; it is final and cannot move to any other state, not to published",
            VersionLifecycle.Refusal("notes", 2, VersionState.RolledBack, VersionState.Published));
    }
}
