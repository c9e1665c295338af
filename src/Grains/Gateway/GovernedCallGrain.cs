using Microsoft.Extensions.DependencyInjection;
using System.Threading.Channels;
using Orleans.Concurrency;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// The governed call: runs the <see cref="GovernedCallPipeline"/> for each request. It holds no state of
/// its own, so it is a reentrant stateless worker with one activation per silo: calls interleave freely,
/// and a stream's follow-up calls (which address the grain id again) always find the activation that
/// holds their enumerator.
/// </summary>
[StatelessWorker(1)]
[Reentrant]
public sealed class GovernedCallGrain(GovernedCallPipeline pipeline, IGrainFactory grains, ModelCatalog catalog, [FromKeyedServices(PlatformClock.Key)] TimeProvider time, ILogger<GovernedCallGrain> logger)
    : Grain, IGovernedCallGrain
{
    public async Task<GovernedChatResult> CompleteAsync(GovernedChatRequest request)
    {
        var context = CreateContext(request, null, CancellationToken.None);
        await RunAsync(context);
        return context.Result!;
    }

    public IAsyncEnumerable<GovernedChatChunk> StreamAsync(GovernedChatRequest request)
    {
        var channel = Channel.CreateUnbounded<GovernedChatChunk>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var abort = new CancellationTokenSource();
        var context = CreateContext(request, channel.Writer, abort.Token);

        // The pipeline runs independently of the reader, so settling happens even if the caller walks away.
        var run = RunStreamingAsync(context, channel.Writer);
        return new ChunkStream(channel.Reader, abort, run);
    }

    public async Task<ModelListing> ListModelsAsync(string apiKey)
    {
        if (!ApiKeys.TryParse(apiKey, out var appId, out var keyId, out var secret))
        {
            return new ModelListing(GovernedOutcome.Unauthorized, "The API key is missing or malformed; app keys look like mak.{appId}.{keyId}.{secret}.", []);
        }

        // Authentication only: listing models must not count against the app's request quota.
        var profile = await grains.GetGrain<IMicroAppGrain>(appId).AuthenticateAsync(keyId, secret);
        if (profile is null)
        {
            return new ModelListing(GovernedOutcome.Unauthorized, "The API key is unknown or revoked.", []);
        }

        var models = profile.AllowedTiers
            .Where(tier => catalog.ModelsOf(tier).Count > 0)
            .SelectMany(tier => catalog.ModelsOf(tier).Select(m => new AvailableModel(m.Name, tier, m.External, m.InputPricePer1K, m.OutputPricePer1K)))
            .DistinctBy(m => m.Name)
            .ToArray();
        return new ModelListing(GovernedOutcome.Completed, null, models);
    }

    private GovernedCallContext CreateContext(GovernedChatRequest request, ChannelWriter<GovernedChatChunk>? deltas, CancellationToken abort)
    {
        ArgumentNullException.ThrowIfNull(request);
        var requestId = string.IsNullOrWhiteSpace(request.RequestId) ? Guid.NewGuid().ToString("N") : request.RequestId.Trim();

        // Orleans may hand us nulls a .NET caller left in the record; treat them as "not given".
        request = request with
        {
            Parameters = request.Parameters ?? ChatParameters.None,
            Messages = request.Messages ?? [],
            Model = request.Model ?? "",
        };
        return new GovernedCallContext(request, requestId, time, deltas, abort);
    }

    private async Task RunAsync(GovernedCallContext context)
    {
        try
        {
            await pipeline.InvokeAsync(context);
        }
        catch (OperationCanceledException) when (context.CallAborted.IsCancellationRequested)
        {
            context.Result ??= GovernedChatResult.Failure(GovernedOutcome.BackendFailed, context.RequestId, "cancelled", "The caller stopped the call.");
        }
        catch (Exception ex)
        {
            logger.LogError(ex, "Governed call {RequestId} of app {AppId} failed", context.RequestId, context.AppId);
            context.Fail(GovernedOutcome.BackendFailed, "gateway_error", $"The governed call failed: {ex.GetType().Name}.");
        }
    }

    private async Task RunStreamingAsync(GovernedCallContext context, ChannelWriter<GovernedChatChunk> writer)
    {
        // Let StreamAsync return its enumerable before the pipeline starts working.
        await Task.Yield();
        await RunAsync(context);
        writer.TryWrite(new GovernedChatChunk(null, context.Result));
        writer.TryComplete();
    }

    /// <summary>
    /// The stream handed to Orleans. A hand-written enumerator rather than an iterator method: disposing it
    /// while a read is pending is allowed, and disposal cancels the model call and waits for the settle.
    /// </summary>
    private sealed class ChunkStream(ChannelReader<GovernedChatChunk> reader, CancellationTokenSource abort, Task run)
        : IAsyncEnumerable<GovernedChatChunk>, IAsyncEnumerator<GovernedChatChunk>
    {
        private int _enumerated;
        private bool _finished;

        public GovernedChatChunk Current { get; private set; } = null!;

        public IAsyncEnumerator<GovernedChatChunk> GetAsyncEnumerator(CancellationToken cancellationToken = default)
        {
            if (Interlocked.Exchange(ref _enumerated, 1) != 0)
            {
                throw new InvalidOperationException("A governed call stream can be enumerated once.");
            }

            return this;
        }

        public async ValueTask<bool> MoveNextAsync()
        {
            while (await reader.WaitToReadAsync())
            {
                if (reader.TryRead(out var chunk))
                {
                    Current = chunk;
                    _finished = chunk.Final is not null;
                    return true;
                }
            }

            _finished = true;
            return false;
        }

        public async ValueTask DisposeAsync()
        {
            if (!_finished)
            {
                await abort.CancelAsync();
            }

            await run;
            abort.Dispose();
        }
    }
}
