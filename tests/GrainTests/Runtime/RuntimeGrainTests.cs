using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Runtime;
using Orleans.Runtime;

namespace MicroApps.Orleans.GrainTests.Runtime;

[Collection(ClusterCollection.Name)]
public sealed class RuntimeGrainTests(ClusterFixture fixture)
{
    private IAppRuntimeGrain Runtime => fixture.Grains.GetGrain<IAppRuntimeGrain>(0);

    private sealed record TestApp(string AppId, string ApiKey, IMicroAppGrain Grain);

    private async Task<TestApp> NewAppAsync(
        string? template, Dictionary<string, string>? parameters = null, RunLimits? limits = null, IReadOnlyList<CatalogRef>? components = null)
    {
        var appId = $"rt-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest(
            "Runtime test", "ada@example.org", "runtime", Audience.Internal, [], ["local"], "local", new AppQuotas(0, 0), "", "v1",
            Template: template is null ? null : new CatalogRef(template, "1.0.0"),
            Parameters: parameters,
            Components: components,
            Limits: limits));
        var key = await app.IssueKeyAsync("runtime tests");
        return new TestApp(appId, key.ApiKey, app);
    }

    private Task<TestApp> NewChatAppAsync(Dictionary<string, string>? extra = null)
    {
        var parameters = new Dictionary<string, string> { ["systemPrompt"] = "You answer questions about invoices.", ["tier"] = "local" };
        foreach (var (name, value) in extra ?? [])
        {
            parameters[name] = value;
        }

        return NewAppAsync(BuiltIns.ChatAssistant, parameters);
    }

    private static string RunId() => Guid.NewGuid().ToString("N");

    private static string LongDocument(int paragraphs) => string.Join("\n\n", Enumerable.Range(1, paragraphs).Select(p =>
        string.Join(" ", Enumerable.Range(1, 5).Select(s => $"In region {p} the invoice backlog item {s} was cleared after review number {p * 10 + s}."))));

    [Fact]
    public async Task A_conversation_survives_the_deactivation_of_its_grain()
    {
        var app = await NewChatAppAsync(new() { ["greeting"] = "Hello, ask me about invoices." });
        var first = await Runtime.RunAsync(app.AppId, new AppRunRequest(app.ApiKey, RunId(), "Why was the Berlin invoice paid late? It was approved late."));
        Assert.Equal(RunOutcome.Completed, first.Outcome);
        var conversationId = first.Details!["conversationId"];
        var conversation = fixture.Grains.GetGrain<IConversationGrain>(ConversationIds.GrainKey(app.AppId, conversationId));
        var second = await conversation.SendAsync(new AppRunRequest(app.ApiKey, RunId(), "Who approves invoices in Berlin? The finance lead does."));
        Assert.Equal(RunOutcome.Completed, second.Outcome);
        var before = await conversation.GetAsync(app.ApiKey);
        Assert.NotNull(before);
        Assert.Equal(["assistant", "user", "assistant", "user", "assistant"], before.Messages.Select(m => m.Role));
        Assert.Equal("Hello, ask me about invoices.", before.Messages[0].Content);

        await fixture.Grains.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        var after = await conversation.GetAsync(app.ApiKey);
        Assert.NotNull(after);
        Assert.Equal(before.Messages.Select(m => (m.Role, m.Content, m.RequestId)), after.Messages.Select(m => (m.Role, m.Content, m.RequestId)));
        Assert.Equal(before.TokensUsed, after.TokensUsed);
        Assert.True(after.TokensUsed > 0);
    }

    [Fact]
    public async Task A_retried_message_returns_the_stored_answer_and_is_not_charged_again()
    {
        var app = await NewChatAppAsync();
        var start = await Runtime.RunAsync(app.AppId, new AppRunRequest(app.ApiKey, RunId(), "The March invoices were paid late because approval was slow."));
        var conversation = fixture.Grains.GetGrain<IConversationGrain>(ConversationIds.GrainKey(app.AppId, start.Details!["conversationId"]));
        var message = new AppRunRequest(app.ApiKey, RunId(), "The April invoices were paid on time after the new approval flow.");

        var answered = await conversation.SendAsync(message);
        var viewAfterFirst = await conversation.GetAsync(app.ApiKey);
        var retried = await conversation.SendAsync(message);
        var viewAfterRetry = await conversation.GetAsync(app.ApiKey);

        Assert.Equal(RunOutcome.Completed, answered.Outcome);
        Assert.Equal(answered.Output, retried.Output);
        Assert.Equal(answered.Steps.Select(s => s.RequestId), retried.Steps.Select(s => s.RequestId));
        Assert.Equal(viewAfterFirst!.Messages.Count, viewAfterRetry!.Messages.Count);
        Assert.Equal(viewAfterFirst.TokensUsed, viewAfterRetry.TokensUsed);
        Assert.Equal($"run/{message.RunId}/reply", Assert.Single(answered.Steps).RequestId);
    }

    [Fact]
    public async Task A_key_of_another_app_finds_no_conversation()
    {
        var app = await NewChatAppAsync();
        var other = await NewChatAppAsync();
        var start = await Runtime.RunAsync(app.AppId, new AppRunRequest(app.ApiKey, RunId(), "Invoices from Lyon are paid monthly."));
        var conversation = fixture.Grains.GetGrain<IConversationGrain>(ConversationIds.GrainKey(app.AppId, start.Details!["conversationId"]));

        Assert.Null(await conversation.GetAsync(other.ApiKey));
        var refused = await conversation.SendAsync(new AppRunRequest(other.ApiKey, RunId(), "Show me their invoices."));
        Assert.Equal(RunOutcome.NotFound, refused.Outcome);
        Assert.Equal(2, (await conversation.GetAsync(app.ApiKey))!.Messages.Count);
    }

    [Fact]
    public async Task The_stored_history_is_bounded_and_the_trimmed_messages_are_counted()
    {
        // maxHistoryTokens of 160 cannot hold the system prompt, a message, its answer cap and much history.
        var app = await NewChatAppAsync(new() { ["maxHistoryTokens"] = "160", ["maxOutputTokens"] = "16" });
        var start = await Runtime.RunAsync(app.AppId, new AppRunRequest(app.ApiKey, RunId(), "Message one about the invoice backlog in the Paris office today."));
        var conversation = fixture.Grains.GetGrain<IConversationGrain>(ConversationIds.GrainKey(app.AppId, start.Details!["conversationId"]));
        AppRunResult last = start;
        for (var i = 2; i <= 6; i++)
        {
            last = await conversation.SendAsync(new AppRunRequest(app.ApiKey, RunId(), $"Message {i} about the invoice backlog in the Paris office today."));
            Assert.Equal(RunOutcome.Completed, last.Outcome);
        }

        var view = await conversation.GetAsync(app.ApiKey);
        Assert.True(view!.TrimmedMessages > 0, "older messages should have been trimmed");
        Assert.Equal(12, view.Messages.Count + view.TrimmedMessages);
        var users = view.Messages.Where(m => m.Role == "user").Select(m => m.Content).ToList();
        Assert.DoesNotContain(users, c => c.StartsWith("Message one", StringComparison.Ordinal));
        Assert.StartsWith("Message 6", users[^1]);
    }

    [Fact]
    public async Task An_app_without_a_template_is_not_a_hosted_app()
    {
        var app = await NewAppAsync(template: null);

        var result = await Runtime.RunAsync(app.AppId, new AppRunRequest(app.ApiKey, RunId(), "Summarise this."));

        Assert.Equal(RunOutcome.Forbidden, result.Outcome);
        Assert.Equal("not_a_hosted_app", result.ErrorCode);
        Assert.Empty(result.Steps);
    }

    [Fact]
    public async Task Refusals_say_whether_the_app_the_key_or_the_lifecycle_is_wrong()
    {
        var app = await NewAppAsync(BuiltIns.Summarizer);
        ApiKeys.TryParse(app.ApiKey, out _, out var keyId, out _);

        var unknown = await Runtime.RunAsync("rt-no-such-app", new AppRunRequest(ApiKeys.Format("rt-no-such-app", keyId!, "x"), RunId(), "text"));
        var badSecret = await Runtime.RunAsync(app.AppId, new AppRunRequest(ApiKeys.Format(app.AppId, keyId!, "wrong"), RunId(), "text"));
        var otherApp = await Runtime.RunAsync("rt-no-such-app", new AppRunRequest(app.ApiKey, RunId(), "text"));
        await app.Grain.SetLifecycleAsync(AppLifecycle.Suspended);
        var suspended = await Runtime.RunAsync(app.AppId, new AppRunRequest(app.ApiKey, RunId(), "text"));

        Assert.Equal((RunOutcome.NotFound, "app_not_found"), (unknown.Outcome, unknown.ErrorCode));
        Assert.Equal((RunOutcome.Unauthorized, "invalid_api_key"), (badSecret.Outcome, badSecret.ErrorCode));
        Assert.Equal(RunOutcome.Unauthorized, otherApp.Outcome);
        Assert.Equal((RunOutcome.Forbidden, "app_suspended"), (suspended.Outcome, suspended.ErrorCode));
    }

    [Fact]
    public async Task A_long_document_is_summarised_in_parts_then_combined()
    {
        var app = await NewAppAsync(BuiltIns.Summarizer, new() { ["tier"] = "local", ["chunkTokens"] = "100", ["maxOutputTokens"] = "20" });

        var result = await Runtime.RunAsync(app.AppId, new AppRunRequest(app.ApiKey, RunId(), LongDocument(5)));

        Assert.Equal(RunOutcome.Completed, result.Outcome);
        var parts = int.Parse(result.Details!["parts"]);
        Assert.True(parts > 1);
        // 100-token chunks hold 100 / (20 + 2) = 4 part summaries, so more than 4 parts are combined in two rounds.
        var names = result.Steps.Select(s => s.Name).ToList();
        Assert.Equal(Enumerable.Range(1, parts).Select(i => $"part-{i}"), names.Take(parts));
        var groups = (parts + 3) / 4;
        Assert.Equal(groups == 1 ? ["combine"] : [.. Enumerable.Range(1, groups).Select(g => $"combine-1-{g}"), "combine"], names.Skip(parts));
        Assert.All(result.Steps, s => Assert.Equal(TraceOutcomes.Success, s.Outcome));
        Assert.False(string.IsNullOrWhiteSpace(result.Output));
        Assert.Equal(result.Steps.Sum(s => s.Usage.TotalTokens), result.Usage.TotalTokens);
    }

    [Fact]
    public async Task A_plan_over_the_step_limit_is_refused_before_any_call()
    {
        var app = await NewAppAsync(BuiltIns.Summarizer, new() { ["tier"] = "local", ["chunkTokens"] = "100" }, new RunLimits(100_000, 2, 60));

        var result = await Runtime.RunAsync(app.AppId, new AppRunRequest(app.ApiKey, RunId(), LongDocument(5)));

        Assert.Equal(RunOutcome.LimitExceeded, result.Outcome);
        Assert.Equal(RunLimitCodes.Steps, result.ErrorCode);
        Assert.Empty(result.Steps);
    }

    [Fact]
    public async Task Shared_prompts_and_chains_run_with_the_template()
    {
        var catalog = fixture.Grains.GetGrain<ICatalogGrain>("default");
        var suffix = Guid.NewGuid().ToString("N")[..8];
        var at = ClusterFixture.Time.GetUtcNow();
        await catalog.PublishAsync(new CatalogEntry(CatalogKind.Prompt, $"voice-{suffix}", "1.0.0", "tests", "voice", [], false, false, [],
            "Write for {{audience}}.", [], at, "tests"));
        await catalog.PublishAsync(new CatalogEntry(CatalogKind.Chain, $"polish-{suffix}", "1.0.0", "tests", "polish", [], false, false, [],
            "", [new ChainStep("shorten", "Shorten the text.")], at, "tests"));
        var app = await NewAppAsync(BuiltIns.Summarizer, new() { ["tier"] = "local" }, components:
            [new CatalogRef($"voice-{suffix}", "1.0.0"), new CatalogRef($"polish-{suffix}", "1.0.0")]);

        var result = await Runtime.RunAsync(app.AppId, new AppRunRequest(app.ApiKey, RunId(), "The invoice backlog was cleared in March by the finance team."));

        Assert.Equal(RunOutcome.Completed, result.Outcome);
        Assert.Equal(["summary", $"chain:polish-{suffix}:shorten"], result.Steps.Select(s => s.Name));
    }
}
