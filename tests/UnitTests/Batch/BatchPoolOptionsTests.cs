using MicroApps.Orleans.Batch;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.UnitTests.Batch;

public sealed class BatchPoolOptionsTests
{
    private static readonly DateTimeOffset Day = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);

    private static BatchPoolOptionsValidator Validator(params string[] tiers)
    {
        var catalog = new ModelCatalogOptions();
        foreach (var tier in tiers)
        {
            catalog.Tiers[tier] = new ModelTierOptions();
        }

        return new BatchPoolOptionsValidator(Options.Create(catalog));
    }

    [Theory]
    [InlineData("02:00", "04:00", 1, false)]
    [InlineData("02:00", "04:00", 2, true)]
    [InlineData("02:00", "04:00", 4, false)]
    [InlineData("22:00", "06:00", 23, true)]
    [InlineData("22:00", "06:00", 3, true)]
    [InlineData("22:00", "06:00", 6, false)]
    [InlineData("22:00", "06:00", 12, false)]
    public void The_off_peak_window_is_open_from_its_start_until_before_its_end_even_across_midnight(string start, string end, int hour, bool open)
    {
        var options = new BatchPoolOptions { OffPeakStart = start, OffPeakEnd = end };

        Assert.Equal(open, options.IsOpen(Day.AddHours(hour)));
    }

    [Fact]
    public void A_pool_without_a_window_is_always_open()
    {
        var options = new BatchPoolOptions();

        Assert.All(Enumerable.Range(0, 24), h => Assert.True(options.IsOpen(Day.AddHours(h))));
    }

    [Fact]
    public void The_defaults_are_valid_when_the_local_tier_exists()
    {
        Assert.True(Validator("local").Validate(null, new BatchPoolOptions()).Succeeded);
    }

    [Theory]
    [InlineData("Tier", "premium", "Tier 'premium' is not a configured tier")]
    [InlineData("MaxConcurrent", "0", "MaxConcurrent must be between 1 and 256")]
    [InlineData("OffPeakStart", "25:00", "OffPeakStart must be a UTC time of day")]
    [InlineData("OnlyStart", "02:00", "OffPeakStart and OffPeakEnd are set together")]
    [InlineData("SameTimes", "02:00", "must differ")]
    [InlineData("PollInterval", "0", "PollInterval must be greater than 0")]
    [InlineData("ReminderPeriod", "30", "ReminderPeriod must be at least 00:01:00")]
    [InlineData("MaxItemsPerJob", "0", "MaxItemsPerJob must be between 1 and 10000")]
    [InlineData("MaxAttempts", "0", "MaxAttempts must be between 1 and 20")]
    public void A_wrong_setting_stops_the_host_naming_it(string setting, string value, string message)
    {
        var options = new BatchPoolOptions();
        switch (setting)
        {
            case "Tier": options.Tier = value; break;
            case "MaxConcurrent": options.MaxConcurrent = int.Parse(value); break;
            case "OffPeakStart": (options.OffPeakStart, options.OffPeakEnd) = (value, "04:00"); break;
            case "OnlyStart": options.OffPeakStart = value; break;
            case "SameTimes": (options.OffPeakStart, options.OffPeakEnd) = (value, value); break;
            case "PollInterval": options.PollInterval = TimeSpan.FromSeconds(int.Parse(value)); break;
            case "ReminderPeriod": options.ReminderPeriod = TimeSpan.FromSeconds(int.Parse(value)); break;
            case "MaxItemsPerJob": options.MaxItemsPerJob = int.Parse(value); break;
            case "MaxAttempts": options.MaxAttempts = int.Parse(value); break;
        }

        var result = Validator("local", "standard").Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains(message, result.FailureMessage);
        Assert.Contains("Savings:BatchPool", result.FailureMessage);
    }

    [Theory]
    [InlineData("item-1", true)]
    [InlineData("2026-11-29:sales.v2", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("a/b", false)]
    public void Custom_ids_are_short_and_safe_in_a_request_id(string customId, bool valid)
    {
        Assert.Equal(valid, BatchJobRules.IsValidCustomId(customId));
        Assert.False(BatchJobRules.IsValidCustomId(new string('a', BatchJobRules.MaxCustomIdLength + 1)));
    }

    [Fact]
    public void Each_attempt_of_an_item_has_its_own_request_id_and_the_first_is_the_plain_one()
    {
        var jobId = BatchJobRules.NewJobId();

        Assert.True(BatchJobRules.IsValidJobId(jobId));
        Assert.Equal($"batch/{jobId}/a", BatchJobRules.RequestId(jobId, "a", 1));
        Assert.Equal($"batch/{jobId}/a/2", BatchJobRules.RequestId(jobId, "a", 2));
        Assert.False(BatchJobRules.IsValidJobId("batch_XYZ"));
    }
}
