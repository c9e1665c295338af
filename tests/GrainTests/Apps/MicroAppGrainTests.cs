using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.GrainTests.Apps;

[Collection(ClusterCollection.Name)]
public sealed class MicroAppGrainTests(ClusterFixture fixture)
{
    internal static AppManifest Manifest(AppQuotas? quotas = null) => new(
        "Invoice helper", "ada@example.org", "finance", Audience.Internal, ["email"], ["local", "standard"], "local",
        quotas ?? new AppQuotas(0, 0), "", "v1");

    private async Task<(IMicroAppGrain App, string AppId, IssuedKey Key)> NewAppAsync(AppQuotas? quotas = null)
    {
        var appId = $"app-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(Manifest(quotas));
        var key = await app.IssueKeyAsync("test");
        return (app, appId, key);
    }

    private static AdmissionRequest Request(IssuedKey key, long tokens = 10)
    {
        Assert.True(ApiKeys.TryParse(key.ApiKey, out _, out var keyId, out var secret));
        return new AdmissionRequest(keyId, secret, tokens);
    }

    [Fact]
    public async Task An_issued_key_admits_and_returns_the_app_profile()
    {
        var (app, appId, key) = await NewAppAsync();

        var admission = await app.AdmitAsync(Request(key));

        Assert.Equal(AdmissionOutcome.Admitted, admission.Outcome);
        Assert.Equal(appId, admission.Profile!.AppId);
        Assert.Equal($"app:{appId}", admission.Profile.BudgetId);
        Assert.Equal("finance", admission.Profile.Team);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused()
    {
        var (app, _, key) = await NewAppAsync();
        var request = Request(key) with { KeySecret = "not-the-secret" };

        Assert.Equal(AdmissionOutcome.InvalidKey, (await app.AdmitAsync(request)).Outcome);
    }

    [Fact]
    public async Task The_secret_is_never_listed()
    {
        var (app, _, key) = await NewAppAsync();
        Assert.True(ApiKeys.TryParse(key.ApiKey, out _, out _, out var secret));

        var info = await app.GetAsync();

        Assert.Single(info!.Keys);
        Assert.DoesNotContain(secret, info.ToString());
    }

    [Fact]
    public async Task A_revoked_key_is_refused()
    {
        var (app, _, key) = await NewAppAsync();

        Assert.True(await app.RevokeKeyAsync(key.KeyId));
        Assert.False(await app.RevokeKeyAsync(key.KeyId));

        Assert.Equal(AdmissionOutcome.RevokedKey, (await app.AdmitAsync(Request(key))).Outcome);
    }

    [Fact]
    public async Task A_suspended_app_is_refused_until_resumed()
    {
        var (app, _, key) = await NewAppAsync();

        await app.SetLifecycleAsync(AppLifecycle.Suspended);
        Assert.Equal(AdmissionOutcome.Suspended, (await app.AdmitAsync(Request(key))).Outcome);

        await app.SetLifecycleAsync(AppLifecycle.Active);
        Assert.Equal(AdmissionOutcome.Admitted, (await app.AdmitAsync(Request(key))).Outcome);
    }

    [Fact]
    public async Task Requests_per_minute_are_limited_until_the_next_minute()
    {
        var (app, _, key) = await NewAppAsync(new AppQuotas(3, 0));

        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(AdmissionOutcome.Admitted, (await app.AdmitAsync(Request(key))).Outcome);
        }

        var refused = await app.AdmitAsync(Request(key));
        Assert.Equal(AdmissionOutcome.RequestRateExceeded, refused.Outcome);
        Assert.InRange(refused.RetryAfter!.Value, TimeSpan.FromTicks(1), TimeSpan.FromMinutes(1));

        ClusterFixture.Time.Advance(refused.RetryAfter.Value);
        Assert.Equal(AdmissionOutcome.Admitted, (await app.AdmitAsync(Request(key))).Outcome);
    }

    [Fact]
    public async Task Tokens_per_day_count_real_usage()
    {
        var (app, _, key) = await NewAppAsync(new AppQuotas(0, 100));

        Assert.True((await app.AdmitAsync(Request(key, 80))).IsAdmitted);
        Assert.Equal(AdmissionOutcome.TokenQuotaExceeded, (await app.AdmitAsync(Request(key, 30))).Outcome);

        // The call used 50 of the 80 it was admitted for. The correction is one-way, and one-way
        // messages are not ordered with later calls, so wait for it to be applied.
        await app.RecordUsageAsync(80, 50);
        await Eventually.TrueAsync(async () => (await app.GetQuotaUsageAsync()).TokensToday != 80, "the usage correction");

        Assert.Equal(50, (await app.GetQuotaUsageAsync()).TokensToday);
        Assert.True((await app.AdmitAsync(Request(key, 30))).IsAdmitted);
    }

    [Fact]
    public async Task Creating_again_with_the_same_manifest_is_a_no_op_and_with_another_is_refused()
    {
        var (app, appId, _) = await NewAppAsync();

        var again = await app.CreateAsync(Manifest());
        Assert.Equal(appId, again.AppId);
        Assert.Single(again.Keys);

        await Assert.ThrowsAsync<InvalidOperationException>(() => app.CreateAsync(Manifest() with { Team = "sales" }));
        Assert.Contains(appId, await fixture.Grains.GetGrain<IAppRegistryGrain>(0).ListAsync());
    }

    [Fact]
    public async Task An_invalid_manifest_names_the_field()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>($"app-{Guid.NewGuid():N}"[..20]);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => app.CreateAsync(Manifest() with { DefaultTier = "premium" }));

        Assert.Contains("defaultTier", error.Message);
        Assert.Null(await app.GetAsync());
    }

    [Fact]
    public async Task A_missing_app_is_unknown()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>("no-such-app");

        var admission = await app.AdmitAsync(new AdmissionRequest("k", "s", 1));

        Assert.Equal(AdmissionOutcome.UnknownApp, admission.Outcome);
    }
}
