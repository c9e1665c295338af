using System.Text.Json;
using System.Text.Json.Serialization;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Audit;
using MicroApps.Orleans.Connectors;
using MicroApps.Orleans.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Runtime;

/// <summary>Stored state of one approvals-bot workflow. Never renumber the ids.</summary>
[GenerateSerializer, Alias("microapps.ApprovalWorkflowRecord")]
public sealed class ApprovalWorkflowRecord
{
    /// <summary>What started it; null until started.</summary>
    [Id(0)] public ApprovalWorkflowStart? Start { get; set; }

    [Id(1)] public ApprovalWorkflowState State { get; set; }

    [Id(2)] public DateTimeOffset CreatedAt { get; set; }

    /// <summary>End of the current wait; null once final.</summary>
    [Id(3)] public DateTimeOffset? Deadline { get; set; }

    [Id(4)] public WorkflowDecision? Decision { get; set; }

    /// <summary>The outbox: every notification with the body it is sent with, stored before the first attempt.</summary>
    [Id(5)] public List<StoredNotification> Notifications { get; set; } = [];

    [Id(6)] public List<WorkflowHistoryEntry> History { get; set; } = [];

    /// <summary>Audit records of decisions, escalations and timeouts not yet appended to the audit log.</summary>
    [Id(7)] public List<AuditRecord> PendingAudit { get; set; } = [];

    /// <summary>Counts the workflow's transitions; the inbox keeps the summary of the highest.</summary>
    [Id(8)] public long Revision { get; set; }

    /// <summary>The revision the app's inbox is known to hold.</summary>
    [Id(9)] public long IndexedRevision { get; set; }
}

/// <summary>A notification in the outbox: its delivery status and the exact JSON body every attempt sends.</summary>
[GenerateSerializer, Alias("microapps.StoredNotification")]
public sealed class StoredNotification
{
    [Id(0)] public required WorkflowNotification Status { get; set; }

    [Id(1)] public required string Body { get; set; }
}

/// <summary>
/// One approvals-bot workflow (key <c>{appId}/{workflowId}</c>). Every change is written before the reply. Deadlines
/// are measured on the platform clock and applied three ways: a grain timer at the next deadline while the workflow is
/// active, a reminder (<c>Workflows:ReminderPeriod</c>) that wakes it after a deactivation or a silo failure, and every
/// call, which first applies a deadline that has passed. Escalations, decisions and timeouts notify the requester
/// through the app's webhook connector from a durable outbox: a notification is stored before it is sent, retried with
/// backoff until the webhook answers (at least once; receivers drop repeats by the idempotency key
/// <c>{workflowId}/{event}</c>), and every attempt is recorded. Decisions, escalations and timeouts go to the audit log
/// the same way: stored with the change, appended after it, exactly one entry each.
/// </summary>
public sealed class ApprovalWorkflowGrain(
    [PersistentState("approvalWorkflow", "store")] IPersistentState<ApprovalWorkflowRecord> state,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    IOptions<ApprovalWorkflowOptions> options,
    IConnectorGateway connectors,
    ILogger<ApprovalWorkflowGrain> logger) : Grain, IApprovalWorkflowGrain, IRemindable
{
    public const string SystemActor = "system";
    private const string ReminderName = "approval-workflow";

    // Deadlines can be 90 days away; the timer wakes at least hourly and re-arms, so it never needs a huge due time.
    private static readonly TimeSpan LongestTimerWait = TimeSpan.FromHours(1);

    // A webhook attempt may not hold the outbox for ever; the connector's own timeout is far shorter.
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMinutes(2);

    private static readonly JsonSerializerOptions BodyJson = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly ApprovalWorkflowOptions _options = options.Value;
    private GroupCommit? _commit;
    private IGrainTimer? _timer;
    private bool _delivering;
    private bool? _reminderRegistered;
    private bool _remindersUnavailable;
    private AppManifest? _manifest;

    private ApprovalWorkflowRecord S => state.State;

    private GroupCommit Commit => _commit ??= new GroupCommit(() => state.WriteStateAsync());

    private string Key => this.GetPrimaryKeyString();

    private string WorkflowId => ApprovalWorkflows.TryParseKey(Key, out _, out var id) ? id : Key;

    private string AppId => ApprovalWorkflows.TryParseKey(Key, out var app, out _) ? app : Key;

    private bool IsOpen => S.Start is not null && !ApprovalWorkflowStates.IsFinal(S.State);

    /// <summary>Anything the workflow must still do without being asked: a deadline, a delivery, an audit record, the inbox.</summary>
    private bool HasWork => S.Start is not null && (IsOpen
        || S.Notifications.Any(n => n.Status.State == NotificationState.Pending)
        || S.PendingAudit.Count > 0
        || S.IndexedRevision < S.Revision);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (HasWork)
        {
            // Catch up at once (a deadline may have passed while nobody held the workflow): the timer runs it as a turn of its own.
            EnsureTimer(TimeSpan.Zero);
        }

        return Task.CompletedTask;
    }

    public async Task<WorkflowStartResult> StartAsync(ApprovalWorkflowStart start)
    {
        ArgumentNullException.ThrowIfNull(start);
        await ProcessAsync();
        if (S.Start is { } existing)
        {
            return existing.RunId == start.RunId
                ? new WorkflowStartResult(WorkflowStartOutcome.AlreadyStarted, View())
                : new WorkflowStartResult(WorkflowStartOutcome.Conflict, View(),
                    $"Workflow '{WorkflowId}' of app '{AppId}' was started by run '{existing.RunId}', not '{start.RunId}'.", "runId");
        }

        if (Invalid(start) is { } problem)
        {
            return new WorkflowStartResult(WorkflowStartOutcome.Invalid, null, problem.Message, problem.Field);
        }

        var now = time.GetUtcNow();
        S.Start = Normalised(start);
        S.State = ApprovalWorkflowState.Pending;
        S.CreatedAt = now;
        S.Deadline = now + start.DecisionTimeout;
        S.History.Add(new WorkflowHistoryEntry(now, "started", start.Requester.Trim(),
            $"run {start.RunId}; approvers: {string.Join(", ", S.Start.Approvers)}; decision due by {S.Deadline:O}"));
        S.Revision++;
        await PersistAsync();
        await AfterChangeAsync();
        return new WorkflowStartResult(WorkflowStartOutcome.Started, View());
    }

    public async Task<WorkflowDecisionResult> DecideAsync(string principal, bool approve, string comment)
    {
        await ProcessAsync();
        if (S.Start is not { } start)
        {
            return new WorkflowDecisionResult(WorkflowDecisionOutcome.NotFound, null, $"App '{AppId}' has no workflow '{WorkflowId}'.");
        }

        principal = principal?.Trim() ?? "";
        comment = comment?.Trim() ?? "";
        if (ApprovalWorkflowStates.IsFinal(S.State))
        {
            if (S.Decision is { } done && done.Approve == approve && done.By == principal)
            {
                return new WorkflowDecisionResult(WorkflowDecisionOutcome.Repeated, View());
            }

            var why = S.Decision is { } decision
                ? $"Workflow '{WorkflowId}' was already {(decision.Approve ? "approved" : "rejected")} by '{decision.By}' at {decision.At:O}."
                : $"Workflow '{WorkflowId}' timed out at {S.History.LastOrDefault()?.At:O}: nobody decided in time.";
            return new WorkflowDecisionResult(WorkflowDecisionOutcome.Conflict, View(), why);
        }

        var view = View();
        if (!view.DecidersNow.Contains(principal, StringComparer.Ordinal))
        {
            var who = S.State == ApprovalWorkflowState.Escalated
                ? $"its approvers or escalation approvers ({string.Join(", ", view.DecidersNow)})"
                : $"its approvers ({string.Join(", ", start.Approvers)})" +
                  (start.EscalateTo.Count > 0 ? $", and once escalated {string.Join(", ", start.EscalateTo)}" : "");
            return new WorkflowDecisionResult(WorkflowDecisionOutcome.NotAnApprover, view,
                $"'{principal}' may not decide on workflow '{WorkflowId}' ({ApprovalWorkflowStates.Name(S.State)}); only {who} may.");
        }

        if (comment.Length == 0)
        {
            return new WorkflowDecisionResult(WorkflowDecisionOutcome.Invalid, view,
                approve ? "An approval needs a comment." : "A rejection needs a comment saying why.");
        }

        if (comment.Length > ApprovalWorkflows.MaxCommentLength)
        {
            return new WorkflowDecisionResult(WorkflowDecisionOutcome.Invalid, view,
                $"A comment has at most {ApprovalWorkflows.MaxCommentLength} characters (got {comment.Length}).");
        }

        var now = time.GetUtcNow();
        S.Decision = new WorkflowDecision(principal, approve, comment, now);
        S.State = approve ? ApprovalWorkflowState.Approved : ApprovalWorkflowState.Rejected;
        S.Deadline = null;
        var name = ApprovalWorkflowStates.Name(S.State);
        S.History.Add(new WorkflowHistoryEntry(now, name, principal, comment));

        // The authority to decide is being named on the workflow, whatever the principal's admin role.
        var role = start.Approvers.Contains(principal, StringComparer.Ordinal) ? "workflow approver" : "escalation approver";
        S.PendingAudit.Add(new AuditRecord(principal, role, $"workflow.{name}", $"app:{AppId}", $"workflow {WorkflowId}: {comment}"));
        Notify(name, now);
        S.Revision++;
        await PersistAsync();
        await AfterChangeAsync();
        return new WorkflowDecisionResult(WorkflowDecisionOutcome.Decided, View());
    }

    public async Task<ApprovalWorkflowView?> GetAsync()
    {
        await ProcessAsync();
        return S.Start is null ? null : View();
    }

    public Task ReceiveReminder(string reminderName, TickStatus status) =>
        // Ticks may be missed or repeated: processing only does what is due by the platform clock, so either is harmless.
        ProcessAsync();

    /// <summary>Applies every deadline that has passed, then does the side work that is due.</summary>
    private async Task ProcessAsync()
    {
        if (S.Start is null)
        {
            return;
        }

        if (ApplyOverdue(time.GetUtcNow()))
        {
            S.Revision++;
            await PersistAsync();
        }

        await AfterChangeAsync();
    }

    /// <summary>
    /// Moves a workflow whose deadline has passed: pending → escalated (when there are escalation approvers) or timed
    /// out; escalated → timed out. Each step happens at its deadline, so a workflow read long after both deadlines
    /// shows both steps, at the times they were due.
    /// </summary>
    private bool ApplyOverdue(DateTimeOffset now)
    {
        var start = S.Start!;
        var changed = false;
        while (IsOpen && S.Deadline is { } deadline && deadline <= now)
        {
            changed = true;
            if (S.State == ApprovalWorkflowState.Pending && start.EscalateTo.Count > 0)
            {
                S.State = ApprovalWorkflowState.Escalated;
                S.Deadline = deadline + start.EscalationTimeout;
                var detail = $"the approvers did not decide within {start.DecisionTimeout}; escalated to {string.Join(", ", start.EscalateTo)} until {S.Deadline:O}";
                S.History.Add(new WorkflowHistoryEntry(deadline, ApprovalWorkflowStates.Escalated, SystemActor, detail));
                S.PendingAudit.Add(new AuditRecord(SystemActor, SystemActor, "workflow.escalated", $"app:{AppId}", $"workflow {WorkflowId}: {detail}"));
                Notify(ApprovalWorkflowStates.Escalated, now);
            }
            else
            {
                var detail = S.State == ApprovalWorkflowState.Pending
                    ? $"the approvers did not decide within {start.DecisionTimeout}"
                    : $"nobody decided within the escalation timeout {start.EscalationTimeout}";
                S.State = ApprovalWorkflowState.TimedOut;
                S.Deadline = null;
                S.History.Add(new WorkflowHistoryEntry(deadline, ApprovalWorkflowStates.TimedOut, SystemActor, detail));
                S.PendingAudit.Add(new AuditRecord(SystemActor, SystemActor, "workflow.timed_out", $"app:{AppId}", $"workflow {WorkflowId}: {detail}"));
                Notify(ApprovalWorkflowStates.TimedOut, now);
            }
        }

        return changed;
    }

    /// <summary>Adds the requester's notification of <paramref name="event"/> to the outbox (stored with the next write); none without a <c>notify</c> connector.</summary>
    private void Notify(string @event, DateTimeOffset now)
    {
        var start = S.Start!;
        if (string.IsNullOrWhiteSpace(start.Notify) || S.Notifications.Any(n => n.Status.Event == @event))
        {
            return;
        }

        var body = JsonSerializer.Serialize(new WebhookBody(
            @event, WorkflowId, AppId, start.Requester, ApprovalWorkflowStates.Name(S.State),
            S.Decision is { } d ? new WebhookDecision(d.By, d.Approve, d.Comment, d.At) : null,
            start.Recommendation), BodyJson);
        S.Notifications.Add(new StoredNotification
        {
            Status = new WorkflowNotification(@event, NotificationState.Pending, 0, null, now, null, now, null, $"{WorkflowId}/{@event}"),
            Body = body,
        });
    }

    /// <summary>After a durable change (or to catch up): audit, inbox, deliveries, the wake-up timer and the reminder. Failures are retried on the next pass.</summary>
    private async Task AfterChangeAsync()
    {
        await FlushAuditAsync();
        await UpdateInboxAsync();
        StartDueDeliveries();
        ArmTimer();
        await SyncReminderAsync();
    }

    private async Task FlushAuditAsync()
    {
        if (S.PendingAudit.Count == 0)
        {
            return;
        }

        try
        {
            var log = AuditLog.Get(GrainFactory);
            while (S.PendingAudit.Count > 0)
            {
                await log.AppendAsync(S.PendingAudit[0]);
                S.PendingAudit.RemoveAt(0);
                Commit.MarkChanged();
            }

            await Commit.PersistAsync();
        }
        catch (Exception ex)
        {
            // Still pending (an entry may repeat if the write after an append failed); the next pass appends it.
            logger.LogWarning(ex, "Workflow {Workflow} could not append to the audit log; it retries on its next wake-up", Key);
        }
    }

    private async Task UpdateInboxAsync()
    {
        if (S.IndexedRevision >= S.Revision)
        {
            return;
        }

        try
        {
            var revision = S.Revision;
            await GrainFactory.GetGrain<IApprovalInboxGrain>(AppId).RecordAsync(Summary());

            // Written lazily with the next change: an unwritten mark only repeats an idempotent inbox write.
            S.IndexedRevision = Math.Max(S.IndexedRevision, revision);
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Workflow {Workflow} could not update its app's inbox; it retries on its next wake-up", Key);
        }
    }

    private void StartDueDeliveries()
    {
        if (_delivering || NextDue(time.GetUtcNow()) is null)
        {
            return;
        }

        _delivering = true;

        // Runs on this activation beside later calls, so a slow webhook does not hold up reads and decisions.
        _ = DeliverDueAsync();
    }

    private StoredNotification? NextDue(DateTimeOffset now) =>
        S.Notifications.FirstOrDefault(n => n.Status.State == NotificationState.Pending && (n.Status.NextAttemptAt is not { } next || next <= now));

    private async Task DeliverDueAsync()
    {
        try
        {
            while (NextDue(time.GetUtcNow()) is { } due)
            {
                await AttemptAsync(due);
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Workflow {Workflow} stopped delivering notifications; they stay pending", Key);
        }
        finally
        {
            _delivering = false;
            ArmTimer();
        }
    }

    private async Task AttemptAsync(StoredNotification notification)
    {
        var start = S.Start!;
        ConnectorResponse response;
        try
        {
            var manifest = _manifest ??= (await GrainFactory.GetGrain<IMicroAppGrain>(AppId).GetVersionAsync(start.Version))?.Manifest;
            if (manifest is null)
            {
                response = ConnectorResponse.Failure("connector_failed", $"version {start.Version} of app '{AppId}' was not found");
            }
            else
            {
                using var timeout = new CancellationTokenSource(AttemptTimeout);
                response = await connectors.SendAsync(
                    new ConnectorCall(AppId, manifest, start.Notify, "", notification.Status.IdempotencyKey), notification.Body, timeout.Token);
            }
        }
        catch (Exception ex)
        {
            response = ConnectorResponse.Failure("connector_failed", $"{ex.GetType().Name}: {ex.Message}");
        }

        var now = time.GetUtcNow();
        var status = notification.Status;
        var attempts = status.Attempts + 1;
        notification.Status = response.Ok
            ? status with { State = NotificationState.Delivered, Attempts = attempts, LastError = null, LastAttemptAt = now, NextAttemptAt = null, DeliveredAt = now }
            : response.Refused
                // Not declared or outside the egress allowlist: this version's manifest never changes, so retrying cannot help.
                ? status with { State = NotificationState.Failed, Attempts = attempts, LastError = Describe(response), LastAttemptAt = now, NextAttemptAt = null }
                : status with { Attempts = attempts, LastError = Describe(response), LastAttemptAt = now, NextAttemptAt = now + Backoff(attempts) };
        if (!response.Ok)
        {
            logger.LogInformation("Notification {Event} of workflow {Workflow} failed (attempt {Attempts}): {Error}", status.Event, Key, attempts, Describe(response));
        }

        Commit.MarkChanged();
        await Commit.PersistAsync();
    }

    private TimeSpan Backoff(int attempts)
    {
        var delay = _options.NotificationRetryDelay * Math.Pow(2, Math.Min(attempts - 1, 20));
        return delay < _options.ReminderPeriod ? delay : _options.ReminderPeriod;
    }

    private static string Describe(ConnectorResponse response) => $"{response.ErrorCode}: {response.ErrorMessage}";

    /// <summary>Wakes the workflow at its next deadline or retry (while active), at most an hour ahead.</summary>
    private void ArmTimer()
    {
        DateTimeOffset? wake = IsOpen ? S.Deadline : null;
        if (!_delivering)
        {
            foreach (var n in S.Notifications.Where(n => n.Status.State == NotificationState.Pending))
            {
                var at = n.Status.NextAttemptAt ?? time.GetUtcNow();
                wake = wake is { } w && w <= at ? w : at;
            }
        }

        if (wake is null && S.PendingAudit.Count == 0 && S.IndexedRevision >= S.Revision)
        {
            _timer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            return;
        }

        // Side work that failed (audit, inbox) is retried at the reminder period.
        var due = (wake ?? time.GetUtcNow() + _options.ReminderPeriod) - time.GetUtcNow();
        EnsureTimer(due < TimeSpan.Zero ? TimeSpan.Zero : due > LongestTimerWait ? LongestTimerWait : due);
    }

    private void EnsureTimer(TimeSpan due)
    {
        if (_timer is null)
        {
            _timer = this.RegisterGrainTimer(_ => ProcessAsync(), new GrainTimerCreationOptions(due, Timeout.InfiniteTimeSpan) { Interleave = false, KeepAlive = false });
        }
        else
        {
            _timer.Change(due, Timeout.InfiniteTimeSpan);
        }
    }

    private async Task SyncReminderAsync()
    {
        if (_remindersUnavailable)
        {
            return;
        }

        try
        {
            if (HasWork && _reminderRegistered != true)
            {
                await this.RegisterOrUpdateReminder(ReminderName, _options.ReminderPeriod, _options.ReminderPeriod);
                _reminderRegistered = true;
            }
            else if (!HasWork && _reminderRegistered != false)
            {
                // Unknown after an activation: an earlier one may have left it registered.
                if (await this.GetReminder(ReminderName) is { } reminder)
                {
                    await this.UnregisterReminder(reminder);
                }

                _reminderRegistered = false;
            }
        }
        catch (Exception ex)
        {
            // A host without a reminder service still meets deadlines while the workflow is active; it loses only the wake-up after a restart.
            _remindersUnavailable = true;
            logger.LogWarning(ex, "Workflow {Workflow} could not use its reminder; deadlines and retries run only while it is active or called", Key);
        }
    }

    private async Task PersistAsync()
    {
        Commit.MarkChanged();
        try
        {
            await Commit.PersistAsync();
        }
        catch
        {
            // The caller is told it failed; reload the stored state rather than keep a change that is not on record.
            DeactivateOnIdle();
            throw;
        }
    }

    private (string Field, string Message)? Invalid(ApprovalWorkflowStart start)
    {
        if (start.AppId != AppId)
        {
            return ("appId", $"The workflow belongs to app '{AppId}', not '{start.AppId}'.");
        }

        if (start.Version < 1)
        {
            return ("version", "The app version must be 1 or more.");
        }

        if (string.IsNullOrWhiteSpace(start.RunId))
        {
            return ("runId", "A run id is required.");
        }

        if (string.IsNullOrWhiteSpace(start.Requester))
        {
            return ("fields.requester", "Who is asking is required.");
        }

        if ((start.Approvers ?? []).All(string.IsNullOrWhiteSpace))
        {
            return ("parameters.approvers", "At least one approver is required.");
        }

        if (start.DecisionTimeout <= TimeSpan.Zero)
        {
            return ("parameters.decisionTimeout", "The decision timeout must be positive.");
        }

        return (start.EscalateTo ?? []).Any(a => !string.IsNullOrWhiteSpace(a)) && start.EscalationTimeout <= TimeSpan.Zero
            ? ("parameters.escalationTimeout", "The escalation timeout must be positive.")
            : null;
    }

    // Arrays, not the caller's collections: stored state must not hold compiler-generated collection types.
    private static ApprovalWorkflowStart Normalised(ApprovalWorkflowStart start) => start with
    {
        Requester = start.Requester.Trim(),
        Approvers = Names(start.Approvers),
        EscalateTo = Names(start.EscalateTo),
        Notify = start.Notify?.Trim() ?? "",
    };

    private static string[] Names(IReadOnlyList<string>? names) =>
        (names ?? []).Select(n => n?.Trim() ?? "").Where(n => n.Length > 0).Distinct(StringComparer.Ordinal).ToArray();

    private ApprovalWorkflowView View()
    {
        var start = S.Start!;
        return new ApprovalWorkflowView(
            WorkflowId, AppId, start.Version, start.RunId, S.State, start.Requester, start.RequestText, start.Recommendation,
            start.Approvers.ToArray(), start.EscalateTo.ToArray(), S.CreatedAt, IsOpen ? S.Deadline : null, S.Decision,
            S.Notifications.Select(n => n.Status).ToArray(), S.History.ToArray());
    }

    private ApprovalWorkflowSummary Summary()
    {
        var start = S.Start!;
        return new ApprovalWorkflowSummary(
            WorkflowId, S.State, start.Requester, start.Approvers.ToArray(), start.EscalateTo.ToArray(), S.CreatedAt,
            IsOpen ? S.Deadline : null, S.History.Count > 0 ? S.History[^1].At : S.CreatedAt, S.Decision?.By, S.Revision);
    }

    private sealed record WebhookBody(
        string Event, string WorkflowId, string AppId, string Requester, string State, WebhookDecision? Decision, string Recommendation);

    private sealed record WebhookDecision(string By, bool Approve, string Comment, DateTimeOffset At);
}
