using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using MicroApps.Orleans.Batch;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.GrainTests.Batch;

/// <summary>The batch tier, its counting backend and the test pools (named options beside the configured default pool).</summary>
internal static class BatchPoolTestSetup
{
    public const string Backend = "batch-fake";
    public const string Tier = "batch";
    public const string Model = "batch-model";

    /// <summary>Always open, four at a time.</summary>
    public const string FastPool = "batch-fast";

    /// <summary>Always open, two at a time.</summary>
    public const string BoundedPool = "batch-bounded";

    /// <summary>Open 02:00–04:00 UTC only.</summary>
    public const string OffPeakPool = "batch-offpeak";

    /// <summary>Always open, at most three items per job.</summary>
    public const string SmallPool = "batch-small";

    /// <summary>40 input tokens at $1/1K plus 10 output tokens at $2/1K.</summary>
    public const decimal CostPerCall = 0.06m;

    public static BatchFakeChatClient Fake { get; } = new();

#pragma warning disable CA2255 // The shared cluster reads its settings when it starts; this runs before any test.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Configure()
    {
        var settings = ClusterFixture.SiloSettings;
        var prefix = $"Models:Tiers:{Tier}:Models:0:";
        settings[prefix + "Name"] = Model;
        settings[prefix + "Backend"] = Backend;
        settings[prefix + "InputPricePer1K"] = "1";
        settings[prefix + "OutputPricePer1K"] = "2";
        settings[prefix + "ContextWindow"] = "8000";
        settings[prefix + "External"] = "false";
        settings["Savings:BatchPool:PollInterval"] = "00:00:00.050";
        ClusterFixture.SiloServices.Add(services =>
        {
            services.AddKeyedSingleton<IChatClient>(Backend, Fake);
            services.Configure<BatchPoolOptions>(FastPool, o => Pool(o, 4));
            services.Configure<BatchPoolOptions>(BoundedPool, o => Pool(o, 2));
            services.Configure<BatchPoolOptions>(SmallPool, o =>
            {
                Pool(o, 4);
                o.MaxItemsPerJob = 3;
            });
            services.Configure<BatchPoolOptions>(OffPeakPool, o =>
            {
                Pool(o, 2);
                o.OffPeakStart = "02:00";
                o.OffPeakEnd = "04:00";
            });
        });
    }

    private static void Pool(BatchPoolOptions options, int maxConcurrent)
    {
        options.Tier = Tier;
        options.MaxConcurrent = maxConcurrent;
        options.PollInterval = TimeSpan.FromMilliseconds(50);
    }

    public static string Invariant(decimal value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// The batch tier's backend. Prompts look like <c>{lane}:{text}</c>; each lane counts its calls, the calls in flight
/// and the most ever in flight, and a lane can be held so that its calls wait until the test releases them one by one.
/// It answers <c>done: {text}</c> with 40 input and 10 output tokens.
/// </summary>
public sealed class BatchFakeChatClient : IChatClient
{
    private readonly ConcurrentDictionary<string, Lane> _lanes = new();

    public Lane LaneOf(string lane) => _lanes.GetOrAdd(lane, _ => new Lane());

    public async Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
    {
        var prompt = messages.Last(m => m.Role == ChatRole.User).Text;
        var separator = prompt.IndexOf(':', StringComparison.Ordinal);
        var lane = LaneOf(separator > 0 ? prompt[..separator] : "");
        lane.Enter(prompt);
        try
        {
            if (lane.Held)
            {
                await lane.Gate.WaitAsync(cancellationToken);
            }

            return new ChatResponse(new ChatMessage(ChatRole.Assistant, $"done: {prompt[(separator + 1)..]}"))
            {
                ModelId = options?.ModelId,
                FinishReason = ChatFinishReason.Stop,
                Usage = new UsageDetails { InputTokenCount = 40, OutputTokenCount = 10 },
            };
        }
        finally
        {
            lane.Leave();
        }
    }

    public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        throw new NotSupportedException("Batch items are not streamed.");

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    public sealed class Lane
    {
        private readonly object _sync = new();
        private readonly ConcurrentDictionary<string, int> _calls = new();
        private int _inFlight;

        public SemaphoreSlim Gate { get; } = new(0);

        /// <summary>Calls of this lane wait on <see cref="Gate"/> until released.</summary>
        public bool Held { get; set; }

        public int MaxInFlight { get; private set; }

        public int InFlight
        {
            get
            {
                lock (_sync)
                {
                    return _inFlight;
                }
            }
        }

        public int Calls => _calls.Values.Sum();

        public int CallsTo(string prompt) => _calls.GetValueOrDefault(prompt);

        internal void Enter(string prompt)
        {
            _calls.AddOrUpdate(prompt, 1, (_, n) => n + 1);
            lock (_sync)
            {
                _inFlight++;
                MaxInFlight = Math.Max(MaxInFlight, _inFlight);
            }
        }

        internal void Leave()
        {
            lock (_sync)
            {
                _inFlight--;
            }
        }
    }
}
