using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.GrainTests.Apps;

[Collection(ClusterCollection.Name)]
public sealed class AppLifecycleTests(ClusterFixture fixture)
{
    private const string Author = "author-alice";
    private const string Approver = "approver-bob";

    private static AppManifest Manifest(Audience audience = Audience.Internal, string promptVersion = "v1", AppQuotas? quotas = null) => new(
        "Lifecycle app", Author, "finance", audience, [], ["local", "standard"], "local", quotas ?? new AppQuotas(0, 0), "", promptVersion);

    private static string NewAppId() => $"lc-{Guid.NewGuid():N}"[..20];

    private static AdmissionRequest Request(IssuedKey key, string sticky = "", long tokens = 10)
    {
        Assert.True(ApiKeys.TryParse(key.ApiKey, out _, out var keyId, out var secret));
        return new AdmissionRequest(keyId, secret, tokens, sticky);
    }

    private static IReadOnlyList<GateResult> Passed() => [new GateResult("pii_scan", true, "no PII", ClusterFixture.Time.GetUtcNow())];

    /// <summary>A published v1 (admin bootstrap) and an approved v2 with another prompt version.</summary>
    private async Task<(IMicroAppGrain App, IssuedKey Key)> PublishedWithApprovedV2Async(Audience audience = Audience.Internal)
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateAsync(Manifest(audience));
        var key = await app.IssueKeyAsync("prod");
        await app.AddVersionAsync(Manifest(audience, "v2"), Author);
        await app.SubmitAsync(2, Author);
        var v2 = await app.RecordGatesAsync(2, Passed(), needsApprover: false);
        if (v2.State == VersionState.Submitted)
        {
            await app.DecideAsync(2, Approver, approve: true, "looks good");
        }

        return (app, key);
    }

    [Fact]
    public async Task A_draft_is_refused_to_a_production_key_and_served_to_a_test_key_under_test_quotas()
    {
        var appId = NewAppId();
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateDraftAsync(Manifest(), Author);
        var prod = await app.IssueKeyAsync("prod");
        var test = await app.IssueScopedKeyAsync(KeyKind.Test, Author, "mine", null);

        var refused = await app.AdmitAsync(Request(prod));
        Assert.Equal(AdmissionOutcome.NotPublished, refused.Outcome);
        Assert.Contains($"app '{appId}' has no published version", refused.Message);

        var served = await app.AdmitAsync(Request(test));
        Assert.Equal(AdmissionOutcome.Admitted, served.Outcome);
        Assert.Equal(ReleaseChannel.Test, served.Profile!.Channel);
        Assert.Equal(1, served.Profile.Version);
        Assert.Equal(Author, served.Profile.Owner);

        // Default test quotas: 10 requests a minute, whatever the app's own (unlimited) quotas say.
        for (var i = 1; i < 10; i++)
        {
            Assert.Equal(AdmissionOutcome.Admitted, (await app.AdmitAsync(Request(test))).Outcome);
        }

        var limited = await app.AdmitAsync(Request(test));
        Assert.Equal(AdmissionOutcome.RequestRateExceeded, limited.Outcome);
        Assert.StartsWith("test key:", limited.Message);
    }

    [Fact]
    public async Task Test_key_calls_are_counted_apart_from_production_quotas()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateAsync(Manifest(quotas: new AppQuotas(1, 0)));
        var prod = await app.IssueKeyAsync("prod");
        await app.AddVersionAsync(Manifest(promptVersion: "v2"), Author);
        var test = await app.IssueScopedKeyAsync(KeyKind.Test, Author, "mine", null);

        var testCall = await app.AdmitAsync(Request(test));
        Assert.Equal(AdmissionOutcome.Admitted, testCall.Outcome);
        Assert.Equal(2, testCall.Profile!.Version);

        Assert.Equal(AdmissionOutcome.Admitted, (await app.AdmitAsync(Request(prod))).Outcome);
        Assert.Equal(AdmissionOutcome.RequestRateExceeded, (await app.AdmitAsync(Request(prod))).Outcome);
    }

    [Fact]
    public async Task A_gate_key_serves_its_pinned_version_without_quotas()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateAsync(Manifest());
        await app.AddVersionAsync(Manifest(promptVersion: "v2"), Author);
        var gate = await app.IssueScopedKeyAsync(KeyKind.Gate, "promotion", "gate", null);

        for (var i = 0; i < 25; i++)
        {
            var admission = await app.AdmitAsync(Request(gate));
            Assert.Equal(AdmissionOutcome.Admitted, admission.Outcome);
            Assert.Equal(2, admission.Profile!.Version);
        }

        var info = await app.GetAsync();
        var summary = Assert.Single(info!.Keys);
        Assert.Equal(KeyKind.Gate, summary.Kind);
        Assert.Equal(2, summary.PinnedVersion);
    }

    [Fact]
    public async Task Refused_transitions_name_the_state_and_what_is_allowed()
    {
        var appId = NewAppId();
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateDraftAsync(Manifest(), Author);

        var promote = await Assert.ThrowsAsync<InvalidOperationException>(() => app.PromoteAsync(1, "admin"));
        Assert.Equal($"version 1 of app '{appId}' is draft; it can only move to submitted, not to published", promote.Message);

        await Assert.ThrowsAsync<InvalidOperationException>(() => app.DecideAsync(1, Approver, true, "ok"));
        await Assert.ThrowsAsync<KeyNotFoundException>(() => app.SubmitAsync(7, Author));
        Assert.Null(await app.GetVersionAsync(7));
    }

    [Fact]
    public async Task A_failed_gate_returns_the_version_to_draft_with_the_reasons()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateDraftAsync(Manifest(), Author);
        await app.SubmitAsync(1, Author);

        var v1 = await app.RecordGatesAsync(1, [new GateResult("pii_scan", false, "found ssn in tests[0].input", ClusterFixture.Time.GetUtcNow())], needsApprover: false);

        Assert.Equal(VersionState.Draft, v1.State);
        Assert.Contains("pii_scan: found ssn in tests[0].input", v1.History[^1].Reason);
        Assert.Equal(VersionState.Submitted, v1.History[^1].From);
    }

    [Fact]
    public async Task An_internal_app_whose_gates_pass_is_approved_automatically_with_tighter_quotas()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateDraftAsync(Manifest(quotas: new AppQuotas(100, 50_000)), Author);
        await app.SubmitAsync(1, Author);

        var v1 = await app.RecordGatesAsync(1, Passed(), needsApprover: false);

        Assert.Equal(VersionState.Approved, v1.State);
        Assert.True(v1.Approval!.Automatic);
        Assert.Equal("platform", v1.Approval.Approver);
        Assert.False(v1.NeedsApprover);

        // Auto-approval quotas (30 rpm, 100,000 tokens/day) are a ceiling: each limit the stricter.
        Assert.Equal(new AppQuotas(30, 50_000), v1.Manifest.Quotas);
    }

    [Fact]
    public async Task An_external_app_waits_in_the_approvals_queue_until_decided()
    {
        var appId = NewAppId();
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        var queue = fixture.Grains.GetGrain<IApprovalQueueGrain>(0);
        await app.CreateDraftAsync(Manifest(Audience.External), Author);
        await app.SubmitAsync(1, Author);

        var waiting = await app.RecordGatesAsync(1, Passed(), needsApprover: false);

        Assert.Equal(VersionState.Submitted, waiting.State);
        Assert.True(waiting.NeedsApprover);
        var pending = Assert.Single(await queue.ListAsync(), p => p.AppId == appId);
        Assert.Equal(Author, pending.Author);
        Assert.Equal(Audience.External, pending.Audience);

        var approved = await app.DecideAsync(1, Approver, approve: true, "checked the connectors");

        Assert.Equal(VersionState.Approved, approved.State);
        Assert.Equal(new ApprovalDecision(Approver, true, "checked the connectors", approved.Approval!.At, false), approved.Approval);
        Assert.DoesNotContain(await queue.ListAsync(), p => p.AppId == appId);
    }

    [Fact]
    public async Task An_internal_app_flagged_by_a_gate_needs_an_approver_and_can_be_rejected()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateDraftAsync(Manifest(), Author);
        await app.SubmitAsync(1, Author);

        Assert.Equal(VersionState.Submitted, (await app.RecordGatesAsync(1, Passed(), needsApprover: true)).State);
        var rejected = await app.DecideAsync(1, Approver, approve: false, "too expensive");

        Assert.Equal(VersionState.Rejected, rejected.State);
        Assert.Equal("too expensive", rejected.History[^1].Reason);
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.PromoteAsync(1, Approver));
    }

    [Fact]
    public async Task An_approver_cannot_approve_their_own_version()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateDraftAsync(Manifest(Audience.External), Author);
        await app.SubmitAsync(1, Author);
        await app.RecordGatesAsync(1, Passed(), needsApprover: false);

        var refused = await Assert.ThrowsAsync<UnauthorizedAccessException>(() => app.DecideAsync(1, Author, approve: true, "mine is fine"));

        Assert.Contains("cannot decide on it", refused.Message);
        Assert.Equal(VersionState.Submitted, (await app.GetVersionAsync(1))!.State);
    }

    [Fact]
    public async Task A_canary_takes_roughly_its_share_of_production_callers_sticky_by_key()
    {
        var (app, key) = await PublishedWithApprovedV2Async();
        await app.StartCanaryAsync(2, 0.25, Approver);

        // Auto-approval capped v2 at 30 requests a minute; an admin lifts the quotas for this many callers.
        await app.SetQuotasAsync(new AppQuotas(0, 0));

        var canary = 0;
        const int callers = 2_000;
        for (var i = 0; i < callers; i++)
        {
            var admission = await app.AdmitAsync(Request(key, sticky: $"user-{i}"));
            Assert.True(admission.IsAdmitted, admission.Message);
            if (admission.Profile!.Channel == ReleaseChannel.Canary)
            {
                Assert.Equal(2, admission.Profile.Version);
                Assert.Equal("v2", admission.Profile.PromptVersion);
                canary++;
            }
            else
            {
                Assert.Equal(1, admission.Profile.Version);
            }
        }

        Assert.InRange(canary / (double)callers, 0.21, 0.29);

        var first = (await app.AdmitAsync(Request(key, sticky: "user-7"))).Profile!.Version;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(first, (await app.AdmitAsync(Request(key, sticky: "user-7"))).Profile!.Version);
        }
    }

    [Fact]
    public async Task A_canary_needs_an_approved_version_and_a_published_one_beside_it()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateDraftAsync(Manifest(), Author);
        await app.SubmitAsync(1, Author);
        await app.RecordGatesAsync(1, Passed(), needsApprover: false);

        var none = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartCanaryAsync(1, 0.5, Approver));
        Assert.Contains("no published version", none.Message);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => app.StartCanaryAsync(1, 1.5, Approver));

        var published = await app.PromoteAsync(1, Approver);
        Assert.Equal(new AppRelease(1, null, 0), published.Release);
        Assert.Equal(VersionState.Published, published.Versions!.Single().State);
    }

    [Fact]
    public async Task Promoting_the_canary_publishes_it_and_supersedes_the_old_version()
    {
        var (app, key) = await PublishedWithApprovedV2Async();
        await app.StartCanaryAsync(2, 0.05, Approver);

        var info = await app.PromoteAsync(2, Approver);

        Assert.Equal(new AppRelease(2, null, 0), info.Release);
        Assert.Equal(VersionState.Superseded, info.Versions!.Single(v => v.Version == 1).State);
        Assert.Equal("v2", info.Manifest.PromptVersion);
        var admission = await app.AdmitAsync(Request(key, sticky: "anyone"));
        Assert.Equal((2, ReleaseChannel.Published), (admission.Profile!.Version, admission.Profile.Channel));
    }

    [Fact]
    public async Task Rolling_back_a_canary_sends_every_caller_to_the_published_version_on_the_next_call()
    {
        var (app, key) = await PublishedWithApprovedV2Async();
        await app.StartCanaryAsync(2, 1.0, Approver);
        Assert.Equal(2, (await app.AdmitAsync(Request(key, sticky: "u"))).Profile!.Version);

        var info = await app.RollbackAsync(Approver, "error rate up");

        Assert.Equal(1, (await app.AdmitAsync(Request(key, sticky: "u"))).Profile!.Version);
        Assert.Equal(new AppRelease(1, null, 0), info.Release);
        var v2 = info.Versions!.Single(v => v.Version == 2);
        Assert.Equal(VersionState.RolledBack, v2.State);
        Assert.Equal((Approver, "error rate up"), (v2.History[^1].Actor, v2.History[^1].Reason));
    }

    [Fact]
    public async Task Rolling_back_a_published_version_restores_the_one_it_superseded()
    {
        var (app, key) = await PublishedWithApprovedV2Async();
        await app.PromoteAsync(2, Approver);
        Assert.Equal(2, (await app.AdmitAsync(Request(key))).Profile!.Version);

        var info = await app.RollbackAsync(Approver, "bad answers");

        Assert.Equal(1, (await app.AdmitAsync(Request(key))).Profile!.Version);
        Assert.Equal(VersionState.Published, info.Versions!.Single(v => v.Version == 1).State);
        Assert.Equal(VersionState.RolledBack, info.Versions!.Single(v => v.Version == 2).State);

        var nothingLeft = await Assert.ThrowsAsync<InvalidOperationException>(() => app.RollbackAsync(Approver, "again"));
        Assert.Contains("no earlier published version", nothingLeft.Message);
    }

    [Fact]
    public async Task Feature_flags_are_read_with_a_valid_key_only()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateAsync(Manifest());
        var key = await app.IssueKeyAsync("prod");
        Assert.True(ApiKeys.TryParse(key.ApiKey, out _, out var keyId, out var secret));

        await app.SetFeatureFlagAsync("new-summary", true);
        await app.SetFeatureFlagAsync("beta.export", false);

        var flags = await app.GetFlagsAsync(keyId, secret);
        Assert.Equal(new Dictionary<string, bool> { ["beta.export"] = false, ["new-summary"] = true }, flags);
        Assert.Null(await app.GetFlagsAsync(keyId, "wrong"));
        await Assert.ThrowsAsync<ArgumentException>(() => app.SetFeatureFlagAsync("Bad Name", true));
    }

    [Fact]
    public async Task A_retired_app_refuses_every_key_and_stays_retired()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateAsync(Manifest());
        var prod = await app.IssueKeyAsync("prod");
        var test = await app.IssueScopedKeyAsync(KeyKind.Test, Author, "t", 1);

        await app.SetLifecycleAsync(AppLifecycle.Retired);

        var refused = await app.AdmitAsync(Request(prod));
        Assert.Equal(AdmissionOutcome.Suspended, refused.Outcome);
        Assert.Contains("retired", refused.Message);
        Assert.Equal(AdmissionOutcome.Suspended, (await app.AdmitAsync(Request(test))).Outcome);
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.SetLifecycleAsync(AppLifecycle.Active));
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.IssueScopedKeyAsync(KeyKind.Test, Author, "t2", null));
        await Assert.ThrowsAsync<InvalidOperationException>(() => app.AddVersionAsync(Manifest(promptVersion: "v9"), Author));
    }

    [Fact]
    public async Task Retiring_an_app_takes_its_versions_off_the_approvals_queue()
    {
        var appId = NewAppId();
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        var queue = fixture.Grains.GetGrain<IApprovalQueueGrain>(0);
        await app.CreateDraftAsync(Manifest(Audience.External), Author);
        await app.SubmitAsync(1, Author);
        await app.RecordGatesAsync(1, Passed(), needsApprover: false);
        Assert.Contains(await queue.ListAsync(), p => p.AppId == appId);

        await app.SetLifecycleAsync(AppLifecycle.Retired);

        Assert.DoesNotContain(await queue.ListAsync(), p => p.AppId == appId);
    }

    [Fact]
    public async Task Policy_quotas_cap_the_app_quotas_and_an_override_replaces_them()
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(NewAppId());
        await app.CreateAsync(Manifest(quotas: new AppQuotas(5, 0)));
        var key = await app.IssueKeyAsync("prod");

        var capped = Request(key) with { PolicyQuotas = new PolicyQuotas(new AppQuotas(2, 0), IsAppOverride: false) };
        Assert.True((await app.AdmitAsync(capped)).IsAdmitted);
        Assert.True((await app.AdmitAsync(capped)).IsAdmitted);
        Assert.Equal(AdmissionOutcome.RequestRateExceeded, (await app.AdmitAsync(capped)).Outcome);

        var overridden = Request(key) with { PolicyQuotas = new PolicyQuotas(new AppQuotas(10, 0), IsAppOverride: true) };
        Assert.True((await app.AdmitAsync(overridden)).IsAdmitted);
    }

    [Fact]
    public async Task Versions_release_and_flags_survive_deactivation()
    {
        var (app, key) = await PublishedWithApprovedV2Async();
        await app.StartCanaryAsync(2, 0.5, Approver);
        await app.SetFeatureFlagAsync("x", true);
        var test = await app.IssueScopedKeyAsync(KeyKind.Test, Author, "t", 2);
        while ((await app.AdmitAsync(Request(test))).IsAdmitted)
        {
        }

        var before = await app.GetAsync();

        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        // The test-key window lives in memory only: admitted again proves the grain was reactivated from storage.
        Assert.True((await app.AdmitAsync(Request(test))).IsAdmitted);
        var after = await app.GetAsync();
        Assert.Equal(before!.Release, after!.Release);
        Assert.Equal(before.Versions!.Select(v => (v.Version, v.State, v.History.Count)), after.Versions!.Select(v => (v.Version, v.State, v.History.Count)));
        Assert.Equal(before.Flags, after.Flags);
        Assert.True((await app.AdmitAsync(Request(key, "z"))).IsAdmitted);
    }

    [Fact]
    public async Task The_approvals_queue_adds_and_removes_idempotently()
    {
        var queue = fixture.Grains.GetGrain<IApprovalQueueGrain>(0);
        var appId = NewAppId();
        var pending = new PendingApproval(appId, 3, Author, "finance", Audience.External, ClusterFixture.Time.GetUtcNow(), []);

        await queue.AddAsync(pending);
        await queue.AddAsync(pending);
        Assert.Single(await queue.ListAsync(), p => p.AppId == appId);

        await queue.RemoveAsync(appId, 3);
        await queue.RemoveAsync(appId, 3);
        Assert.DoesNotContain(await queue.ListAsync(), p => p.AppId == appId);
    }

    [Fact]
    public async Task Starting_the_running_canary_again_changes_its_share_and_a_second_canary_is_refused()
    {
        var (app, _) = await PublishedWithApprovedV2Async();
        await app.StartCanaryAsync(2, 0.2, Approver);

        var info = await app.StartCanaryAsync(2, double.NaN, Approver);

        // NaN takes Lifecycle:DefaultCanaryShare (0.1).
        Assert.Equal(new AppRelease(1, 2, 0.1), info.Release);
        Assert.Contains("canary share set to 0.1", info.Versions!.Single(v => v.Version == 2).History[^1].Reason);

        await app.AddVersionAsync(Manifest(promptVersion: "v3"), Author);
        await app.SubmitAsync(3, Author);
        await app.RecordGatesAsync(3, Passed(), needsApprover: false);
        var second = await Assert.ThrowsAsync<InvalidOperationException>(() => app.StartCanaryAsync(3, 0.5, Approver));
        Assert.Contains("version 2", second.Message);
    }
}
