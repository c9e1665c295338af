using System.Collections.Concurrent;
using System.Reflection;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Audit;
using MicroApps.Orleans.Catalog;
using MicroApps.Orleans.Connectors;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.UnitTests.Connectors;

/// <summary>
/// The gateway as a silo registers it (AddMicroAppsConnectors: options, named HTTP client without redirects, EgressGuard),
/// with an in-memory audit log behind the grain factory so refusals can be seen.
/// </summary>
public sealed class ConnectorHarness : IDisposable
{
    private readonly ServiceProvider _services;

    public ConnectorHarness(IDictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?>
            {
                // Short backoff so retried webhooks finish quickly; the number of retries is what the tests check.
                ["Connectors:Webhook:RetryDelay"] = "00:00:00.020",
            })
            .AddInMemoryCollection(settings ?? new Dictionary<string, string?>())
            .Build();
        var grains = DispatchProxy.Create<IGrainFactory, AuditOnlyGrainFactory>();
        ((AuditOnlyGrainFactory)(object)grains).Audit = Audit;
        var services = new ServiceCollection();
        services.AddLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton(grains);
        services.AddMicroAppsConnectors(configuration);
        _services = services.BuildServiceProvider(new ServiceProviderOptions { ValidateOnBuild = true });
        Gateway = _services.GetRequiredService<IConnectorGateway>();
    }

    public IConnectorGateway Gateway { get; }

    public RecordingAuditLog Audit { get; } = new();

    /// <summary>Every log line the gateway wrote, formatted.</summary>
    public CapturingLoggerProvider Logs { get; } = new();

    public static AppManifest Manifest(IReadOnlyList<string> allowlist, params ConnectorRef[] connectors) =>
        new("Connector test", "owner", "team", Audience.Internal, [], ["standard"], "standard", AppQuotas.Default, "", "v1",
            Connectors: connectors, EgressAllowlist: allowlist);

    public static ConnectorRef HttpJson(string name, string host, string baseUrl, int? timeoutSeconds = null, int? maxBytes = null)
    {
        var settings = new Dictionary<string, string> { ["baseUrl"] = baseUrl };
        if (timeoutSeconds is { } t)
        {
            settings["timeoutSeconds"] = t.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        if (maxBytes is { } m)
        {
            settings["maxBytes"] = m.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return new ConnectorRef(name, host, [], BuiltInCatalog.HttpJson.Ref, settings);
    }

    public static ConnectorRef Webhook(string name, string host, string url, int? timeoutSeconds = null)
    {
        var settings = new Dictionary<string, string> { ["url"] = url };
        if (timeoutSeconds is { } t)
        {
            settings["timeoutSeconds"] = t.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return new ConnectorRef(name, host, [], BuiltInCatalog.Webhook.Ref, settings);
    }

    public void Dispose() => _services.Dispose();

    public sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyList<string> Lines => _lines.ToArray();

        public ILogger CreateLogger(string categoryName) => new Logger(this);

        public void Dispose()
        {
        }

        private sealed class Logger(CapturingLoggerProvider owner) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                owner._lines.Enqueue(formatter(state, exception));
        }
    }

    public sealed class RecordingAuditLog : IAuditLogGrain
    {
        private readonly ConcurrentQueue<AuditRecord> _records = new();

        public IReadOnlyList<AuditRecord> Records => _records.ToArray();

        public Task<AuditEntry> AppendAsync(AuditRecord record)
        {
            _records.Enqueue(record);
            return Task.FromResult(new AuditEntry(_records.Count, DateTimeOffset.UnixEpoch, record, "hash"));
        }

        public Task<AuditPage> QueryAsync(AuditQuery query) => throw new NotSupportedException();

        public Task<AuditVerification> VerifyAsync(DateTimeOffset? from, DateTimeOffset? to) => throw new NotSupportedException();
    }

    /// <summary>Answers GetGrain&lt;IAuditLogGrain&gt;("default") and refuses anything else, so no other grain is used unseen.</summary>
    public class AuditOnlyGrainFactory : DispatchProxy
    {
        internal object? Audit { get; set; }

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            if (targetMethod is { Name: nameof(IGrainFactory.GetGrain), IsGenericMethod: true }
                && targetMethod.GetGenericArguments()[0] == typeof(IAuditLogGrain)
                && args is ["default", ..])
            {
                return Audit;
            }

            throw new InvalidOperationException($"unexpected call {targetMethod?.Name}({string.Join(", ", args ?? [])})");
        }
    }
}
