using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.GrainTests.Gateway;
using MicroApps.Orleans.Policies;
using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;

namespace MicroApps.Orleans.GrainTests.Policies;

/// <summary>
/// The policy set is one grain for the whole cluster, so every document published here scopes its policies to
/// this test's app ids with <c>app.id:</c>: other tests in the shared cluster are never affected.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class PolicySetGrainTests(ClusterFixture fixture)
{
    private IPolicySetGrain PolicySet => fixture.Grains.GetGrain<IPolicySetGrain>("default");

    private IGovernedCallGrain Gateway => fixture.Grains.GetGrain<IGovernedCallGrain>(0);

    private static string NewAppId() => $"pol-{Guid.NewGuid():N}"[..20];

    private static string BlockPiiOnStandard(string appId) => $"""
        policies:
          - id: no-pii-on-standard-{appId}
            description: PII stays off the standard tier
            condition:
              - app.id: {appId}
              - request.pii: [email]
              - model.tier: standard
            action: block
        """;

    private async Task<PolicyPublishResult> PublishAsync(string yaml, string comment = "test")
    {
        var result = await PolicySet.PublishAsync(yaml, "tester", comment);
        Assert.True(result.Accepted, string.Join("; ", result.Errors.Select(e => $"{e.Line}:{e.Column} {e.Message}")));
        return result;
    }

    private async Task<string> NewAppWithKeyAsync(string appId, string[]? dataClasses = null)
    {
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest(
            "Policy test", "ada@example.org", "finance", Audience.Internal, dataClasses ?? [], ["standard", "local"], "standard", new AppQuotas(0, 0), "", "v1"));
        await fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}").ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Day));
        return (await app.IssueKeyAsync("test")).ApiKey;
    }

    private TraceEvent TraceOf(string requestId) =>
        fixture.Cluster.Silos.Cast<InProcessSiloHandle>()
            .SelectMany(s => s.SiloHost.Services.GetRequiredService<InMemoryTraceSink>().Recent())
            .Single(e => e.RequestId == requestId);

    [Fact]
    public async Task Each_accepted_document_is_a_new_active_version_with_author_comment_and_hash()
    {
        var appId = NewAppId();
        var first = await PublishAsync(BlockPiiOnStandard(appId), "first");
        var second = await PublishAsync(BlockPiiOnStandard(appId) + "\n# reviewed\n", "second");

        Assert.Equal(first.ActiveVersion + 1, second.ActiveVersion);
        var active = await PolicySet.GetActiveAsync();
        Assert.Equal(second.ActiveVersion, active!.Version);
        Assert.Equal(("tester", "second"), (active.Author, active.Comment));
        Assert.Equal(PolicySetGrain.ContentHash(active.Yaml), active.ContentHash);
        var versions = await PolicySet.ListVersionsAsync();
        Assert.Equal([first.ActiveVersion, second.ActiveVersion], versions.TakeLast(2).Select(v => v.Version));
        Assert.NotEqual(versions[^1].ContentHash, versions[^2].ContentHash);
    }

    [Fact]
    public async Task Publishing_the_active_content_again_answers_the_same_version()
    {
        var yaml = BlockPiiOnStandard(NewAppId());
        var first = await PublishAsync(yaml);
        var again = await PublishAsync(yaml);

        Assert.Equal(first.ActiveVersion, again.ActiveVersion);
        Assert.Equal(first.ActiveVersion, (await PolicySet.ListVersionsAsync())[^1].Version);
    }

    [Fact]
    public async Task An_invalid_document_is_refused_with_line_and_column_and_the_running_version_stays()
    {
        var running = await PublishAsync(BlockPiiOnStandard(NewAppId()));

        var refused = await PolicySet.PublishAsync("policies:\n  - id: bad\n    action: route\n", "tester", "broken");

        Assert.False(refused.Accepted);
        Assert.Equal(running.ActiveVersion, refused.ActiveVersion);
        var error = Assert.Single(refused.Errors);
        Assert.Equal((3, 13), (error.Line, error.Column));
        Assert.Contains("needs 'tier:'", error.Message);
        Assert.Equal(running.ActiveVersion, (await PolicySet.GetActiveAsync())!.Version);
        Assert.Equal(running.ActiveVersion, (await PolicySet.ListVersionsAsync())[^1].Version);
    }

    [Fact]
    public async Task A_route_to_a_tier_the_cluster_does_not_have_is_refused()
    {
        var refused = await PolicySet.PublishAsync("policies:\n  - id: r\n    action: route\n    tier: onprem\n", "tester", "");

        Assert.False(refused.Accepted);
        Assert.Contains("Unknown tier 'onprem'", Assert.Single(refused.Errors).Message);
    }

    [Fact]
    public async Task EvaluateAsync_judges_facts_by_the_active_version()
    {
        var appId = NewAppId();
        var published = await PublishAsync(BlockPiiOnStandard(appId));
        var facts = new PolicyFacts(appId, "finance", "internal", [], ["email"], "standard", true, 100, 0.01m, "v1", "u");

        var decision = await PolicySet.EvaluateAsync(facts);

        Assert.True(decision.Blocked);
        Assert.Equal(published.ActiveVersion, decision.PolicyVersion);
        Assert.False((await PolicySet.EvaluateAsync(facts with { AppId = "someone-else" })).Blocked);
    }

    [Fact]
    public async Task A_governed_call_is_blocked_and_its_trace_names_the_policy_and_the_pii_classes_only()
    {
        var appId = NewAppId();
        var apiKey = await NewAppWithKeyAsync(appId);
        await PublishAsync(BlockPiiOnStandard(appId));
        var request = new GovernedChatRequest(apiKey, Guid.NewGuid().ToString("N"), "standard", [new ChatTurn("user", "Mail ada.lovelace@example.org the summary")], ChatParameters.None);

        var result = await Gateway.CompleteAsync(request);

        Assert.Equal(GovernedOutcome.Forbidden, result.Outcome);
        Assert.Equal("policy_blocked", result.ErrorCode);
        Assert.Contains($"no-pii-on-standard-{appId}: PII stays off the standard tier", result.ErrorMessage);
        var trace = TraceOf(request.RequestId);
        Assert.Equal($"block:no-pii-on-standard-{appId}", trace.Policy);
        Assert.Equal(["email"], trace.PiiClasses);
        Assert.Contains(trace.PolicyMatches!, m => m.StartsWith($"no-pii-on-standard-{appId} block applied: app.id = {appId}; request.pii ∋ email; model.tier = standard", StringComparison.Ordinal));
        Assert.DoesNotContain("ada.lovelace", string.Join("|", trace.Decisions.Concat(trace.PolicyMatches!)));

        var clean = request with { RequestId = Guid.NewGuid().ToString("N"), Messages = [new ChatTurn("user", $"No personal data here {Guid.NewGuid():N}")] };
        Assert.Equal(GovernedOutcome.Completed, (await Gateway.CompleteAsync(clean)).Outcome);
        Assert.Equal("allow:default", TraceOf(clean.RequestId).Policy);
    }

    [Fact]
    public async Task A_redact_policy_masks_pii_before_the_backend_sees_it()
    {
        var appId = NewAppId();
        var apiKey = await NewAppWithKeyAsync(appId);
        await PublishAsync($"""
            policies:
              - id: mask-{appId}
                condition: {"{"}app.id: {appId}, request.pii: true{"}"}
                action: redact
            """);
        var marker = Guid.NewGuid().ToString("N");
        var request = new GovernedChatRequest(apiKey, Guid.NewGuid().ToString("N"), "standard", [new ChatTurn("user", $"Write to grace@example.com about {marker}")], ChatParameters.None);

        var result = await Gateway.CompleteAsync(request);

        Assert.Equal(GovernedOutcome.Completed, result.Outcome);
        Assert.Equal(1, PipelineTestSetup.Fake.CallsTo($"Write to [REDACTED:email] about {marker}"));
        Assert.Equal(0, PipelineTestSetup.Fake.CallsTo($"Write to grace@example.com about {marker}"));
        Assert.Equal($"redact:mask-{appId}", TraceOf(request.RequestId).Policy);
    }

    [Fact]
    public async Task A_route_policy_sends_pii_traffic_to_another_tier_even_one_the_app_did_not_list()
    {
        var appId = NewAppId();
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest("Policy test", "ada@example.org", "finance", Audience.Internal, [], ["standard"], "standard", new AppQuotas(0, 0), "", "v1"));
        await fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}").ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Day));
        var apiKey = (await app.IssueKeyAsync("test")).ApiKey;
        await PublishAsync($"""
            policies:
              - id: pii-stays-local-{appId}
                condition:
                  - app.id: {appId}
                  - request.pii: [email]
                action: route
                tier: local
            """);
        var request = new GovernedChatRequest(apiKey, Guid.NewGuid().ToString("N"), "standard", [new ChatTurn("user", "Summarise the note from bob@example.net. The invoice backlog grew.")], ChatParameters.None);

        var result = await Gateway.CompleteAsync(request);

        Assert.Equal(GovernedOutcome.Completed, result.Outcome);
        Assert.Equal("local", result.Tier);
        Assert.Equal("local-extractive-summarizer", result.Model);
        Assert.Equal($"route:local(pii-stays-local-{appId})", TraceOf(request.RequestId).Policy);
    }

    [Fact]
    public async Task A_dry_run_lists_the_facts_every_match_and_the_decision_without_calling_anything()
    {
        var appId = NewAppId();
        await NewAppWithKeyAsync(appId, dataClasses: ["phone"]);
        await PublishAsync($"""
            policies:
              - id: allow-{appId}
                condition: {"{"}app.id: {appId}{"}"}
                action: allow
              - id: mask-{appId}
                condition: {"{"}app.id: {appId}, app.data_contains: [email, phone]{"}"}
                action: redact
              - id: block-{appId}
                condition: {"{"}app.id: {appId}, request.pii: [email], model.external: true{"}"}
                action: block
            """);

        var result = await fixture.Grains.GetGrain<IPolicyDryRunGrain>(0).DryRunAsync(
            new PolicyDryRunRequest(appId, "standard", [new ChatTurn("user", "ping eve@example.com")], User: "eve"));

        Assert.True(result.Found);
        Assert.Equal(["email"], result.PiiClasses);
        Assert.Equal("standard", result.Facts!.ModelTier);
        Assert.True(result.Facts.ModelExternal);
        Assert.Equal("eve", result.Facts.StickyKey);
        Assert.True(result.Facts.CostEstimateUsd > 0m);
        Assert.Equal([$"allow-{appId}", $"mask-{appId}", $"block-{appId}"], result.Decision!.Matches.Select(m => m.PolicyId));
        Assert.True(result.Decision.Blocked);
        Assert.Equal($"block:block-{appId}", result.Decision.Summary);

        var missing = await fixture.Grains.GetGrain<IPolicyDryRunGrain>(0).DryRunAsync(new PolicyDryRunRequest(NewAppId(), "", [new ChatTurn("user", "hi")]));
        Assert.False(missing.Found);
    }

    [Fact]
    public async Task A_dry_run_sees_the_prompt_version_a_live_call_sees_for_an_app_with_pinned_prompts()
    {
        var appId = NewAppId();
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest(
            "Policy test", "ada@example.org", "finance", Audience.Internal, [], ["standard", "local"], "standard", new AppQuotas(0, 0), "", "v1")
        {
            Prompts = [new PromptPin("summary", 3)],
        });
        var issued = await app.IssueKeyAsync("test");
        Assert.True(ApiKeys.TryParse(issued.ApiKey, out _, out var keyId, out var secret));
        var live = await app.AuthenticateAsync(keyId, secret);

        var result = await fixture.Grains.GetGrain<IPolicyDryRunGrain>(0).DryRunAsync(
            new PolicyDryRunRequest(appId, "standard", [new ChatTurn("user", "hi")]));

        Assert.Equal("summary@3", live!.PromptVersion);
        Assert.Equal(live.PromptVersion, result.Facts!.PromptVersion);
    }

    [Fact]
    public async Task Quotas_of_the_policy_set_reach_admission_and_an_app_override_replaces_the_apps_own()
    {
        var appId = NewAppId();
        var apiKey = await NewAppWithKeyAsync(appId);
        await PublishAsync($"""
            quotas:
              apps:
                {appId}:
                  requests_per_minute: 1
            """);
        GovernedChatRequest Call() => new(apiKey, Guid.NewGuid().ToString("N"), "local", [new ChatTurn("user", $"The invoice backlog grew {Guid.NewGuid():N}.")], ChatParameters.None);

        var first = await Gateway.CompleteAsync(Call());
        var second = await Gateway.CompleteAsync(Call());

        Assert.Equal(GovernedOutcome.Completed, first.Outcome);
        Assert.Equal(GovernedOutcome.QuotaExceeded, second.Outcome);
        Assert.Equal("rate_limit_exceeded", second.ErrorCode);
    }
}
