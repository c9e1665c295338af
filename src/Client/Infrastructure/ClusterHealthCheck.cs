using MicroApps.Orleans.Apps;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.Infrastructure;

/// <summary>Ready when one cheap grain call reaches the cluster within <see cref="FrontDoorOptions.ReadinessTimeout"/>.</summary>
internal sealed class ClusterHealthCheck(IGrainFactory grains, IOptions<FrontDoorOptions> options) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            await grains.GetGrain<IAppRegistryGrain>(0).ListAsync().WaitAsync(options.Value.ReadinessTimeout, cancellationToken);
            return HealthCheckResult.Healthy("cluster reachable");
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy("cluster unreachable: " + ex.GetType().Name);
        }
    }
}
