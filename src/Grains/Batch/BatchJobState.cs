using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Batch;

/// <summary>A batch job as stored: its items with their results, and the job's own key while the job runs.</summary>
[GenerateSerializer, Alias("microapps.BatchJobState")]
public sealed class BatchJobState
{
    [Id(0)] public bool Exists { get; set; }

    [Id(1)] public string AppId { get; set; } = "";

    [Id(2)] public string Pool { get; set; } = "";

    [Id(3)] public string Tier { get; set; } = "";

    [Id(4)] public string Status { get; set; } = BatchJobStatuses.Queued;

    [Id(5)] public DateTimeOffset CreatedAt { get; set; }

    [Id(6)] public DateTimeOffset? NotBefore { get; set; }

    [Id(7)] public DateTimeOffset? FinishedAt { get; set; }

    [Id(8)] public List<BatchItemState> Items { get; set; } = [];

    /// <summary>
    /// The job's own app key (<c>mak.…</c>), issued for this job and revoked when it ends, when this is cleared.
    /// It is a secret kept in grain state: see docs/savings-batch.md.
    /// </summary>
    [Id(9)] public string? JobKey { get; set; }

    [Id(10)] public string JobKeyId { get; set; } = "";

    [Id(11)] public bool KeyRevoked { get; set; }

    /// <summary>Hash of the submission, so a retried submission is recognised and a different one refused.</summary>
    [Id(12)] public string SubmissionHash { get; set; } = "";

    /// <summary>Set once the job is on its pool's queue.</summary>
    [Id(13)] public bool Enqueued { get; set; }
}

/// <summary>One item and its result.</summary>
[GenerateSerializer, Alias("microapps.BatchItemState")]
public sealed class BatchItemState
{
    [Id(0)] public BatchItemRequest Request { get; set; } = null!;

    [Id(1)] public string Status { get; set; } = BatchItemStatuses.Queued;

    /// <summary>The attempt the next (or current) governed call makes; its request id follows from it.</summary>
    [Id(2)] public int Attempt { get; set; } = 1;

    /// <summary>Not run before this time (a quota or budget asked the item to wait).</summary>
    [Id(3)] public DateTimeOffset? RetryAt { get; set; }

    [Id(4)] public string? Content { get; set; }

    [Id(5)] public string? Model { get; set; }

    [Id(6)] public TokenUsage Usage { get; set; } = TokenUsage.Zero;

    [Id(7)] public decimal CostUsd { get; set; }

    [Id(8)] public string? ErrorCode { get; set; }

    [Id(9)] public string? ErrorMessage { get; set; }

    /// <summary>Times a quota or the budget made the item wait.</summary>
    [Id(10)] public int Deferrals { get; set; }
}

/// <summary>A pool's durable queue of job ids, oldest first.</summary>
[GenerateSerializer, Alias("microapps.BatchPoolState")]
public sealed class BatchPoolState
{
    [Id(0)] public List<string> Jobs { get; set; } = [];
}
