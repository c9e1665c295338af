using MicroApps.Orleans.Audit;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Governance;

/// <summary>
/// The check a connector makes before every outbound request: the target must be an absolute http(s) URL whose host is
/// on the app's egress allowlist. A refusal is logged and appended to the audit log as <c>egress.refused</c>.
/// </summary>
public sealed partial class EgressGuard(IGrainFactory grains, ILogger<EgressGuard> logger)
{
    /// <summary>
    /// Whether <paramref name="appId"/> may reach <paramref name="target"/>. Returns false for anything not on the list
    /// (including non-http(s) or relative URLs); the refusal is audited before this returns. An audit-log failure is
    /// logged and does not turn a refusal into an allow.
    /// </summary>
    public async Task<bool> AuthorizeAsync(string appId, IReadOnlyList<string> allowlist, Uri target)
    {
        ArgumentNullException.ThrowIfNull(appId);
        ArgumentNullException.ThrowIfNull(target);
        var list = new EgressAllowlist(allowlist ?? []);
        string reason;
        if (target is not { IsAbsoluteUri: true } || (target.Scheme != Uri.UriSchemeHttp && target.Scheme != Uri.UriSchemeHttps))
        {
            reason = $"target {target} is not an absolute http(s) URL";
        }
        else if (list.Check(target.IdnHost) is { Allowed: true })
        {
            return true;
        }
        else
        {
            reason = $"host {target.IdnHost.ToLowerInvariant().TrimEnd('.')} is not on the app's egress allowlist";
        }

        LogRefused(appId, reason);
        try
        {
            await AuditLog.Get(grains)
                .AppendAsync(new AuditRecord("system", "platform", "egress.refused", $"app:{appId}", reason));
        }
        catch (Exception e)
        {
            LogAuditFailed(e, appId);
        }

        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Egress refused for app {AppId}: {Reason}")]
    private partial void LogRefused(string appId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not audit an egress refusal for app {AppId}")]
    private partial void LogAuditFailed(Exception exception, string appId);
}
