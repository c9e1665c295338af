using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Audit;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>
/// The governance state (policy set, prompt registry, app versions and release, feature flags, audit chain) survives
/// a full restart: silo and Azurite, both stopped cleanly, on the same service id.
/// </summary>
public sealed class GovernanceDurabilityTests(AzuriteFixture storage) : IClassFixture<AzuriteFixture>
{
    private const string Author = "author-alice";
    private const string Admin = "admin";
    private const string FlagName = "new-summary";
    private const long TokensPerCall = 10;

    [Fact]
    public async Task Policies_prompts_versions_release_flags_and_audit_survive_a_restart_of_the_silo_and_of_azurite()
    {
        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        var appId = TestEnvironment.NewId("gov");
        var promptName = TestEnvironment.NewId("prompt");
        var forkName = TestEnvironment.NewId("fork");
        var policyV1 = RequireApproval(appId);
        var policyV2 = BlockEmail(appId);
        var matchingFacts = new PolicyFacts(appId, "finance", "internal", ["email"], ["email"], "local", false, 100, 0m, "v1", "caller");
        const string promptV1 = "Summarise the text in three sentences.";
        const string promptV2 = "Summarise the text in three sentences, in plain words, without names.";
        var manifestV1 = new AppManifest("Governed app", "owner@example.org", "finance", Audience.Internal, ["email"],
            ["local"], "local", new AppQuotas(0, 0), "", "v1");
        var manifestV2 = manifestV1 with { Prompts = [new PromptPin(promptName, 2)] };
        var auditRecords = new[]
        {
            new AuditRecord(Admin, "admin", "policy.published", "policy:default", "version 2"),
            new AuditRecord(Author, "author", "app.version.submitted", $"app:{appId}", "version 2"),
            new AuditRecord(Admin, "admin", "app.canary_started", $"app:{appId}", "version 2 at 0.5"),
        };

        IReadOnlyList<PolicySetVersion> policiesBefore;
        IReadOnlyList<PromptVersionInfo> promptBefore;
        PromptVersionInfo forkBefore;
        IssuedKey key;
        AppVersionInfo v2Before;
        long tokensBefore;
        var sidesBefore = new Dictionary<string, (int Version, ReleaseChannel Channel)>();
        var appended = new List<AuditEntry>();

        await using (var silo = await SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId))
        {
            await using var client = await ClusterClient.ConnectAsync(storage.ConnectionString, clusterId, serviceId);
            var grains = client.Grains;

            // Policy set: two accepted versions and a refused one that must not become active.
            var policies = grains.GetGrain<IPolicySetGrain>("default");
            Assert.Equal(1, Accepted(await policies.PublishAsync(policyV1, Admin, "first")).ActiveVersion);
            Assert.Equal(2, Accepted(await policies.PublishAsync(policyV2, Admin, "second")).ActiveVersion);
            var refused = await policies.PublishAsync("policies:\n  - id: broken\n    action: route\n", Admin, "broken");
            Assert.False(refused.Accepted);
            Assert.NotEmpty(refused.Errors);
            Assert.Equal(2, refused.ActiveVersion);
            policiesBefore = await policies.ListVersionsAsync();
            Assert.Equal([1, 2], policiesBefore.Select(v => v.Version));
            Assert.True((await policies.EvaluateAsync(matchingFacts)).Blocked);

            // Prompt registry: two versions, and version 1 forked into another prompt.
            var prompt = grains.GetGrain<IPromptGrain>(promptName);
            Assert.Equal(1, (await prompt.PublishVersionAsync(promptV1, Author, "first cut", null)).Version);
            Assert.Equal(2, (await prompt.PublishVersionAsync(promptV2, Author, "plainer", null)).Version);
            forkBefore = await prompt.ForkAsync(forkName, Author, "team copy", 1);
            Assert.Equal(1, forkBefore.Version);
            Assert.Equal($"{promptName}@1", forkBefore.ForkedFrom);
            promptBefore = await prompt.ListVersionsAsync();

            // App: v1 published by the admin bootstrap, v2 through the lifecycle into a canary at half the callers.
            var app = grains.GetGrain<IMicroAppGrain>(appId);
            await app.CreateAsync(manifestV1);
            key = await app.IssueKeyAsync("production");
            Assert.Equal(2, (await app.AddVersionAsync(manifestV2, Author)).Version);
            Assert.Equal(VersionState.Submitted, (await app.SubmitAsync(2, Author)).State);
            var gates = GateNames.InOrder.Select(g => new GateResult(g, true, $"{g} passed", DateTimeOffset.UtcNow)).ToList();
            var approved = await app.RecordGatesAsync(2, gates, needsApprover: false);
            Assert.Equal(VersionState.Approved, approved.State);
            Assert.True(approved.Approval is { Approved: true, Automatic: true });
            var canary = await app.StartCanaryAsync(2, 0.5, Admin);
            Assert.Equal(new AppRelease(1, 2, 0.5), canary.Release);
            Assert.True((await app.SetFeatureFlagAsync(FlagName, true)).Flags![FlagName]);
            v2Before = (await app.GetVersionAsync(2))!;

            // Sticky callers on both sides of the split, so the comparison after the restart covers both.
            Assert.True(ApiKeys.TryParse(key.ApiKey, out _, out var keyId, out var secret));
            for (var i = 0; i < 24 && (sidesBefore.Values.Count(s => s.Version == 1) < 2 || sidesBefore.Values.Count(s => s.Version == 2) < 2); i++)
            {
                var stickyKey = $"caller-{i}";
                var admission = await app.AdmitAsync(new AdmissionRequest(keyId, secret, TokensPerCall, stickyKey));
                Assert.Equal(AdmissionOutcome.Admitted, admission.Outcome);
                sidesBefore[stickyKey] = (admission.Profile!.Version, admission.Profile.Channel);
            }

            Assert.True(sidesBefore.Values.Count(s => s is (1, ReleaseChannel.Published)) >= 2, Describe(sidesBefore));
            Assert.True(sidesBefore.Values.Count(s => s is (2, ReleaseChannel.Canary)) >= 2, Describe(sidesBefore));
            tokensBefore = (await app.GetQuotaUsageAsync()).TokensToday;
            Assert.Equal(sidesBefore.Count * TokensPerCall, tokensBefore);

            var audit = grains.GetGrain<IAuditLogGrain>("default");
            foreach (var record in auditRecords)
            {
                appended.Add(await audit.AppendAsync(record));
            }

            Assert.Equal([1L, 2L, 3L], appended.Select(e => e.Sequence));

            await silo.StopAsync();
            Assert.Equal(0, silo.ExitCode);
        }

        await storage.Azurite.RestartAsync();

        await using (var silo = await SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId))
        {
            await using var client = await ClusterClient.ConnectAsync(storage.ConnectionString, clusterId, serviceId);
            var grains = client.Grains;

            // Policy set: version 2 still active with the same content, both versions listed, and it still judges.
            var policies = grains.GetGrain<IPolicySetGrain>("default");
            var active = await policies.GetActiveAsync();
            Assert.NotNull(active);
            Assert.Equal(2, active.Version);
            Assert.Equal(policyV2, active.Yaml);
            Assert.Equal(policiesBefore[1].ContentHash, active.ContentHash);
            var policiesAfter = await policies.ListVersionsAsync();
            Assert.Equal(policiesBefore.Select(v => (v.Version, v.ContentHash, v.Author, v.Comment, v.CreatedAt)),
                policiesAfter.Select(v => (v.Version, v.ContentHash, v.Author, v.Comment, v.CreatedAt)));
            var decision = await policies.EvaluateAsync(matchingFacts);
            Assert.Equal(2, decision.PolicyVersion);
            Assert.True(decision.Blocked);
            Assert.Equal($"no-email-{appId}", decision.BlockedBy?.PolicyId);
            Assert.False((await policies.EvaluateAsync(matchingFacts with { AppId = "someone-else" })).Blocked);
            // The version counter survived too (and the refused document never took a number): the next one is 3.
            Assert.Equal(3, Accepted(await policies.PublishAsync(policyV1, Admin, "third")).ActiveVersion);

            // Prompts: versions, texts, hashes and the fork's lineage.
            var promptAfter = await grains.GetGrain<IPromptGrain>(promptName).ListVersionsAsync();
            Assert.Equal(promptBefore.Select(p => (p.Version, p.Text, p.ContentHash, p.ForkedFrom, p.CreatedAt)),
                promptAfter.Select(p => (p.Version, p.Text, p.ContentHash, p.ForkedFrom, p.CreatedAt)));
            Assert.Equal([PromptNames.Hash(promptV1), PromptNames.Hash(promptV2)], promptAfter.Select(p => p.ContentHash));
            var forkAfter = Assert.Single(await grains.GetGrain<IPromptGrain>(forkName).ListVersionsAsync());
            Assert.Equal($"{promptName}@1", forkAfter.ForkedFrom);
            Assert.Equal(promptV1, forkAfter.Text);
            Assert.Equal(forkBefore.ContentHash, forkAfter.ContentHash);
            var listed = (await grains.GetGrain<IPromptRegistryGrain>(0).ListAsync()).ToDictionary(p => p.Name);
            Assert.Equal(2, listed[promptName].LatestVersion);
            Assert.Equal($"{promptName}@1", listed[forkName].ForkedFrom);

            // App: release, versions with gates, automatic approval and history, key and flag.
            var app = grains.GetGrain<IMicroAppGrain>(appId);
            var info = await app.GetAsync();
            Assert.NotNull(info);
            Assert.Equal(new AppRelease(1, 2, 0.5), info.Release);
            Assert.Equal([(1, VersionState.Published), (2, VersionState.Canary)], info.Versions!.Select(v => (v.Version, v.State)));
            var issued = Assert.Single(info.Keys);
            Assert.Equal((key.KeyId, KeyKind.Production, (DateTimeOffset?)null), (issued.KeyId, issued.Kind, issued.RevokedAt));
            Assert.True(info.Flags![FlagName]);
            Assert.Contains(appId, await grains.GetGrain<IAppRegistryGrain>(0).ListAsync());

            var v2After = await app.GetVersionAsync(2);
            Assert.NotNull(v2After);
            Assert.Equal(VersionState.Canary, v2After.State);
            Assert.Equal(Author, v2After.Author);
            Assert.Equal(v2Before.CreatedAt, v2After.CreatedAt);
            Assert.Equal([new PromptPin(promptName, 2)], v2After.Manifest.Prompts!);
            // Auto-approval tightened v2's quotas; that rewrite is part of what must survive.
            Assert.Equal(v2Before.Manifest.Quotas, v2After.Manifest.Quotas);
            Assert.NotEqual(manifestV1.Quotas, v2After.Manifest.Quotas);
            Assert.Equal(GateNames.InOrder, v2After.Gates.Select(g => g.Gate));
            Assert.Equal(v2Before.Gates, v2After.Gates);
            Assert.All(v2After.Gates, g => Assert.True(g.Passed));
            Assert.NotNull(v2After.Approval);
            Assert.Equal(v2Before.Approval, v2After.Approval);
            Assert.True(v2After.Approval.Automatic);
            Assert.False(v2After.NeedsApprover);
            Assert.Equal(v2Before.History, v2After.History);
            Assert.Equal(
                [(VersionState.Draft, VersionState.Draft), (VersionState.Draft, VersionState.Submitted),
                 (VersionState.Submitted, VersionState.Approved), (VersionState.Approved, VersionState.Canary)],
                v2After.History.Select(t => (t.From, t.To)));

            Assert.True(ApiKeys.TryParse(key.ApiKey, out _, out var keyId, out var secret));
            var flags = await app.GetFlagsAsync(keyId, secret);
            Assert.NotNull(flags);
            Assert.True(flags[FlagName]);

            // Tokens counted before the stop were saved at deactivation.
            Assert.Equal(tokensBefore, (await app.GetQuotaUsageAsync()).TokensToday);

            // Every sticky caller lands on the side it was on before the restart.
            foreach (var (stickyKey, side) in sidesBefore)
            {
                var admission = await app.AdmitAsync(new AdmissionRequest(keyId, secret, TokensPerCall, stickyKey));
                Assert.Equal(AdmissionOutcome.Admitted, admission.Outcome);
                Assert.Equal((stickyKey, side), (stickyKey, (admission.Profile!.Version, admission.Profile.Channel)));
                Assert.Equal(side.Version == 2 ? $"{promptName}@2" : manifestV1.PromptVersion, admission.Profile.PromptVersion);
            }

            // Audit: the records in order (newest first), the chain intact, and the head continues it.
            var audit = grains.GetGrain<IAuditLogGrain>("default");
            var page = await audit.QueryAsync(new AuditQuery());
            Assert.Null(page.Continuation);
            Assert.Equal(Enumerable.Reverse(appended), page.Entries);
            Assert.Equal(Enumerable.Reverse(auditRecords), page.Entries.Select(e => e.Record));
            var verified = await audit.VerifyAsync(null, null);
            Assert.True(verified.Intact, verified.Problem);
            Assert.Equal((3L, 1L, 3L), (verified.Checked, verified.FirstSequence, verified.LastSequence));
            var next = await audit.AppendAsync(new AuditRecord(Admin, "admin", "app.promoted", $"app:{appId}", "after restart"));
            Assert.Equal(4, next.Sequence);
            var reverified = await audit.VerifyAsync(null, null);
            Assert.True(reverified.Intact, reverified.Problem);
            Assert.Equal(4, reverified.Checked);
        }
    }

    private static PolicyPublishResult Accepted(PolicyPublishResult result)
    {
        Assert.True(result.Accepted, string.Join("; ", result.Errors.Select(e => $"{e.Line}:{e.Column} {e.Message}")));
        return result;
    }

    private static string Describe(Dictionary<string, (int Version, ReleaseChannel Channel)> sides) =>
        string.Join(", ", sides.Select(s => $"{s.Key}→v{s.Value.Version}/{s.Value.Channel}"));

    private static string RequireApproval(string appId) => $"""
        policies:
          - id: review-{appId}
            description: every promotion of this app needs a named approver
            condition:
              - app.id: {appId}
            action: require_approval
        """;

    private static string BlockEmail(string appId) => $"""
        policies:
          - id: no-email-{appId}
            description: email addresses never leave this app
            condition:
              - app.id: {appId}
              - request.pii: [email]
            action: block
        """;
}
