using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.UnitTests.Apps;

public sealed class QuotaWindowsTests
{
    private static readonly DateTimeOffset Noon = new(2026, 11, 29, 12, 0, 30, TimeSpan.Zero);

    [Fact]
    public void Requests_per_minute_reset_on_the_next_calendar_minute()
    {
        var windows = new QuotaWindows();
        var quotas = new AppQuotas(2, 0);

        Assert.Null(windows.TryAdmit(Noon, 1, quotas));
        Assert.Null(windows.TryAdmit(Noon, 1, quotas));
        var refused = windows.TryAdmit(Noon, 1, quotas);

        Assert.Equal(AdmissionOutcome.RequestRateExceeded, refused!.Value.Outcome);
        Assert.Equal(TimeSpan.FromSeconds(30), refused.Value.RetryAfter);
        Assert.Null(windows.TryAdmit(Noon.AddSeconds(30), 1, quotas));
    }

    [Fact]
    public void Tokens_per_day_refuse_a_call_that_would_pass_the_quota_and_reset_at_midnight()
    {
        var windows = new QuotaWindows();
        var quotas = new AppQuotas(0, 100);

        Assert.Null(windows.TryAdmit(Noon, 60, quotas));
        var refused = windows.TryAdmit(Noon, 41, quotas);

        Assert.Equal(AdmissionOutcome.TokenQuotaExceeded, refused!.Value.Outcome);
        Assert.Equal(TimeSpan.FromHours(12) - TimeSpan.FromSeconds(30), refused.Value.RetryAfter);
        Assert.Null(windows.TryAdmit(Noon, 40, quotas));
        Assert.Null(windows.TryAdmit(Noon.AddHours(12), 100, quotas));
    }

    [Fact]
    public void A_refused_call_is_not_counted()
    {
        var windows = new QuotaWindows();
        var quotas = new AppQuotas(1, 0);

        Assert.Null(windows.TryAdmit(Noon, 1, quotas));
        Assert.NotNull(windows.TryAdmit(Noon, 1, quotas));

        Assert.Equal(1, windows.RequestsThisMinute(Noon));
    }

    [Fact]
    public void Zero_means_no_limit()
    {
        var windows = new QuotaWindows();

        for (var i = 0; i < 1000; i++)
        {
            Assert.Null(windows.TryAdmit(Noon, 1_000_000, new AppQuotas(0, 0)));
        }
    }

    [Fact]
    public void Usage_correction_replaces_the_estimate()
    {
        var windows = new QuotaWindows();
        windows.TryAdmit(Noon, 500, new AppQuotas(0, 0));

        windows.Correct(Noon, 500, 120);

        Assert.Equal(120, windows.TokensOn(Noon));
    }
}

public sealed class ApiKeyTests
{
    [Fact]
    public void A_formatted_key_parses_back()
    {
        var key = ApiKeys.Format("invoice-helper", "0a1b", KeyHasher.NewSecret());

        Assert.True(ApiKeys.TryParse(key, out var appId, out var keyId, out var secret));
        Assert.Equal("invoice-helper", appId);
        Assert.Equal("0a1b", keyId);
        Assert.Equal(43, secret.Length);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sk-abc")]
    [InlineData("mak.Invoice.k.s")]
    [InlineData("mak.invoice-helper.k")]
    [InlineData("mak.invoice-helper..s")]
    [InlineData("xyz.invoice-helper.k.s")]
    public void Malformed_keys_do_not_parse(string key) => Assert.False(ApiKeys.TryParse(key, out _, out _, out _));

    [Fact]
    public void A_hash_matches_only_its_own_secret_and_salt()
    {
        var salt = KeyHasher.NewSalt();
        var hash = KeyHasher.Hash(salt, "secret");

        Assert.True(KeyHasher.Matches(salt, hash, "secret"));
        Assert.False(KeyHasher.Matches(salt, hash, "secreT"));
        Assert.False(KeyHasher.Matches(KeyHasher.NewSalt(), hash, "secret"));
    }

    [Theory]
    [InlineData("ab", false)]
    [InlineData("abc", true)]
    [InlineData("-abc", false)]
    [InlineData("abc-", false)]
    [InlineData("a.bc", false)]
    [InlineData("invoice-helper-2", true)]
    public void App_ids_are_checked(string appId, bool valid) => Assert.Equal(valid, ApiKeys.IsValidAppId(appId));

    [Fact]
    public void Manifest_rules_name_each_bad_field()
    {
        var manifest = new AppManifest("", "o", "t", Audience.Internal, [], ["local"], "premium", new AppQuotas(-1, 0), "", "v1");

        var errors = AppManifestRules.Validate("ok-app", manifest);

        Assert.Equal(["defaultTier", "name", "quotas.requestsPerMinute"], errors.Keys.Order());
    }
}
