using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Batch;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.GrainTests.Batch;

[Collection(ClusterCollection.Name)]
public sealed class BatchPoolGrainTests(ClusterFixture fixture)
{
    private static BatchFakeChatClient Fake => BatchPoolTestSetup.Fake;

    private sealed record TestApp(string AppId, string ApiKey, IMicroAppGrain Grain, IBudgetGrain Budget);

    private async Task<TestApp> NewAppAsync(string[]? tiers = null)
    {
        var appId = $"bj-{Guid.NewGuid():N}"[..20];
        var app = fixture.Grains.GetGrain<IMicroAppGrain>(appId);
        await app.CreateAsync(new AppManifest(
            "Batch test", "ada@example.org", "finance", Audience.Internal, [], tiers ?? [BatchPoolTestSetup.Tier, "local"], "local",
            new AppQuotas(0, 0), "", "v1"));
        var key = await app.IssueKeyAsync("test");
        var budget = fixture.Grains.GetGrain<IBudgetGrain>($"app:{appId}");
        await budget.ConfigureAsync(new BudgetSettings(10m, BudgetPeriod.Day));
        return new TestApp(appId, key.ApiKey, app, budget);
    }

    private static string NewLane() => $"lane{Guid.NewGuid():N}";

    private static BatchItemRequest Item(string lane, int n, string? model = null) =>
        new($"item-{n}", [new ChatTurn("system", "Summarise."), new ChatTurn("user", $"{lane}:report {n}")], ChatParameters.None, model);

    private static BatchJobSubmission Job(TestApp app, string lane, int items, string pool, DateTimeOffset? notBefore = null) =>
        new(app.ApiKey, [.. Enumerable.Range(1, items).Select(n => Item(lane, n))], notBefore, pool);

    private async Task<(string JobId, BatchJobReply Reply)> SubmitAsync(BatchJobSubmission submission)
    {
        var jobId = BatchJobRules.NewJobId();
        var reply = await fixture.Grains.GetGrain<IBatchJobGrain>(jobId).SubmitAsync(submission);
        return (jobId, reply);
    }

    private async Task<BatchJobView> FinishedAsync(string jobId, string apiKey)
    {
        var job = fixture.Grains.GetGrain<IBatchJobGrain>(jobId);
        BatchJobView? view = null;
        await Eventually.TrueAsync(async () =>
        {
            view = (await job.GetAsync(apiKey)).Job;
            return view is { Status: BatchJobStatuses.Completed or BatchJobStatuses.Cancelled } && view.Counts.Running == 0 && view.FinishedAt is not null;
        }, $"batch job {jobId} to finish");
        return view!;
    }

    private async Task LeftQueueAsync(string pool, string jobId) =>
        await Eventually.TrueAsync(async () => !(await fixture.Grains.GetGrain<IBatchPoolGrain>(pool).GetStatusAsync()).QueuedJobs.Contains(jobId),
            $"pool {pool} to drop job {jobId}");

    /// <summary>
    /// Moves the shared clock forward to the next <paramref name="hour"/>:00 UTC. The off-peak tests wait at 01:00 and open
    /// the 02:00–04:00 window on the same day, so no daily budget rolls over in between.
    /// </summary>
    private static void AdvanceToTimeOfDay(int hour)
    {
        var now = ClusterFixture.Time.GetUtcNow();
        var target = new DateTimeOffset(now.UtcDateTime.Date.AddHours(hour), TimeSpan.Zero);
        if (target <= now)
        {
            target = target.AddDays(1);
        }

        ClusterFixture.Time.Advance(target - now);
    }

    [Fact]
    public async Task A_job_of_many_items_completes_with_every_result_kept_and_each_item_charged_once()
    {
        var app = await NewAppAsync();
        var lane = NewLane();

        var (jobId, submitted) = await SubmitAsync(Job(app, lane, 8, BatchPoolTestSetup.FastPool));

        Assert.Equal(BatchReplyOutcome.Ok, submitted.Outcome);
        Assert.Equal(8, submitted.Job!.Counts.Total);
        Assert.Equal(BatchPoolTestSetup.Tier, submitted.Job.Tier);
        var done = await FinishedAsync(jobId, app.ApiKey);
        Assert.Equal(BatchJobStatuses.Completed, done.Status);
        Assert.Equal(8, done.Counts.Completed);
        Assert.Equal(8 * BatchPoolTestSetup.CostPerCall, done.CostUsd);

        var results = (await fixture.Grains.GetGrain<IBatchJobGrain>(jobId).GetResultsAsync(app.ApiKey)).Results!;
        Assert.Equal(8, results.Count);
        foreach (var n in Enumerable.Range(1, 8))
        {
            var result = Assert.Single(results, r => r.CustomId == $"item-{n}");
            Assert.Equal(BatchItemStatuses.Completed, result.Status);
            Assert.Equal($"done: report {n}", result.Content);
            Assert.Equal(BatchPoolTestSetup.Model, result.Model);
            Assert.Equal(new TokenUsage(40, 10), result.Usage);
            Assert.Equal(BatchPoolTestSetup.CostPerCall, result.CostUsd);
            Assert.Equal($"batch/{jobId}/item-{n}", result.RequestId);
            Assert.Equal(1, Fake.LaneOf(lane).CallsTo($"{lane}:report {n}"));
        }

        // The budget charged each item's call once: the spend is exactly the job's cost.
        var budget = await app.Budget.GetAsync();
        Assert.Equal(8 * BatchPoolTestSetup.CostPerCall, budget.SpentUsd);
        Assert.Equal(0m, budget.ReservedUsd);
    }

    [Fact]
    public async Task A_job_runs_under_its_own_key_which_is_revoked_when_it_ends()
    {
        var app = await NewAppAsync();
        var (jobId, _) = await SubmitAsync(Job(app, NewLane(), 2, BatchPoolTestSetup.FastPool));

        await FinishedAsync(jobId, app.ApiKey);

        var keys = (await app.Grain.GetAsync())!.Keys;
        var jobKey = Assert.Single(keys, k => k.Label == $"batch job {jobId}");
        Assert.NotNull(jobKey.RevokedAt);
        Assert.Null(Assert.Single(keys, k => k.Label == "test").RevokedAt);
    }

    [Fact]
    public async Task The_pool_never_runs_more_items_at_once_than_its_bound()
    {
        var app = await NewAppAsync();
        var lane = NewLane();
        var calls = Fake.LaneOf(lane);
        calls.Held = true;
        var (jobId, _) = await SubmitAsync(Job(app, lane, 6, BatchPoolTestSetup.BoundedPool));

        // Release held calls one at a time, each once the pool has filled what it may.
        for (var released = 0; released < 6; released++)
        {
            var expected = Math.Min(2, 6 - released);
            await Eventually.TrueAsync(() => Task.FromResult(calls.InFlight == expected), $"{expected} calls in flight");
            calls.Gate.Release();
        }

        var done = await FinishedAsync(jobId, app.ApiKey);
        Assert.Equal(6, done.Counts.Completed);
        Assert.Equal(6, calls.Calls);
        Assert.Equal(2, calls.MaxInFlight);
    }

    [Fact]
    public async Task Outside_the_off_peak_window_nothing_runs_until_the_clock_enters_it()
    {
        AdvanceToTimeOfDay(1);
        var app = await NewAppAsync();
        var lane = NewLane();
        var pool = fixture.Grains.GetGrain<IBatchPoolGrain>(BatchPoolTestSetup.OffPeakPool);
        var (jobId, _) = await SubmitAsync(Job(app, lane, 3, BatchPoolTestSetup.OffPeakPool));

        var before = await pool.GetStatusAsync();
        Assert.False(before.WindowOpen);
        Assert.Contains(jobId, before.QueuedJobs);
        await Eventually.TrueAsync(async () => (await pool.GetStatusAsync()).Fills >= before.Fills + 3, "the pool to look for work three times");
        Assert.Equal(0, Fake.LaneOf(lane).Calls);
        var waiting = (await fixture.Grains.GetGrain<IBatchJobGrain>(jobId).GetAsync(app.ApiKey)).Job!;
        Assert.Equal(BatchJobStatuses.Queued, waiting.Status);
        Assert.Equal(3, waiting.Counts.Queued);

        AdvanceToTimeOfDay(2);
        Assert.True((await pool.GetStatusAsync()).WindowOpen);
        var done = await FinishedAsync(jobId, app.ApiKey);
        Assert.Equal(3, done.Counts.Completed);
        Assert.Equal(3, Fake.LaneOf(lane).Calls);
    }

    [Fact]
    public async Task A_job_waits_for_its_not_before_time()
    {
        var app = await NewAppAsync();
        var lane = NewLane();
        var pool = fixture.Grains.GetGrain<IBatchPoolGrain>(BatchPoolTestSetup.FastPool);
        var (jobId, _) = await SubmitAsync(Job(app, lane, 2, BatchPoolTestSetup.FastPool, ClusterFixture.Time.GetUtcNow().AddHours(1)));

        var fills = (await pool.GetStatusAsync()).Fills;
        await Eventually.TrueAsync(async () => (await pool.GetStatusAsync()).Fills >= fills + 3, "the pool to look for work three times");
        Assert.Equal(0, Fake.LaneOf(lane).Calls);

        ClusterFixture.Time.Advance(TimeSpan.FromHours(1));
        var done = await FinishedAsync(jobId, app.ApiKey);
        Assert.Equal(2, done.Counts.Completed);
    }

    [Fact]
    public async Task Cancelling_a_queued_job_cancels_its_items_revokes_its_key_and_charges_nothing()
    {
        AdvanceToTimeOfDay(1);
        var app = await NewAppAsync();
        var lane = NewLane();
        var (jobId, _) = await SubmitAsync(Job(app, lane, 4, BatchPoolTestSetup.OffPeakPool));
        var job = fixture.Grains.GetGrain<IBatchJobGrain>(jobId);

        var cancelled = await job.CancelAsync(app.ApiKey);

        Assert.Equal(BatchReplyOutcome.Ok, cancelled.Outcome);
        Assert.Equal(BatchJobStatuses.Cancelled, cancelled.Job!.Status);
        Assert.Equal(4, cancelled.Job.Counts.Cancelled);
        Assert.NotNull(cancelled.Job.FinishedAt);

        // Off the queue, nothing of the job can run any more, even once the window opens.
        await LeftQueueAsync(BatchPoolTestSetup.OffPeakPool, jobId);
        Assert.Equal(0, Fake.LaneOf(lane).Calls);
        Assert.Equal(0m, (await app.Budget.GetAsync()).SpentUsd);
        Assert.NotNull(Assert.Single((await app.Grain.GetAsync())!.Keys, k => k.Label == $"batch job {jobId}").RevokedAt);
        Assert.All((await job.GetResultsAsync(app.ApiKey)).Results!, r => Assert.Equal(BatchItemStatuses.Cancelled, r.Status));
    }

    [Fact]
    public async Task Cancelling_a_running_job_lets_running_items_finish_and_cancels_the_rest()
    {
        var app = await NewAppAsync();
        var lane = NewLane();
        var calls = Fake.LaneOf(lane);
        calls.Held = true;
        var (jobId, _) = await SubmitAsync(Job(app, lane, 5, BatchPoolTestSetup.BoundedPool));
        await Eventually.TrueAsync(() => Task.FromResult(calls.InFlight == 2), "two calls in flight");

        var cancelled = await fixture.Grains.GetGrain<IBatchJobGrain>(jobId).CancelAsync(app.ApiKey);
        Assert.Equal(3, cancelled.Job!.Counts.Cancelled);
        Assert.Equal(2, cancelled.Job.Counts.Running);
        calls.Gate.Release(2);

        var done = await FinishedAsync(jobId, app.ApiKey);
        Assert.Equal(BatchJobStatuses.Cancelled, done.Status);
        Assert.Equal(2, done.Counts.Completed);
        Assert.Equal(3, done.Counts.Cancelled);
        Assert.Equal(2, calls.Calls);
        Assert.Equal(2 * BatchPoolTestSetup.CostPerCall, (await app.Budget.GetAsync()).SpentUsd);
    }

    [Fact]
    public async Task A_call_completed_before_a_crash_but_not_recorded_is_not_run_or_charged_again()
    {
        AdvanceToTimeOfDay(1);
        var app = await NewAppAsync();
        var lane = NewLane();
        var (jobId, _) = await SubmitAsync(Job(app, lane, 2, BatchPoolTestSetup.OffPeakPool));
        var job = fixture.Grains.GetGrain<IBatchJobGrain>(jobId);

        // A pool activation that dies after the governed call answered, before the job heard of it.
        var dead = Guid.NewGuid();
        var claim = await job.ClaimAsync(dead, 1);
        var lost = Assert.Single(claim.Items);
        var answered = await fixture.Grains.GetGrain<IGovernedCallGrain>(0).CompleteAsync(lost.Request);
        Assert.Equal(GovernedOutcome.Completed, answered.Outcome);

        // The pool's own (newer) activation runs the job when the window opens.
        AdvanceToTimeOfDay(2);
        var done = await FinishedAsync(jobId, app.ApiKey);

        Assert.Equal(2, done.Counts.Completed);
        var results = (await job.GetResultsAsync(app.ApiKey)).Results!;
        var recovered = Assert.Single(results, r => r.CustomId == lost.CustomId);
        Assert.Equal("result_not_kept", recovered.ErrorCode);
        Assert.Null(recovered.Content);
        Assert.Equal(BatchPoolTestSetup.CostPerCall, recovered.CostUsd);
        Assert.Equal(2, Fake.LaneOf(lane).Calls);
        Assert.Equal(2 * BatchPoolTestSetup.CostPerCall, (await app.Budget.GetAsync()).SpentUsd);
        Assert.Equal(2 * BatchPoolTestSetup.CostPerCall, done.CostUsd);
    }

    [Fact]
    public async Task Another_apps_job_is_not_found()
    {
        var owner = await NewAppAsync();
        var other = await NewAppAsync();
        var (jobId, _) = await SubmitAsync(Job(owner, NewLane(), 1, BatchPoolTestSetup.FastPool));
        var job = fixture.Grains.GetGrain<IBatchJobGrain>(jobId);

        Assert.Equal(BatchReplyOutcome.NotFound, (await job.GetAsync(other.ApiKey)).Outcome);
        Assert.Equal(BatchReplyOutcome.NotFound, (await job.GetResultsAsync(other.ApiKey)).Outcome);
        Assert.Equal(BatchReplyOutcome.NotFound, (await job.CancelAsync(other.ApiKey)).Outcome);
        Assert.Equal(BatchReplyOutcome.Unauthorized, (await job.GetAsync("mak.nobody-here.k.s")).Outcome);
        Assert.Equal(BatchReplyOutcome.Ok, (await job.GetAsync(owner.ApiKey)).Outcome);
    }

    [Fact]
    public async Task A_job_is_refused_when_the_app_may_not_use_the_pools_tier()
    {
        var app = await NewAppAsync(tiers: ["local"]);

        var (_, reply) = await SubmitAsync(Job(app, NewLane(), 1, BatchPoolTestSetup.FastPool));

        Assert.Equal(BatchReplyOutcome.Invalid, reply.Outcome);
        Assert.Equal("model", reply.ErrorParam);
        Assert.Equal("tier_not_allowed", reply.ErrorCode);
        Assert.Contains(BatchPoolTestSetup.Tier, reply.ErrorMessage);
    }

    [Fact]
    public async Task Invalid_submissions_name_the_field()
    {
        var app = await NewAppAsync();
        var lane = NewLane();

        async Task<BatchJobReply> Submit(params BatchItemRequest[] items) =>
            (await SubmitAsync(new BatchJobSubmission(app.ApiKey, items, null, BatchPoolTestSetup.SmallPool))).Reply;

        var duplicate = await Submit(Item(lane, 1), Item(lane, 1));
        Assert.Equal(("requests[1].custom_id", "duplicate_custom_id"), (duplicate.ErrorParam, duplicate.ErrorCode));

        var wrongModel = await Submit(Item(lane, 1), Item(lane, 2, model: "premium-model"));
        Assert.Equal("requests[1].model", wrongModel.ErrorParam);

        var empty = await Submit(Item(lane, 1) with { Messages = [] });
        Assert.Equal("requests[0].messages", empty.ErrorParam);

        var tooMany = await Submit(Item(lane, 1), Item(lane, 2), Item(lane, 3), Item(lane, 4));
        Assert.Equal(("requests", "too_many_requests"), (tooMany.ErrorParam, tooMany.ErrorCode));

        var none = await Submit();
        Assert.Equal("requests", none.ErrorParam);

        var badId = await Submit(Item(lane, 1) with { CustomId = "has space" });
        Assert.Equal("requests[0].custom_id", badId.ErrorParam);

        Assert.All([duplicate, wrongModel, empty, tooMany, none, badId], r => Assert.Equal(BatchReplyOutcome.Invalid, r.Outcome));
        var named = await Submit(Item(lane, 1, model: BatchPoolTestSetup.Model), Item(lane, 2, model: BatchPoolTestSetup.Tier));
        Assert.Equal(BatchReplyOutcome.Ok, named.Outcome);
    }

    [Fact]
    public async Task A_repeated_submission_of_the_same_job_queues_it_once()
    {
        var app = await NewAppAsync();
        var lane = NewLane();
        var submission = Job(app, lane, 2, BatchPoolTestSetup.FastPool);
        var jobId = BatchJobRules.NewJobId();
        var job = fixture.Grains.GetGrain<IBatchJobGrain>(jobId);

        var first = await job.SubmitAsync(submission);
        var again = await job.SubmitAsync(submission);
        var different = await job.SubmitAsync(Job(app, lane, 3, BatchPoolTestSetup.FastPool));

        Assert.Equal(BatchReplyOutcome.Ok, first.Outcome);
        Assert.Equal(BatchReplyOutcome.Ok, again.Outcome);
        Assert.Equal(BatchReplyOutcome.Conflict, different.Outcome);
        var done = await FinishedAsync(jobId, app.ApiKey);
        Assert.Equal(2, done.Counts.Completed);
        Assert.Equal(2, Fake.LaneOf(lane).Calls);
        Assert.Single((await app.Grain.GetAsync())!.Keys, k => k.Label == $"batch job {jobId}");
    }
}
