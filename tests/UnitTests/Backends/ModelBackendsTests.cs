using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Backends;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.UnitTests.Backends;

public sealed class ModelBackendsTests : IDisposable
{
    private readonly MiniOpenAIServer _server = new();

    public void Dispose() => _server.Dispose();

    private ModelBackends Backends(IServiceProvider? services = null)
    {
        var options = new ModelCatalogOptions
        {
            Backends = [new ModelBackendOptions { Name = "upstream", Kind = ModelBackendKind.OpenAI, BaseUrl = _server.BaseUrl, ApiKey = "sk-test", TimeoutSeconds = 10 }],
        };
        options.ApplyDefaults();
        return new ModelBackends(services ?? new ServiceCollection().BuildServiceProvider(), Options.Create(options), new LocalExtractiveSummarizer(TokenEstimator.Default));
    }

    [Fact]
    public async Task An_openai_backend_calls_the_configured_server_with_the_model_and_output_limit()
    {
        using var backends = Backends();
        var client = backends.GetClient("upstream", "small-model");

        var response = await client.GetResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions { ModelId = "small-model", MaxOutputTokens = 33 });

        Assert.Equal("Hello there", response.Text);
        Assert.Equal(12, response.Usage!.InputTokenCount);
        Assert.Equal(3, response.Usage.OutputTokenCount);
        var body = Assert.Single(_server.Requests);
        Assert.Equal("small-model", (string?)body["model"]);
        // The OpenAI SDK sends the current field name; servers that only read max_tokens will not see the limit.
        Assert.Equal(33, (int?)body["max_completion_tokens"]);
        Assert.Equal("Bearer sk-test", _server.Authorizations.Single());
    }

    [Fact]
    public async Task An_openai_stream_yields_deltas_and_the_usage_of_the_final_chunk()
    {
        using var backends = Backends();
        var client = backends.GetClient("upstream", "small-model");

        var text = new StringBuilder();
        UsageDetails? usage = null;
        await foreach (var update in client.GetStreamingResponseAsync([new ChatMessage(ChatRole.User, "hi")], new ChatOptions { ModelId = "small-model" }))
        {
            text.Append(update.Text);
            usage = update.Contents.OfType<UsageContent>().LastOrDefault()?.Details ?? usage;
        }

        Assert.Equal("Hello there", text.ToString());
        Assert.Equal(15, usage?.TotalTokenCount);
        var body = _server.Requests.Single();
        Assert.True((bool?)body["stream"]);
        Assert.True((bool?)body["stream_options"]?["include_usage"]);
    }

    [Fact]
    public async Task A_failing_server_is_not_retried_so_the_tier_can_fail_over()
    {
        _server.FailWith = HttpStatusCode.InternalServerError;
        using var backends = Backends();

        await Assert.ThrowsAnyAsync<Exception>(() => backends.GetClient("upstream", "small-model").GetResponseAsync([new ChatMessage(ChatRole.User, "hi")]));

        Assert.Single(_server.Requests);
    }

    [Fact]
    public void Clients_are_cached_per_backend_and_model()
    {
        using var backends = Backends();

        Assert.Same(backends.GetClient("upstream", "a"), backends.GetClient("upstream", "a"));
        Assert.NotSame(backends.GetClient("upstream", "a"), backends.GetClient("upstream", "b"));
        Assert.IsType<LocalExtractiveSummarizer>(backends.GetClient("local", "local-extractive-summarizer"));
        Assert.Throws<InvalidOperationException>(() => backends.GetClient("missing", "a"));
    }

    [Fact]
    public void A_keyed_chat_client_takes_precedence_over_configuration()
    {
        using var injected = new LocalExtractiveSummarizer(TokenEstimator.Default);
        var services = new ServiceCollection().AddKeyedSingleton<IChatClient>("upstream", injected).BuildServiceProvider();
        using var backends = Backends(services);

        Assert.Same(injected, backends.GetClient("upstream", "small-model"));
    }

    /// <summary>Just enough of an OpenAI-compatible server to check the client wiring.</summary>
    private sealed class MiniOpenAIServer : IDisposable
    {
        private readonly HttpListener _listener = new();
        private readonly Task _loop;

        public MiniOpenAIServer()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            _listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            _listener.Start();
            BaseUrl = $"http://127.0.0.1:{port}/v1";
            _loop = Task.Run(ServeAsync);
        }

        public string BaseUrl { get; }

        public ConcurrentQueue<JsonNode> Requests { get; } = new();

        public ConcurrentQueue<string?> Authorizations { get; } = new();

        public HttpStatusCode? FailWith { get; set; }

        public void Dispose()
        {
            _listener.Close();
            _ = _loop.ContinueWith(static _ => { }, TaskScheduler.Default);
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception) when (!_listener.IsListening)
                {
                    return;
                }

                using var reader = new StreamReader(context.Request.InputStream);
                var body = JsonNode.Parse(await reader.ReadToEndAsync())!;
                Requests.Enqueue(body);
                Authorizations.Enqueue(context.Request.Headers["Authorization"]);
                if (FailWith is { } status)
                {
                    context.Response.StatusCode = (int)status;
                    context.Response.Close();
                    continue;
                }

                var model = (string?)body["model"];
                string payload;
                if ((bool?)body["stream"] == true)
                {
                    context.Response.ContentType = "text/event-stream";
                    var chunk = "{\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"" + model + "\",";
                    payload =
                        "data: " + chunk + "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"Hello\"},\"finish_reason\":null}]}\n\n" +
                        "data: " + chunk + "\"choices\":[{\"index\":0,\"delta\":{\"content\":\" there\"},\"finish_reason\":\"stop\"}]}\n\n" +
                        "data: " + chunk + "\"choices\":[],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}\n\n" +
                        "data: [DONE]\n\n";
                }
                else
                {
                    context.Response.ContentType = "application/json";
                    payload = "{\"id\":\"c1\",\"object\":\"chat.completion\",\"created\":1,\"model\":\"" + model + "\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":\"Hello there\"},\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":12,\"completion_tokens\":3,\"total_tokens\":15}}";
                }

                var bytes = Encoding.UTF8.GetBytes(payload);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }
    }
}
