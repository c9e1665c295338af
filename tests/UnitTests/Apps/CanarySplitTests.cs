using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.UnitTests.Apps;

public sealed class CanarySplitTests
{
    private const int Keys = 20_000;

    [Theory]
    [InlineData(0.05)]
    [InlineData(0.25)]
    [InlineData(0.5)]
    public void The_canary_takes_its_share_of_keys_within_a_tolerance(double share)
    {
        var canary = Enumerable.Range(0, Keys).Count(i => CanarySplit.IsCanary("invoice-helper", 2, $"user-{i}", share));

        // Binomial standard deviation at 20,000 keys is at most 0.0036; 0.012 is over three of them.
        Assert.InRange(canary / (double)Keys, share - 0.012, share + 0.012);
    }

    [Fact]
    public void The_same_key_always_lands_on_the_same_side()
    {
        for (var i = 0; i < 200; i++)
        {
            var key = $"request-{i}";
            var first = CanarySplit.IsCanary("invoice-helper", 3, key, 0.3);
            Assert.Equal(first, CanarySplit.IsCanary("invoice-helper", 3, key, 0.3));
            Assert.Equal(CanarySplit.Position("invoice-helper", 3, key), CanarySplit.Position("invoice-helper", 3, key));
        }
    }

    [Fact]
    public void A_share_of_zero_sends_nobody_and_a_share_of_one_everybody()
    {
        for (var i = 0; i < 1_000; i++)
        {
            Assert.False(CanarySplit.IsCanary("a-app", 2, $"k{i}", 0));
            Assert.True(CanarySplit.IsCanary("a-app", 2, $"k{i}", 1));
        }
    }

    [Fact]
    public void Positions_are_in_the_unit_interval_and_depend_on_the_canary_version()
    {
        var differ = 0;
        for (var i = 0; i < 1_000; i++)
        {
            var p2 = CanarySplit.Position("a-app", 2, $"k{i}");
            var p3 = CanarySplit.Position("a-app", 3, $"k{i}");
            Assert.InRange(p2, 0.0, 0.9999999999);
            if (p2 != p3)
            {
                differ++;
            }
        }

        Assert.Equal(1_000, differ);
    }

    [Fact]
    public void A_growing_share_keeps_earlier_canary_callers_in_the_canary()
    {
        for (var i = 0; i < 2_000; i++)
        {
            if (CanarySplit.IsCanary("a-app", 2, $"k{i}", 0.1))
            {
                Assert.True(CanarySplit.IsCanary("a-app", 2, $"k{i}", 0.5));
            }
        }
    }
}
