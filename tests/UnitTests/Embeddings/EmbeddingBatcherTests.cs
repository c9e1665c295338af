using System.Collections.Concurrent;
using MicroApps.Orleans.Embeddings;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace MicroApps.Orleans.UnitTests.Embeddings;

public sealed class EmbeddingBatcherTests
{
    private static readonly EmbeddingModelSpec Model = new("embed-small", "fake", 1m, 0, true);

    [Fact]
    public async Task Inputs_arriving_within_the_window_are_sent_as_one_generator_call_and_split_back()
    {
        var (batcher, generator, time) = Create(window: TimeSpan.FromMilliseconds(5), max: 100);

        var a = batcher.EmbedAsync(Model, null, ["a1", "a2"]);
        var b = batcher.EmbedAsync(Model, null, ["b1", "b2", "b3"]);
        var c = batcher.EmbedAsync(Model, null, ["c1"]);
        Assert.Empty(generator.Calls);
        Assert.False(a.IsCompleted || b.IsCompleted || c.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(5));
        var results = await Task.WhenAll(a, b, c);

        Assert.Equal([6], generator.Calls.Select(call => call.Length));
        Assert.Equal([RecordingGenerator.VectorOf("a1"), RecordingGenerator.VectorOf("a2")], results[0].Vectors);
        Assert.Equal(["b1", "b2", "b3"], results[1].Vectors.Select(RecordingGenerator.InputOf));
        Assert.Equal(["c1"], results[2].Vectors.Select(RecordingGenerator.InputOf));
        Assert.Equal(RecordingGenerator.TokensPerInput * 6, results.Sum(r => r.Tokens));
        Assert.Equal(1, batcher.BatchesSent);
    }

    [Fact]
    public async Task A_full_batch_is_sent_at_once_and_the_rest_waits_for_the_window()
    {
        var (batcher, generator, time) = Create(window: TimeSpan.FromSeconds(1), max: 4);
        var inputs = Enumerable.Range(0, 10).Select(i => $"in{i}").ToArray();

        var call = batcher.EmbedAsync(Model, null, inputs);
        await generator.WaitForCallsAsync(2);
        Assert.False(call.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1));
        var result = await call;

        Assert.Equal([2, 4, 4], generator.Calls.Select(c => c.Length).Order());
        Assert.Equal(inputs, result.Vectors.Select(RecordingGenerator.InputOf));
        Assert.Equal(RecordingGenerator.TokensPerInput * 10, result.Tokens);
    }

    [Fact]
    public async Task A_zero_window_sends_each_caller_alone()
    {
        var (batcher, generator, _) = Create(window: TimeSpan.Zero, max: 100);

        var results = await Task.WhenAll(batcher.EmbedAsync(Model, null, ["x"]), batcher.EmbedAsync(Model, null, ["y", "z"]));

        Assert.Equal([1, 2], generator.Calls.Select(c => c.Length).Order());
        Assert.Equal(["y", "z"], results[1].Vectors.Select(RecordingGenerator.InputOf));
    }

    [Fact]
    public async Task Requests_for_other_dimensions_are_not_batched_together()
    {
        var (batcher, generator, time) = Create(window: TimeSpan.FromMilliseconds(5), max: 100);

        var small = batcher.EmbedAsync(Model, 8, ["a"]);
        var full = batcher.EmbedAsync(Model, null, ["b"]);
        time.Advance(TimeSpan.FromMilliseconds(5));
        await Task.WhenAll(small, full);

        Assert.Equal(2, generator.Calls.Count);
        Assert.Contains(8, generator.Dimensions);
        Assert.Contains(null, generator.Dimensions);
    }

    [Fact]
    public async Task A_backend_failure_fails_every_caller_of_the_batch_with_a_clear_error()
    {
        var (batcher, generator, time) = Create(window: TimeSpan.FromMilliseconds(5), max: 100);
        generator.Fail = true;

        var a = batcher.EmbedAsync(Model, null, ["a"]);
        var b = batcher.EmbedAsync(Model, null, ["b"]);
        time.Advance(TimeSpan.FromMilliseconds(5));

        var errorA = await Assert.ThrowsAsync<EmbeddingBackendException>(() => a);
        var errorB = await Assert.ThrowsAsync<EmbeddingBackendException>(() => b);
        Assert.Contains("embed-small", errorA.Message);
        Assert.Contains("upstream exploded", errorB.Message);
    }

    [Theory]
    [InlineData(10, new long[] { 1, 1, 1 }, new long[] { 3, 3, 4 })]
    [InlineData(7, new long[] { 0, 0 }, new long[] { 3, 4 })]
    [InlineData(100, new long[] { 1, 3 }, new long[] { 25, 75 })]
    [InlineData(5, new long[] { 9 }, new long[] { 5 })]
    public void Usage_shares_follow_the_weights_and_sum_to_the_total(long total, long[] weights, long[] expected)
    {
        var shares = EmbeddingBatcher.Share(total, weights);

        Assert.Equal(expected, shares);
        Assert.Equal(total, shares.Sum());
    }

    private static (EmbeddingBatcher Batcher, RecordingGenerator Generator, FakeTimeProvider Time) Create(TimeSpan window, int max)
    {
        var generator = new RecordingGenerator();
        var time = new FakeTimeProvider();
        var options = Options.Create(new EmbeddingOptions { BatchWindow = window, MaxBatchInputs = max });
        var batcher = new EmbeddingBatcher(new SingleBackend(generator), TokenEstimator.Default, options, time, NullLogger<EmbeddingBatcher>.Instance);
        return (batcher, generator, time);
    }

    private sealed class SingleBackend(IEmbeddingGenerator<string, Embedding<float>> generator) : IEmbeddingBackends
    {
        public IEmbeddingGenerator<string, Embedding<float>> GetEmbeddingGenerator(string backend, string model) => generator;
    }

    /// <summary>Answers each input with a vector encoding the input's text, and records the calls.</summary>
    private sealed class RecordingGenerator : IEmbeddingGenerator<string, Embedding<float>>
    {
        public const int TokensPerInput = 3;

        private readonly ConcurrentQueue<string[]> _calls = new();
        private readonly ConcurrentQueue<int?> _dimensions = new();
        private readonly SemaphoreSlim _called = new(0);

        public bool Fail { get; set; }

        public IReadOnlyList<string[]> Calls => _calls.ToArray();

        public IReadOnlyList<int?> Dimensions => _dimensions.ToArray();

        public static float[] VectorOf(string input) => input.Select(c => (float)c).ToArray();

        public static string InputOf(float[] vector) => new(vector.Select(v => (char)v).ToArray());

        public async Task WaitForCallsAsync(int count)
        {
            for (var i = 0; i < count; i++)
            {
                Assert.True(await _called.WaitAsync(TimeSpan.FromSeconds(10)), $"generator call {i + 1} of {count} did not come");
            }
        }

        public Task<GeneratedEmbeddings<Embedding<float>>> GenerateAsync(IEnumerable<string> values, EmbeddingGenerationOptions? options = null, CancellationToken cancellationToken = default)
        {
            var inputs = values.ToArray();
            _calls.Enqueue(inputs);
            _dimensions.Enqueue(options?.Dimensions);
            _called.Release();
            if (Fail)
            {
                throw new HttpRequestException("upstream exploded");
            }

            var embeddings = new GeneratedEmbeddings<Embedding<float>>(inputs.Select(i => new Embedding<float>(VectorOf(i))))
            {
                Usage = new UsageDetails { InputTokenCount = TokensPerInput * inputs.Length },
            };
            return Task.FromResult(embeddings);
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose() => _called.Dispose();
    }
}
