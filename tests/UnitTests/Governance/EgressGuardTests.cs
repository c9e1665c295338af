using System.Reflection;
using MicroApps.Orleans.Audit;
using MicroApps.Orleans.Governance;
using Microsoft.Extensions.Logging.Abstractions;

namespace MicroApps.Orleans.UnitTests.Governance;

public sealed class EgressGuardTests
{
    private static readonly IReadOnlyList<string> Allowlist = ["api.example.com", "*.corp.example.org"];

    [Fact]
    public async Task Allowed_target_is_authorized_without_an_audit_record()
    {
        var (guard, audit) = CreateGuard();
        Assert.True(await guard.AuthorizeAsync("crm-helper", Allowlist, new Uri("https://hr.corp.example.org/people")));
        Assert.Empty(audit.Records);
    }

    [Fact]
    public async Task Unlisted_host_is_refused_and_audited()
    {
        var (guard, audit) = CreateGuard();
        Assert.False(await guard.AuthorizeAsync("crm-helper", Allowlist, new Uri("https://Exfil.Example.NET/upload")));
        var record = Assert.Single(audit.Records);
        Assert.Equal(new AuditRecord("system", "platform", "egress.refused", "app:crm-helper", "host exfil.example.net is not on the app's egress allowlist"), record);
    }

    [Fact]
    public async Task Non_http_target_is_refused_and_audited()
    {
        var (guard, audit) = CreateGuard();
        Assert.False(await guard.AuthorizeAsync("crm-helper", Allowlist, new Uri("ftp://api.example.com/dump")));
        Assert.Equal("target ftp://api.example.com/dump is not an absolute http(s) URL", Assert.Single(audit.Records).Reason);
    }

    [Fact]
    public async Task Refusal_stands_when_the_audit_log_fails()
    {
        var (guard, audit) = CreateGuard();
        audit.Fail = true;
        Assert.False(await guard.AuthorizeAsync("crm-helper", Allowlist, new Uri("https://exfil.example.net/")));
    }

    private static (EgressGuard Guard, FakeAuditLog Audit) CreateGuard()
    {
        var audit = new FakeAuditLog();
        var factory = DispatchProxy.Create<IGrainFactory, FakeGrainFactory>();
        ((FakeGrainFactory)(object)factory).Audit = audit;
        return (new EgressGuard(factory, NullLogger<EgressGuard>.Instance), audit);
    }

    private sealed class FakeAuditLog : IAuditLogGrain
    {
        public List<AuditRecord> Records { get; } = [];

        public bool Fail { get; set; }

        public Task<AuditEntry> AppendAsync(AuditRecord record)
        {
            if (Fail)
            {
                throw new InvalidOperationException("audit store unavailable");
            }

            Records.Add(record);
            return Task.FromResult(new AuditEntry(Records.Count, DateTimeOffset.UnixEpoch, record, "hash"));
        }

        // The guard only appends; the audit log's reads (added on the rbac branch) are not part of this test.
        public Task<AuditPage> QueryAsync(AuditQuery query) => throw new NotSupportedException();

        public Task<AuditVerification> VerifyAsync(DateTimeOffset? from, DateTimeOffset? to) => throw new NotSupportedException();
    }

    /// <summary>Answers GetGrain&lt;IAuditLogGrain&gt;("default") and nothing else, so the test sees the exact grain key used.</summary>
    public class FakeGrainFactory : DispatchProxy
    {
        internal object? Audit { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod is { Name: nameof(IGrainFactory.GetGrain), IsGenericMethod: true }
                && targetMethod.GetGenericArguments()[0] == typeof(IAuditLogGrain)
                && args is [string key, ..]
                && key == "default")
            {
                return Audit;
            }

            throw new InvalidOperationException($"unexpected call {targetMethod?.Name}({string.Join(", ", args ?? [])})");
        }
    }
}
