using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Benchmarks;

/// <summary>
/// One simulated model: its tier and prices (configured on the platform side, as an operator would) and its quality:
/// the probability it answers a query type correctly.
/// </summary>
internal sealed record SimModel(string Name, string Tier, decimal InputPricePer1K, decimal OutputPricePer1K, bool External, IReadOnlyDictionary<string, double> Quality);

/// <summary>The simulated model set of the savings replay.</summary>
internal static class SimModels
{
    private static Dictionary<string, double> Q(double summarise, double classify, double extract, double chat, double code) => new()
    {
        ["summarise"] = summarise, ["classify"] = classify, ["extract"] = extract, ["chat"] = chat, ["code"] = code,
    };

    // Quality is loosely shaped like published small-vs-large model gaps: small models hold up on classification,
    // extraction and summaries, fall behind on open chat and most on code.
    public static IReadOnlyList<SimModel> All { get; } =
    [
        new("sim-premium", "premium", 5m, 15m, true, Q(0.96, 0.97, 0.96, 0.95, 0.94)),
        new("sim-standard", "standard", 0.5m, 1.5m, true, Q(0.94, 0.96, 0.93, 0.92, 0.84)),
        new("sim-mini", "mini", 0.15m, 0.6m, true, Q(0.91, 0.95, 0.90, 0.80, 0.62)),
        new("sim-local", "local", 0m, 0m, false, Q(0.70, 0.85, 0.60, 0.35, 0.15)),
    ];

    public static SimModel? Find(string? name) => All.FirstOrDefault(m => string.Equals(m.Name, name, StringComparison.Ordinal));

    /// <summary>Whether <paramref name="model"/> answers <paramref name="item"/> correctly: a fixed coin per (model, item).</summary>
    public static bool AnswersCorrectly(SimModel model, WorkItem item) =>
        Unit($"{model.Name}|{item.Id}") < model.Quality[item.Type];

    /// <summary>A uniform number in [0, 1) from a SHA-256 of <paramref name="text"/>: the same text always gives the same number.</summary>
    public static double Unit(string text)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(text), hash);
        return (BitConverter.ToUInt64(hash) >> 11) * (1.0 / (1UL << 53));
    }

    /// <summary>Rough tokens of a text: 4 tokens per 3 words, like English under a BPE tokenizer.</summary>
    public static int Tokens(string text)
    {
        var words = 0;
        var inWord = false;
        foreach (var c in text)
        {
            if (char.IsWhiteSpace(c))
            {
                inWord = false;
            }
            else if (!inWord)
            {
                inWord = true;
                words++;
            }
        }

        return Math.Max(1, (words * 4 + 2) / 3);
    }
}

/// <summary>
/// An OpenAI-compatible server on loopback hosting the simulated models. It knows the workload (every prompt text maps
/// to its item) and answers each item with the item's correct answer or, with the model's error rate for the item's
/// type (a fixed coin per model and item), a plausible wrong one. Usage reports the reply's and prompt's token counts.
/// </summary>
internal sealed class SimModelServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentDictionary<string, WorkItem> _byText = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, WorkItem> _bySignature = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _calls = new(StringComparer.Ordinal);
    private long _unknownPrompts;

    private SimModelServer(WebApplication app) => _app = app;

    public string BaseUrl { get; private set; } = "";

    /// <summary>Prompts the server could not map to a workload item (answered with a generic, wrong reply).</summary>
    public long UnknownPrompts => Interlocked.Read(ref _unknownPrompts);

    public static async Task<SimModelServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var server = new SimModelServer(app);
        app.MapPost("/v1/chat/completions", server.CompleteAsync);
        app.MapGet("/v1/models", () => Results.Json(new { @object = "list", data = SimModels.All.Select(m => new { id = m.Name, @object = "model", owned_by = "sim" }) }));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        server.BaseUrl = address.TrimEnd('/') + "/v1";
        return server;
    }

    /// <summary>Makes every variant of <paramref name="item"/> known to the models.</summary>
    public void Register(WorkItem item)
    {
        foreach (var text in item.Variants)
        {
            _byText[text] = item;
            _bySignature[Signature(text)] = item;
        }
    }

    /// <summary>Backend calls per model since the last <see cref="TakeCalls"/>, and resets them.</summary>
    public IReadOnlyDictionary<string, long> TakeCalls()
    {
        var snapshot = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var key in _calls.Keys)
        {
            if (_calls.TryRemove(key, out var count))
            {
                snapshot[key] = count;
            }
        }

        Interlocked.Exchange(ref _unknownPrompts, 0);
        return snapshot;
    }

    /// <summary>
    /// The letters-only words of a prompt: the key that still finds an item when the platform redacted PII in it
    /// (an address or a number becomes <c>[REDACTED:email]</c>; neither has letters-only words).
    /// </summary>
    private static string Signature(string text) =>
        string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)
            .Select(w => w.Trim('.', ',', ':', ';', '?', '!', '"', '\'', '(', ')'))
            .Where(w => w.Length > 0 && w.All(char.IsLetter))
            .Select(w => w.ToLowerInvariant()));

    private async Task CompleteAsync(HttpContext context)
    {
        using var document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
        var root = document.RootElement;
        var modelName = root.TryGetProperty("model", out var m) ? m.GetString() : null;
        var model = SimModels.Find(modelName);
        if (model is null)
        {
            context.Response.StatusCode = 404;
            await context.Response.WriteAsJsonAsync(new { error = new { message = $"The model '{modelName}' does not exist", type = "invalid_request_error", code = "model_not_found" } });
            return;
        }

        _calls.AddOrUpdate(model.Name, 1, (_, n) => n + 1);
        var promptTokens = 0;
        string? lastUser = null;
        foreach (var message in root.GetProperty("messages").EnumerateArray())
        {
            var content = message.TryGetProperty("content", out var c) && c.ValueKind == JsonValueKind.String ? c.GetString() ?? "" : "";
            promptTokens += SimModels.Tokens(content) + 4;
            if (message.TryGetProperty("role", out var role) && role.GetString() == "user")
            {
                lastUser = content;
            }
        }

        string reply;
        if (lastUser is not null && (_byText.TryGetValue(lastUser, out var item) || _bySignature.TryGetValue(Signature(lastUser), out item)))
        {
            reply = SimModels.AnswersCorrectly(model, item) ? item.Answer : item.WrongAnswer(model.Name);
        }
        else
        {
            Interlocked.Increment(ref _unknownPrompts);
            reply = "I am not sure what you are asking; could you rephrase the question with more detail?";
        }

        var completionTokens = SimModels.Tokens(reply);
        var stream = root.TryGetProperty("stream", out var s) && s.ValueKind == JsonValueKind.True;
        var id = "chatcmpl-sim-" + Guid.NewGuid().ToString("N")[..12];
        var created = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var usage = new { prompt_tokens = promptTokens, completion_tokens = completionTokens, total_tokens = promptTokens + completionTokens };
        if (stream)
        {
            context.Response.ContentType = "text/event-stream";
            var first = JsonSerializer.Serialize(new { id, @object = "chat.completion.chunk", created, model = model.Name, choices = new[] { new { index = 0, delta = new { role = "assistant", content = reply }, finish_reason = (string?)null } } });
            var last = JsonSerializer.Serialize(new { id, @object = "chat.completion.chunk", created, model = model.Name, choices = new[] { new { index = 0, delta = new { }, finish_reason = "stop" } }, usage });
            await context.Response.WriteAsync($"data: {first}\n\ndata: {last}\n\ndata: [DONE]\n\n", context.RequestAborted);
            return;
        }

        await context.Response.WriteAsJsonAsync(new
        {
            id,
            @object = "chat.completion",
            created,
            model = model.Name,
            choices = new[] { new { index = 0, message = new { role = "assistant", content = reply }, finish_reason = "stop" } },
            usage,
        });
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
