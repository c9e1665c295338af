using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Runtime;
using Orleans.Runtime.Messaging;
using Polly;
using Polly.Retry;

namespace MicroApps.Orleans.Client.Infrastructure;

/// <summary>
/// Retries idempotent grain calls while the cluster is unreachable (a silo restarting, no gateway yet),
/// for at most <see cref="FrontDoorOptions.ClusterRetryWindow"/>. Callers pass the same request id on
/// every attempt, so a retried governed call is charged once.
/// </summary>
public sealed class ClusterCalls
{
    private static readonly ResiliencePropertyKey<long> StartedAt = new("microapps.started-at");

    private readonly ResiliencePipeline pipeline;
    private readonly TimeSpan window;

    public ClusterCalls(IOptions<FrontDoorOptions> options, ILogger<ClusterCalls> logger)
    {
        window = options.Value.ClusterRetryWindow;
        pipeline = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = int.MaxValue,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(100),
                MaxDelay = TimeSpan.FromSeconds(2),
                UseJitter = true,
                ShouldHandle = args => ValueTask.FromResult(
                    args.Outcome.Exception is { } ex && IsTransient(ex) && WithinWindow(args.Context)),
                OnRetry = args =>
                {
                    logger.LogWarning("Cluster call failed ({Error}); retry {Attempt} in {Delay}",
                        args.Outcome.Exception?.GetType().Name, args.AttemptNumber + 1, args.RetryDelay);
                    return ValueTask.CompletedTask;
                },
            })
            .Build();
    }

    /// <summary>Runs <paramref name="call"/>, retrying transient cluster failures within the window.</summary>
    /// <exception cref="Exception">The last failure when it is not transient or the window is used up.</exception>
    public async ValueTask<T> RunAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken)
    {
        var context = ResilienceContextPool.Shared.Get(cancellationToken);
        try
        {
            context.Properties.Set(StartedAt, Stopwatch.GetTimestamp());
            return await pipeline.ExecuteAsync(static (ctx, state) => state(ctx.CancellationToken), context, call);
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    private bool WithinWindow(ResilienceContext context) =>
        context.Properties.TryGetValue(StartedAt, out var started) && Stopwatch.GetElapsedTime(started) < window;

    /// <summary>True for failures that mean "the cluster could not be reached", not "the call failed".</summary>
    public static bool IsTransient(Exception exception) => exception switch
    {
        OrleansMessageRejectionException or SiloUnavailableException or ConnectionFailedException or TimeoutException => true,
        OrleansException { InnerException: { } inner } => IsTransient(inner),
        AggregateException { InnerExceptions.Count: 1 } aggregate => IsTransient(aggregate.InnerExceptions[0]),
        _ => false,
    };
}
