using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MicroApps.Orleans.Telemetry;

/// <summary>
/// Flushes the silo's <see cref="TraceWriter"/> when the silo stops. It stops in the runtime's last stage, after
/// the grains were deactivated, so the events of the calls the silo finished while shutting down are written too.
/// </summary>
public sealed class TraceWriterLifecycle(TraceWriter writer, IOptions<TraceWriterOptions> options) : ILifecycleParticipant<ISiloLifecycle>
{
    public void Participate(ISiloLifecycle lifecycle)
    {
        lifecycle.Subscribe(nameof(TraceWriterLifecycle), ServiceLifecycleStage.RuntimeInitialize,
            _ => Task.CompletedTask,
            async cancellationToken =>
            {
                if (options.Value.Enabled)
                {
                    await writer.FlushAsync(cancellationToken);
                }
            });
    }
}
