using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.FakeOpenAI;

/// <summary>
/// An OpenAI-compatible upstream on 127.0.0.1 with a free port. It answers deterministically: the reply
/// echoes the last user message, cut to <c>max_tokens</c> words, and token counts are word counts, so tests
/// can predict usage and cost. Switches make it fail with 500 or hang, for fallback tests.
/// Kept cheap (no logging, JSON written straight into the response pipe) because the benchmark uses it too.
/// </summary>
public sealed class FakeOpenAIServer : IAsyncDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    private readonly WebApplication app;
    private readonly FakeOpenAIOptions options;
    private readonly CancellationTokenSource stopping = new();
    private long requestsReceived;
    private long streamingRequestsReceived;
    private long modelListRequests;
    private long failuresServed;
    private volatile bool failWith500;
    private volatile bool failEmbeddingsWith500;
    private long embeddingRequestsReceived;
    private readonly System.Collections.Concurrent.ConcurrentQueue<int> embeddingBatchSizes = new();
    private volatile bool hang;
    private volatile bool recordChatBodies;
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> recordedChatBodies = new();

    private FakeOpenAIServer(WebApplication app, FakeOpenAIOptions options)
    {
        this.app = app;
        this.options = options;
    }

    /// <summary>Base URL including <c>/v1</c>, e.g. <c>http://127.0.0.1:5123/v1</c>.</summary>
    public string BaseUrl { get; private set; } = "";

    /// <summary>Chat completion requests received (streaming or not), counted on arrival.</summary>
    public long RequestsReceived => Interlocked.Read(ref requestsReceived);

    /// <summary>Of <see cref="RequestsReceived"/>, those with <c>stream: true</c>.</summary>
    public long StreamingRequestsReceived => Interlocked.Read(ref streamingRequestsReceived);

    public long ModelListRequests => Interlocked.Read(ref modelListRequests);

    /// <summary>Chat completion requests answered with 500 because <see cref="FailWith500"/> was set.</summary>
    public long FailuresServed => Interlocked.Read(ref failuresServed);

    /// <summary>When true, chat completions answer 500 with an OpenAI error body.</summary>
    public bool FailWith500
    {
        get => failWith500;
        set => failWith500 = value;
    }

    /// <summary>Embedding requests received (<c>POST /v1/embeddings</c>), counted on arrival.</summary>
    public long EmbeddingRequestsReceived => Interlocked.Read(ref embeddingRequestsReceived);

    /// <summary>The number of inputs of each embedding request received, in arrival order.</summary>
    public IReadOnlyList<int> EmbeddingBatchSizes => embeddingBatchSizes.ToArray();

    /// <summary>When true, embedding requests answer 500 with an OpenAI error body.</summary>
    public bool FailEmbeddingsWith500
    {
        get => failEmbeddingsWith500;
        set => failEmbeddingsWith500 = value;
    }

    /// <summary>When true, chat completions never answer (until the caller gives up or the server stops).</summary>
    public bool Hang
    {
        get => hang;
        set => hang = value;
    }

    /// <summary>When true, the JSON body of every chat completion request is kept, in arrival order (see <see cref="RecordedChatBodies"/>).</summary>
    public bool RecordChatBodies
    {
        get => recordChatBodies;
        set => recordChatBodies = value;
    }

    /// <summary>Bodies of the chat completion requests received while <see cref="RecordChatBodies"/> was on, so tests can see what was sent upstream.</summary>
    public IReadOnlyList<string> RecordedChatBodies => recordedChatBodies.ToArray();

    public static async Task<FakeOpenAIServer> StartAsync(FakeOpenAIOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new FakeOpenAIOptions();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));

        var app = builder.Build();
        var server = new FakeOpenAIServer(app, options);
        app.MapPost("/v1/chat/completions", server.CompleteAsync);
        app.MapGet("/v1/models", server.ListModelsAsync);
        app.MapPost("/v1/embeddings", server.EmbedAsync);

        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = address.TrimEnd('/') + "/v1";
        return server;
    }

    /// <summary>Resets the counters (not the switches).</summary>
    public void ResetCounters()
    {
        Interlocked.Exchange(ref requestsReceived, 0);
        Interlocked.Exchange(ref streamingRequestsReceived, 0);
        Interlocked.Exchange(ref modelListRequests, 0);
        Interlocked.Exchange(ref failuresServed, 0);
        Interlocked.Exchange(ref embeddingRequestsReceived, 0);
        embeddingBatchSizes.Clear();
        recordedChatBodies.Clear();
    }

    /// <summary>
    /// <c>POST /v1/embeddings</c>: one vector per input (<see cref="FakeEmbeddings.VectorOf"/>, <c>dimensions</c> long when
    /// given), as floats or, with <c>encoding_format: base64</c>, little-endian float32 bytes; usage is the word count.
    /// </summary>
    private async Task EmbedAsync(HttpContext context)
    {
        Interlocked.Increment(ref embeddingRequestsReceived);
        if (!Authorized(context))
        {
            await WriteErrorAsync(context, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
            return;
        }

        string model;
        List<string> inputs = [];
        int dimensions;
        bool base64;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            var root = document.RootElement;
            model = root.TryGetProperty("model", out var m) && m.ValueKind == JsonValueKind.String ? m.GetString()! : "";
            var input = root.GetProperty("input");
            if (input.ValueKind == JsonValueKind.String)
            {
                inputs.Add(input.GetString()!);
            }
            else
            {
                inputs.AddRange(input.EnumerateArray().Select(e => e.GetString()!));
            }

            dimensions = root.TryGetProperty("dimensions", out var d) && d.ValueKind == JsonValueKind.Number ? d.GetInt32() : FakeEmbeddings.DefaultDimensions;
            base64 = root.TryGetProperty("encoding_format", out var f) && f.ValueKind == JsonValueKind.String && f.GetString() == "base64";
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            await WriteErrorAsync(context, 400, "We could not parse the JSON body of your request.", "invalid_request_error", null);
            return;
        }

        embeddingBatchSizes.Enqueue(inputs.Count);
        if (options.Latency > TimeSpan.Zero)
        {
            await Task.Delay(options.Latency, context.RequestAborted);
        }

        if (failEmbeddingsWith500)
        {
            Interlocked.Increment(ref failuresServed);
            await WriteErrorAsync(context, 500, "The server had an error while processing your request.", "server_error", null);
            return;
        }

        var response = context.Response;
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            var tokens = 0;
            for (var i = 0; i < inputs.Count; i++)
            {
                tokens += FakeEmbeddings.TokensOf(inputs[i]);
                var vector = FakeEmbeddings.VectorOf(inputs[i], dimensions);
                json.WriteStartObject();
                json.WriteString("object", "embedding");
                json.WriteNumber("index", i);
                if (base64)
                {
                    var bytes = new byte[vector.Length * 4];
                    for (var k = 0; k < vector.Length; k++)
                    {
                        System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(k * 4), vector[k]);
                    }

                    json.WriteBase64String("embedding", bytes);
                }
                else
                {
                    json.WriteStartArray("embedding");
                    foreach (var value in vector)
                    {
                        json.WriteNumberValue(value);
                    }

                    json.WriteEndArray();
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteString("model", model);
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", tokens);
            json.WriteNumber("total_tokens", tokens);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private async Task CompleteAsync(HttpContext context)
    {
        Interlocked.Increment(ref requestsReceived);
        if (!Authorized(context))
        {
            await WriteErrorAsync(context, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
            return;
        }

        ChatCall call;
        try
        {
            using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            call = ChatCall.Read(document.RootElement, options.DefaultMaxWords);
            if (recordChatBodies)
            {
                recordedChatBodies.Enqueue(document.RootElement.GetRawText());
            }
        }
        catch (JsonException)
        {
            await WriteErrorAsync(context, 400, "We could not parse the JSON body of your request.", "invalid_request_error", null);
            return;
        }

        if (call.Stream)
        {
            Interlocked.Increment(ref streamingRequestsReceived);
        }

        if (hang)
        {
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, stopping.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, linked.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }

        if (options.Latency > TimeSpan.Zero)
        {
            await Task.Delay(options.Latency, context.RequestAborted);
        }

        if (failWith500)
        {
            Interlocked.Increment(ref failuresServed);
            await WriteErrorAsync(context, 500, "The server had an error while processing your request.", "server_error", null);
            return;
        }

        var id = "chatcmpl-fake" + Interlocked.Read(ref requestsReceived).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        if (call.Stream)
        {
            await StreamAsync(context, call, id, created);
        }
        else
        {
            await WriteCompletionAsync(context, call, id, created);
        }
    }

    private static async Task WriteCompletionAsync(HttpContext context, ChatCall call, string id, long created)
    {
        var response = context.Response;
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("id", id);
            json.WriteString("object", "chat.completion");
            json.WriteNumber("created", created);
            json.WriteString("model", call.Model);
            json.WriteStartArray("choices");
            json.WriteStartObject();
            json.WriteNumber("index", 0);
            json.WriteStartObject("message");
            json.WriteString("role", "assistant");
            json.WriteString("content", call.Reply);
            json.WriteNull("refusal");
            json.WriteEndObject();
            json.WriteNull("logprobs");
            json.WriteString("finish_reason", call.FinishReason);
            json.WriteEndObject();
            json.WriteEndArray();
            WriteUsage(json, call);
            json.WriteNull("system_fingerprint");
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private static async Task StreamAsync(HttpContext context, ChatCall call, string id, long created)
    {
        var response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        var writer = response.BodyWriter;
        using var json = new Utf8JsonWriter(writer, WriterOptions);

        WriteChunk(writer, json, id, created, call.Model, role: "assistant", content: "", finishReason: null);
        await writer.FlushAsync(context.RequestAborted);

        var reply = call.Reply;
        var start = 0;
        while (start < reply.Length)
        {
            // One word (with its following space) per chunk, like a tokenizer would roughly do.
            var space = reply.IndexOf(' ', start);
            var end = space < 0 ? reply.Length : space + 1;
            WriteChunk(writer, json, id, created, call.Model, role: null, content: reply[start..end], finishReason: null);
            await writer.FlushAsync(context.RequestAborted);
            start = end;
        }

        WriteChunk(writer, json, id, created, call.Model, role: null, content: null, finishReason: call.FinishReason);
        if (call.IncludeUsage)
        {
            writer.Write("data: "u8);
            json.Reset(writer);
            json.WriteStartObject();
            WriteChunkHeader(json, id, created, call.Model);
            json.WriteStartArray("choices");
            json.WriteEndArray();
            WriteUsage(json, call);
            json.WriteEndObject();
            json.Flush();
            writer.Write("\n\n"u8);
        }

        writer.Write("data: [DONE]\n\n"u8);
        await writer.FlushAsync(context.RequestAborted);
    }

    private static void WriteChunk(PipeWriter writer, Utf8JsonWriter json, string id, long created, string model, string? role, string? content, string? finishReason)
    {
        writer.Write("data: "u8);
        json.Reset(writer);
        json.WriteStartObject();
        WriteChunkHeader(json, id, created, model);
        json.WriteStartArray("choices");
        json.WriteStartObject();
        json.WriteNumber("index", 0);
        json.WriteStartObject("delta");
        if (role is not null)
        {
            json.WriteString("role", role);
        }

        if (content is not null)
        {
            json.WriteString("content", content);
        }

        json.WriteEndObject();
        json.WriteNull("logprobs");
        if (finishReason is null)
        {
            json.WriteNull("finish_reason");
        }
        else
        {
            json.WriteString("finish_reason", finishReason);
        }

        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
        json.Flush();
        writer.Write("\n\n"u8);
    }

    private static void WriteChunkHeader(Utf8JsonWriter json, string id, long created, string model)
    {
        json.WriteString("id", id);
        json.WriteString("object", "chat.completion.chunk");
        json.WriteNumber("created", created);
        json.WriteString("model", model);
        json.WriteNull("system_fingerprint");
    }

    private static void WriteUsage(Utf8JsonWriter json, ChatCall call)
    {
        json.WriteStartObject("usage");
        json.WriteNumber("prompt_tokens", call.PromptTokens);
        json.WriteNumber("completion_tokens", call.CompletionTokens);
        json.WriteNumber("total_tokens", call.PromptTokens + call.CompletionTokens);
        json.WriteEndObject();
    }

    private async Task ListModelsAsync(HttpContext context)
    {
        Interlocked.Increment(ref modelListRequests);
        if (!Authorized(context))
        {
            await WriteErrorAsync(context, 401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
            return;
        }

        var response = context.Response;
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            foreach (var model in options.Models)
            {
                json.WriteStartObject();
                json.WriteString("id", model);
                json.WriteString("object", "model");
                json.WriteNumber("created", 1_700_000_000);
                json.WriteString("owned_by", "fake-openai");
                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    private bool Authorized(HttpContext context) =>
        options.RequiredApiKey is null
        || string.Equals(context.Request.Headers.Authorization.ToString(), "Bearer " + options.RequiredApiKey, StringComparison.Ordinal);

    private static async Task WriteErrorAsync(HttpContext context, int status, string message, string type, string? code)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(response.BodyWriter, WriterOptions))
        {
            json.WriteStartObject();
            json.WriteStartObject("error");
            json.WriteString("message", message);
            json.WriteString("type", type);
            json.WriteNull("param");
            if (code is null)
            {
                json.WriteNull("code");
            }
            else
            {
                json.WriteString("code", code);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        await response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await app.StopAsync();
        await app.DisposeAsync();
        stopping.Dispose();
    }
}
