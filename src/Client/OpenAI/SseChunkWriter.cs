using System.Buffers;
using System.Text.Json;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>Writes <c>chat.completion.chunk</c> server-sent events straight into the response pipe, flushing each.</summary>
internal sealed class SseChunkWriter(HttpResponse response, string id, long created, string model) : IDisposable
{
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true };

    private readonly Utf8JsonWriter json = new(response.BodyWriter, WriterOptions);

    /// <summary>Model named in the chunks: the model producing the first delta, or the requested name until the final element says which model answered.</summary>
    public string Model { get; set; } = model;

    public ValueTask WriteAsync(ChatDelta delta, string? finishReason, ChatUsage? usage, CancellationToken cancellationToken) =>
        WriteChunkAsync(new ChatCompletionChunk(id, "chat.completion.chunk", created, Model,
            [new ChatChunkChoice(0, delta, null, finishReason)], usage, null), cancellationToken);

    /// <summary>The usage chunk OpenAI sends last when <c>stream_options.include_usage</c> is set: empty choices.</summary>
    public ValueTask WriteUsageAsync(ChatUsage usage, CancellationToken cancellationToken) =>
        WriteChunkAsync(new ChatCompletionChunk(id, "chat.completion.chunk", created, Model, [], usage, null), cancellationToken);

    public async ValueTask WriteErrorAsync(GovernedChatResult failure, CancellationToken cancellationToken)
    {
        var writer = response.BodyWriter;
        writer.Write("data: "u8);
        json.Reset(writer);
        var body = new OpenAIErrorResponse(new OpenAIError(
            failure.ErrorMessage ?? "The call failed.", OpenAIErrors.Server, failure.ErrorParam, failure.ErrorCode));
        JsonSerializer.Serialize(json, body, OpenAIJsonContext.Default.OpenAIErrorResponse);
        writer.Write("\n\n"u8);
        await writer.FlushAsync(cancellationToken);
    }

    public async ValueTask WriteDoneAsync(CancellationToken cancellationToken)
    {
        response.BodyWriter.Write("data: [DONE]\n\n"u8);
        await response.BodyWriter.FlushAsync(cancellationToken);
    }

    private async ValueTask WriteChunkAsync(ChatCompletionChunk chunk, CancellationToken cancellationToken)
    {
        var writer = response.BodyWriter;
        writer.Write("data: "u8);
        json.Reset(writer);
        JsonSerializer.Serialize(json, chunk, OpenAIJsonContext.Default.ChatCompletionChunk);
        writer.Write("\n\n"u8);
        await writer.FlushAsync(cancellationToken);
    }

    public void Dispose() => json.Dispose();
}
