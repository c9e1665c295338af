using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Savings;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Storage;
using Orleans.TestingHost;

namespace MicroApps.Orleans.GrainTests.Savings;

/// <summary>The app grain adapts its premium share to the budget's burn rate, on the shared fake clock.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PremiumShareGrainTests(ClusterFixture fixture)
{
    private static readonly TimeSpan AdjustEvery = new SamplingOptions().AdjustEvery;

    private sealed record SampledApp(string AppId, IMicroAppGrain Grain, AdmissionRequest Admission, IBudgetGrain Budget);

    private async Task<SampledApp> NewAppAsync(PremiumSampling? sampling, decimal limitUsd = 10m)
    {
        var appId = $"ps-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest(
            "Sampling test", "ada@example.org", "finance", Audience.Internal, [], ["standard", "premium"], "premium", new AppQuotas(0, 0), "", "v1",
            Savings: sampling is null ? null : new SavingsSettings(Sampling: sampling)));
        var key = await app.IssueKeyAsync("test");
        Assert.True(ApiKeys.TryParse(key.ApiKey, out _, out var keyId, out var secret));
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}");
        await budget.ConfigureAsync(new BudgetSettings(limitUsd, BudgetPeriod.Day));
        return new SampledApp(appId, app, new AdmissionRequest(keyId, secret, 10), budget);
    }

    private static async Task<double?> AdmittedShareAsync(SampledApp app)
    {
        var admission = await app.Grain.AdmitAsync(app.Admission);
        Assert.Equal(AdmissionOutcome.Admitted, admission.Outcome);
        return admission.Profile!.PremiumShare;
    }

    private static async Task SpendAsync(SampledApp app, decimal usd)
    {
        var id = $"{app.AppId}/{Guid.NewGuid():N}";
        Assert.True((await app.Budget.ReserveAsync(id, usd)).IsGranted);
        Assert.Equal(SettleOutcome.Settled, (await app.Budget.SettleAsync(id, usd)).Outcome);
    }

    /// <summary>Moves the shared clock to <paramref name="hour"/>:00 of the next UTC day, so a day budget starts a fresh period.</summary>
    private static void StartOfNextDayAt(int hour)
    {
        var now = ClusterFixture.Time.GetUtcNow();
        ClusterFixture.Time.SetUtcNow(new DateTimeOffset(now.Year, now.Month, now.Day, 0, 0, 0, TimeSpan.Zero).AddDays(1).AddHours(hour));
    }

    [Fact]
    public async Task An_app_without_sampling_has_no_premium_share()
    {
        var app = await NewAppAsync(sampling: null);

        Assert.Null(await AdmittedShareAsync(app));
        var status = await app.Grain.GetPremiumShareAsync();
        Assert.False(status!.Sampling);
        Assert.Null(status.PremiumShare);
        Assert.Null(status.LastAdjustedAt);
        Assert.Null(await fixture.Grains.GetGrain<IMicroAppGrain>("ps-no-such-app").GetPremiumShareAsync());
    }

    [Fact]
    public async Task A_fast_burning_budget_lowers_the_share_within_one_interval_down_to_the_minimum_and_it_rises_back_to_the_maximum_when_spend_is_under_pace()
    {
        StartOfNextDayAt(2);
        var app = await NewAppAsync(new PremiumSampling(0.2, 0.9));

        // The first sampled call starts the app at its maximum.
        Assert.Equal(0.9, await AdmittedShareAsync(app));

        // Half the day's budget at 02:00 (1/12 of the day): far ahead of pace.
        await SpendAsync(app, 5m);
        Assert.Equal(0.9, await AdmittedShareAsync(app));

        ClusterFixture.Time.Advance(AdjustEvery);
        Assert.Equal(0.45, (await AdmittedShareAsync(app))!.Value, 10);
        var status = await app.Grain.GetPremiumShareAsync();
        Assert.True(status!.Sampling);
        Assert.Equal(0.45, status.PremiumShare!.Value, 10);
        Assert.Equal(0.2, status.MinShare);
        Assert.Equal(0.9, status.MaxShare);
        Assert.Equal(0.5, status.SpentShare!.Value, 10);
        Assert.True(status.BurnRatio > 5, $"burn ratio {status.BurnRatio}");
        Assert.Equal(ClusterFixture.Time.GetUtcNow(), status.LastAdjustedAt);
        Assert.Equal($"app:{app.AppId}", status.BudgetId);

        // Within the interval nothing is recomputed, however many calls come.
        Assert.Equal(0.45, (await AdmittedShareAsync(app))!.Value, 10);

        var shares = new List<double>();
        for (var i = 0; i < 4; i++)
        {
            ClusterFixture.Time.Advance(AdjustEvery);
            shares.Add((await AdmittedShareAsync(app))!.Value);
        }

        Assert.Equal([0.225, 0.2, 0.2, 0.2], shares.Select(s => Math.Round(s, 10)));

        // Later the same day the period has caught up with the spend (50% spent at 14:00 = 58% of the day).
        ClusterFixture.Time.Advance(TimeSpan.FromHours(12));
        shares.Clear();
        for (var i = 0; i < 10; i++)
        {
            ClusterFixture.Time.Advance(AdjustEvery);
            shares.Add((await AdmittedShareAsync(app))!.Value);
        }

        Assert.Equal(0.3, shares[0], 10);
        Assert.True(shares.Zip(shares.Skip(1)).All(p => p.Second >= p.First), string.Join(", ", shares));
        Assert.Equal(0.9, shares[^1], 10);
        Assert.Equal(0.9, (await app.Grain.GetPremiumShareAsync())!.PremiumShare!.Value, 10);
    }

    [Fact]
    public async Task The_share_survives_a_reactivation_of_the_app()
    {
        StartOfNextDayAt(1);
        var app = await NewAppAsync(new PremiumSampling(0.1, 1));
        Assert.Equal(1, await AdmittedShareAsync(app));
        await SpendAsync(app, 8m);
        ClusterFixture.Time.Advance(AdjustEvery);
        Assert.Equal(0.5, await AdmittedShareAsync(app));

        // Saved behind: the deactivation flushes it with the token counter, and a new activation reads it back.
        await app.Grain.AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        await Eventually.TrueAsync(async () => (await StoredAsync(app.Grain))?.PremiumShare?.Share == 0.5, "the share saved at deactivation");

        var status = (await app.Grain.GetPremiumShareAsync())!;
        Assert.Equal(0.5, status.PremiumShare);
        Assert.Equal(0.8, status.SpentShare!.Value, 10);
    }

    private async Task<MicroAppState?> StoredAsync(IMicroAppGrain grain)
    {
        var store = ((fixture.Cluster.Primary as InProcessSiloHandle)?.SiloHost?.Services ?? throw new InvalidOperationException("the primary silo runs in this process"))
            .GetRequiredKeyedService<IGrainStorage>("store");
        var stored = new GrainState<MicroAppState>(new MicroAppState());
        await store.ReadStateAsync("app", grain.GetGrainId(), stored);
        return stored.RecordExists ? stored.State : null;
    }
}
