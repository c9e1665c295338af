using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Embeddings;

/// <summary>Vectors for one caller's inputs, in order, and the backend tokens attributed to them.</summary>
public sealed record EmbeddingBatchResult(IReadOnlyList<float[]> Vectors, int Tokens);

/// <summary>The backend failed the batch a caller's inputs were in.</summary>
public sealed class EmbeddingBackendException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// Per-silo batching of embedding inputs (a singleton, like the GPSTracker sample's batching worker): inputs for one
/// (model, dimensions) that arrive within <see cref="EmbeddingOptions.BatchWindow"/> go to the backend as one generator
/// call of at most <see cref="EmbeddingOptions.MaxBatchInputs"/> inputs, and the vectors are split back to the callers.
/// The window is measured on the platform clock, so tests move it with a fake <see cref="TimeProvider"/>.
/// The backend reports usage per call, so a batch's tokens are shared among its callers in proportion to their
/// locally counted tokens (the whole to a caller alone in its batch); the shares always sum to the reported total.
/// </summary>
public sealed class EmbeddingBatcher(
    IEmbeddingBackends backends,
    TokenEstimator tokens,
    IOptions<EmbeddingOptions> options,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time,
    ILogger<EmbeddingBatcher> logger)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<(string Model, int? Dimensions), Batch> _open = [];
    private long _batchesSent;
    private long _inputsSent;

    /// <summary>Backend calls made since start.</summary>
    public long BatchesSent => Interlocked.Read(ref _batchesSent);

    /// <summary>Inputs sent to backends since start.</summary>
    public long InputsSent => Interlocked.Read(ref _inputsSent);

    /// <summary>
    /// Embeds <paramref name="inputs"/> with <paramref name="model"/>, sharing backend calls with other callers of the
    /// same (model, dimensions) in the window. Fails with <see cref="EmbeddingBackendException"/> when the backend fails.
    /// </summary>
    public Task<EmbeddingBatchResult> EmbedAsync(EmbeddingModelSpec model, int? dimensions, IReadOnlyList<string> inputs)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0)
        {
            return Task.FromResult(new EmbeddingBatchResult([], 0));
        }

        var caller = new Caller(inputs, inputs.Select(tokens.CountText).ToArray());
        var settings = options.Value;
        var window = settings.BatchWindow;
        var max = Math.Max(1, settings.MaxBatchInputs);
        var key = (model.Name, dimensions);
        var ready = new List<Batch>();
        lock (_lock)
        {
            var offset = 0;
            while (offset < inputs.Count)
            {
                if (!_open.TryGetValue(key, out var batch))
                {
                    batch = new Batch(model, dimensions);
                    _open[key] = batch;
                    if (window > TimeSpan.Zero)
                    {
                        batch.Timer = time.CreateTimer(static state => ((Closure)state!).Fire(), new Closure(this, key, batch), window, Timeout.InfiniteTimeSpan);
                    }
                }

                var take = Math.Min(inputs.Count - offset, max - batch.Count);
                batch.Segments.Add(new Segment(caller, offset, take));
                batch.Count += take;
                caller.Pending++;
                offset += take;
                if (batch.Count >= max || window <= TimeSpan.Zero)
                {
                    _open.Remove(key);
                    ready.Add(batch);
                }
            }
        }

        foreach (var batch in ready)
        {
            Send(batch);
        }

        return caller.Done.Task;
    }

    private void Fire((string Model, int? Dimensions) key, Batch batch)
    {
        lock (_lock)
        {
            // A batch that filled up was already taken out and sent.
            if (!_open.TryGetValue(key, out var open) || !ReferenceEquals(open, batch))
            {
                return;
            }

            _open.Remove(key);
        }

        Send(batch);
    }

    // On the thread pool: the batch must not run on (and wait for) the scheduler of whichever grain happened to fill it.
    private void Send(Batch batch) => _ = Task.Run(() => SendAsync(batch));

    private async Task SendAsync(Batch batch)
    {
        batch.Timer?.Dispose();
        var inputs = new List<string>(batch.Count);
        foreach (var segment in batch.Segments)
        {
            for (var i = 0; i < segment.Count; i++)
            {
                inputs.Add(segment.Caller.Inputs[segment.Start + i]);
            }
        }

        Interlocked.Increment(ref _batchesSent);
        Interlocked.Add(ref _inputsSent, inputs.Count);
        GeneratedEmbeddings<Embedding<float>> generated;
        try
        {
            var generator = backends.GetEmbeddingGenerator(batch.Model.Backend, batch.Model.Name);
            generated = await generator.GenerateAsync(inputs, new EmbeddingGenerationOptions { ModelId = batch.Model.Name, Dimensions = batch.Dimensions });
            if (generated.Count != inputs.Count)
            {
                throw new InvalidOperationException($"the backend returned {generated.Count} embeddings for {inputs.Count} inputs");
            }
        }
        catch (Exception ex)
        {
            logger.LogWarning(ex, "Embedding batch of {Inputs} inputs for model {Model} on backend {Backend} failed", inputs.Count, batch.Model.Name, batch.Model.Backend);
            var failure = new EmbeddingBackendException($"The embedding backend '{batch.Model.Backend}' failed for model '{batch.Model.Name}': {ex.Message}", ex);
            foreach (var segment in batch.Segments)
            {
                segment.Caller.Done.TrySetException(failure);
            }

            return;
        }

        var counted = batch.Segments.Select(s => (long)s.CountedTokens).ToArray();
        var total = generated.Usage?.InputTokenCount ?? counted.Sum();
        var shares = Share(total, counted);
        var position = 0;
        for (var s = 0; s < batch.Segments.Count; s++)
        {
            var segment = batch.Segments[s];
            var caller = segment.Caller;
            for (var i = 0; i < segment.Count; i++)
            {
                caller.Vectors[segment.Start + i] = generated[position++].Vector.ToArray();
            }

            caller.Complete(shares[s]);
        }
    }

    /// <summary>
    /// Splits <paramref name="total"/> in proportion to <paramref name="weights"/>; the parts are whole and sum to the
    /// total (the last part takes the rounding). Equal weights (including all zero) split evenly.
    /// </summary>
    public static long[] Share(long total, IReadOnlyList<long> weights)
    {
        var parts = new long[weights.Count];
        if (parts.Length == 0)
        {
            return parts;
        }

        var sum = weights.Sum();
        long given = 0;
        for (var i = 0; i < parts.Length - 1; i++)
        {
            parts[i] = sum > 0 ? total * weights[i] / sum : total / parts.Length;
            given += parts[i];
        }

        parts[^1] = total - given;
        return parts;
    }

    private sealed class Caller(IReadOnlyList<string> inputs, int[] counted)
    {
        private long _tokens;

        public IReadOnlyList<string> Inputs { get; } = inputs;

        public int[] Counted { get; } = counted;

        public float[][] Vectors { get; } = new float[inputs.Count][];

        /// <summary>Segments not yet answered; set under the batcher's lock before any of them is sent.</summary>
        public int Pending;

        public TaskCompletionSource<EmbeddingBatchResult> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Complete(long tokens)
        {
            Interlocked.Add(ref _tokens, tokens);
            if (Interlocked.Decrement(ref Pending) == 0)
            {
                Done.TrySetResult(new EmbeddingBatchResult(Vectors, (int)Math.Min(int.MaxValue, Interlocked.Read(ref _tokens))));
            }
        }
    }

    private sealed record Segment(Caller Caller, int Start, int Count)
    {
        public int CountedTokens => Caller.Counted.Skip(Start).Take(Count).Sum();
    }

    private sealed class Batch(EmbeddingModelSpec model, int? dimensions)
    {
        public EmbeddingModelSpec Model { get; } = model;

        public int? Dimensions { get; } = dimensions;

        public List<Segment> Segments { get; } = [];

        public int Count { get; set; }

        public ITimer? Timer { get; set; }
    }

    private sealed class Closure(EmbeddingBatcher batcher, (string Model, int? Dimensions) key, Batch batch)
    {
        public void Fire() => batcher.Fire(key, batch);
    }
}
