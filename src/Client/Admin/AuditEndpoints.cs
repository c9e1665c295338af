using System.Globalization;
using MicroApps.Orleans.Audit;
using MicroApps.Orleans.Client.Infrastructure;
using Microsoft.AspNetCore.Mvc;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>An audit entry as the admin API shows it.</summary>
public sealed record AuditEntryView(long Sequence, DateTimeOffset At, string Actor, string Role, string Action, string Target, string Reason, string Hash)
{
    public static AuditEntryView From(AuditEntry entry) =>
        new(entry.Sequence, entry.At, entry.Record.Actor, entry.Record.Role, entry.Record.Action, entry.Record.Target, entry.Record.Reason, entry.Hash);
}

/// <summary>A page of the audit log, newest first; follow <c>continuation</c> until it is null.</summary>
public sealed record AuditPageView(IReadOnlyList<AuditEntryView> Entries, string? Continuation);

/// <summary>
/// Reading the audit log: <c>GET /admin/audit</c> (admin, approver, viewer; not authors, because the log holds every
/// principal's actions and comments across all apps) and <c>GET /admin/audit/verify</c> (admin).
/// </summary>
internal static class AuditEndpoints
{
    private const int MaxFilterLength = 300;

    internal static void MapAuditEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/audit", QueryAsync)
            .WithName("QueryAudit").AllowRoles(AdminRole.Viewer, AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Audit entries newest first, filtered by time (from inclusive, to exclusive), actor, action prefix and target; paged with a continuation.")
            .Produces<AuditPageView>().ProducesValidationProblem();

        admin.MapGet("/audit/verify", VerifyAsync)
            .WithName("VerifyAudit").AllowRoles(AdminRole.Admin)
            .WithSummary("Recomputes the audit log's hash chain over the days in [from, to) and names the first broken sequence.")
            .Produces<AuditVerification>().ProducesValidationProblem();
    }

    internal static async Task<IResult> QueryAsync(
        [FromQuery] string? from,
        [FromQuery] string? to,
        [FromQuery] string? actor,
        [FromQuery] string? action,
        [FromQuery] string? target,
        [FromQuery] string? pageSize,
        [FromQuery] string? continuation,
        IGrainFactory grains,
        ClusterCalls cluster,
        CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (fromTime, toTime) = ParseRange(from, to, errors);
        foreach (var (name, value) in new[] { ("actor", actor), ("action", action), ("target", target) })
        {
            if (value is { Length: > MaxFilterLength })
            {
                errors[name] = [$"At most {MaxFilterLength} characters."];
            }
        }

        var size = AuditQuery.DefaultPageSize;
        if (!string.IsNullOrEmpty(pageSize) && (!int.TryParse(pageSize, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size is < 1 or > AuditQuery.MaxPageSize))
        {
            errors["pageSize"] = [$"Must be a whole number from 1 to {AuditQuery.MaxPageSize}; got '{pageSize}'."];
        }

        if (!string.IsNullOrEmpty(continuation) && !AuditLogGrain.TryParseContinuation(continuation, out _))
        {
            errors["continuation"] = ["Pass back the continuation of the previous page unchanged."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var query = new AuditQuery(fromTime, toTime, Blank(actor), Blank(action), Blank(target), size, Blank(continuation));
        var log = AuditLog.Get(grains);
        var page = await cluster.RunAsync(_ => new ValueTask<AuditPage>(log.QueryAsync(query)), cancellationToken);
        return TypedResults.Ok(new AuditPageView(page.Entries.Select(AuditEntryView.From).ToArray(), page.Continuation));
    }

    internal static async Task<IResult> VerifyAsync([FromQuery] string? from, [FromQuery] string? to, IGrainFactory grains, ClusterCalls cluster, CancellationToken cancellationToken)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var (fromTime, toTime) = ParseRange(from, to, errors);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var log = AuditLog.Get(grains);
        return TypedResults.Ok(await cluster.RunAsync(_ => new ValueTask<AuditVerification>(log.VerifyAsync(fromTime, toTime)), cancellationToken));
    }

    private static (DateTimeOffset? From, DateTimeOffset? To) ParseRange(string? from, string? to, Dictionary<string, string[]> errors)
    {
        var fromTime = AdminQuery.ParseTime("from", from, errors);
        var toTime = AdminQuery.ParseTime("to", to, errors);
        if (fromTime is { } f && toTime is { } t && f >= t)
        {
            errors["to"] = ["Must be after 'from'."];
        }

        return (fromTime, toTime);
    }


    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
