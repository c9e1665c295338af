using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Embeddings;
using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>
/// <c>POST /v1/embeddings</c> (OpenAI-compatible, Bearer app key): <c>{model, input: string | string[], encoding_format?:
/// "float"|"base64", dimensions?, user?}</c>. Each request makes one call to <see cref="IEmbeddingGatewayGrain"/>, which
/// does the governance; this class only translates HTTP to the contract and back. The header
/// <c>X-MicroApps-Content: public</c> marks the content public, so PII-free inputs are cached for every app.
/// </summary>
internal static class EmbeddingsEndpoints
{
    public static void MapEmbeddingsEndpoints(this RouteGroupBuilder v1)
    {
        v1.MapPost("/embeddings", EmbedAsync)
            .WithName("CreateEmbedding")
            .WithSummary("Creates governed embeddings (OpenAI-compatible), served from the embedding cache where possible and batched per silo.")
            .WithDescription("The body is an OpenAI embeddings request: model, input (a string or an array of strings), encoding_format "
                + "(float or base64), dimensions, user. Send 'X-MicroApps-Content: public' to let PII-free inputs be cached for every app; "
                + "otherwise cached embeddings are only served to the app that made them.")
            .Produces(StatusCodes.Status200OK, contentType: "application/json")
            .ProducesOpenAIErrors(400, 401, 403, 413, 415, 429, 502, 503);
    }

    /// <summary>A parsed request body, or the field that is wrong.</summary>
    internal sealed record ParsedEmbeddingRequest(string Model, IReadOnlyList<string> Inputs, bool Base64, int? Dimensions, string? User);

    internal sealed record ParseError(string Message, string? Param);

    internal static async Task EmbedAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster, IOptions<FrontDoorOptions> options)
    {
        var request = context.Request;
        var abort = context.RequestAborted;
        if (await OpenAIRequests.BeginAsync(context) is not { } requestId
            || await OpenAIRequests.ReadApiKeyAsync(context) is not { } apiKey
            || !await OpenAIRequests.RequireJsonContentTypeAsync(context))
        {
            return;
        }

        var content = request.Headers[EmbeddingRequestRules.ContentHeader];
        if (content.Count > 0 && (content.Count != 1 || !string.Equals(content[0], EmbeddingRequestRules.PublicContent, StringComparison.Ordinal)))
        {
            await OpenAIErrors.WriteAsync(context, 400,
                $"The {EmbeddingRequestRules.ContentHeader} header accepts only '{EmbeddingRequestRules.PublicContent}' (omit it for content private to the app), got '{content}'.",
                OpenAIErrors.InvalidRequest, EmbeddingRequestRules.ContentHeader, "invalid_content_marking");
            return;
        }

        if (await OpenAIRequests.ReadJsonBodyAsync(context, new BodyLimit(options.Value.MaxRequestBodyBytes)) is not { } document)
        {
            return;
        }

        ParsedEmbeddingRequest? parsed;
        using (document)
        {
            if (!TryParse(document.RootElement, out parsed, out var error))
            {
                await OpenAIErrors.WriteAsync(context, 400, error!.Message, OpenAIErrors.InvalidRequest, error.Param, "invalid_request");
                return;
            }
        }

        var governed = new GovernedEmbeddingRequest(apiKey, requestId, parsed!.Model, parsed.Inputs, parsed.Dimensions, content.Count == 1, parsed.User);
        GovernedEmbeddingResult result;
        try
        {
            var grain = grains.GetGrain<IEmbeddingGatewayGrain>(0);
            result = await cluster.RunAsync(_ => new ValueTask<GovernedEmbeddingResult>(grain.EmbedAsync(governed)), abort);
        }
        catch (Exception ex) when (ClusterCalls.IsTransient(ex) && !context.Response.HasStarted)
        {
            await ChatCompletionsEndpoints.WriteClusterUnavailableAsync(context, options.Value);
            return;
        }

        if (!result.IsSuccess)
        {
            await ChatCompletionsEndpoints.WriteOutcomeErrorAsync(context, GovernedChatResult.Failure(
                result.Outcome, result.RequestId, result.ErrorCode ?? "", result.ErrorMessage ?? "", result.ErrorParam, result.RetryAfter));
            return;
        }

        var response = context.Response;
        response.Headers[ChatCompletionsEndpoints.TierHeader] = EmbeddingModelSpec.Tier;
        response.Headers[ChatCompletionsEndpoints.CostHeader] = result.CostUsd.ToString("0.##########", CultureInfo.InvariantCulture);
        response.Headers[ChatCompletionsEndpoints.CacheHeader] =
            result.CachedInputs == 0 ? "miss" : result.CachedInputs == parsed.Inputs.Count ? "hit" : "partial";
        response.ContentType = "application/json";
        await WriteResultAsync(response, result, parsed.Base64, abort);
    }

    /// <summary>Reads the body; false with the error (naming the field) when it is not a valid embeddings request.</summary>
    internal static bool TryParse(JsonElement root, out ParsedEmbeddingRequest? parsed, out ParseError? error)
    {
        parsed = null;
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = new ParseError("The request body must be a JSON object.", null);
            return false;
        }

        if (!root.TryGetProperty("model", out var modelElement) || modelElement.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(modelElement.GetString()))
        {
            error = new ParseError("model is required and must be the name of an embedding model.", "model");
            return false;
        }

        if (!root.TryGetProperty("input", out var inputElement))
        {
            error = new ParseError("input is required: a string or an array of strings.", "input");
            return false;
        }

        List<string> inputs;
        switch (inputElement.ValueKind)
        {
            case JsonValueKind.String:
                inputs = [inputElement.GetString()!];
                break;
            case JsonValueKind.Array:
                inputs = new List<string>(inputElement.GetArrayLength());
                foreach (var item in inputElement.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        error = new ParseError($"input[{inputs.Count}] must be a string; token arrays are not supported.", "input");
                        return false;
                    }

                    inputs.Add(item.GetString()!);
                }

                break;
            default:
                error = new ParseError("input must be a string or an array of strings.", "input");
                return false;
        }

        if (inputs.Count == 0)
        {
            error = new ParseError("input must not be an empty array.", "input");
            return false;
        }

        if (inputs.Count > EmbeddingRequestRules.MaxInputs)
        {
            error = new ParseError($"input holds at most {EmbeddingRequestRules.MaxInputs} items, got {inputs.Count}.", "input");
            return false;
        }

        var emptyAt = inputs.FindIndex(string.IsNullOrWhiteSpace);
        if (emptyAt >= 0)
        {
            error = new ParseError(inputs.Count == 1 && inputElement.ValueKind == JsonValueKind.String
                ? "input is empty; it must contain text."
                : $"input[{emptyAt}] is empty; every input must contain text.", "input");
            return false;
        }

        var base64 = false;
        if (root.TryGetProperty("encoding_format", out var format) && format.ValueKind != JsonValueKind.Null)
        {
            var value = format.ValueKind == JsonValueKind.String ? format.GetString() : null;
            if (value is not ("float" or "base64"))
            {
                error = new ParseError($"encoding_format must be 'float' or 'base64', got {format.GetRawText()}.", "encoding_format");
                return false;
            }

            base64 = value == "base64";
        }

        int? dimensions = null;
        if (root.TryGetProperty("dimensions", out var dims) && dims.ValueKind != JsonValueKind.Null)
        {
            if (dims.ValueKind != JsonValueKind.Number || !dims.TryGetInt32(out var d) || d < 1)
            {
                error = new ParseError($"dimensions must be a positive integer, got {dims.GetRawText()}.", "dimensions");
                return false;
            }

            dimensions = d;
        }

        string? user = null;
        if (root.TryGetProperty("user", out var userElement) && userElement.ValueKind != JsonValueKind.Null)
        {
            if (userElement.ValueKind != JsonValueKind.String)
            {
                error = new ParseError("user must be a string.", "user");
                return false;
            }

            user = userElement.GetString();
        }

        parsed = new ParsedEmbeddingRequest(modelElement.GetString()!.Trim(), inputs, base64, dimensions, user);
        return true;
    }

    private static async Task WriteResultAsync(HttpResponse response, GovernedEmbeddingResult result, bool base64, CancellationToken abort)
    {
        await using (var json = new Utf8JsonWriter(response.Body))
        {
            json.WriteStartObject();
            json.WriteString("object", "list");
            json.WriteStartArray("data");
            for (var i = 0; i < result.Vectors.Count; i++)
            {
                json.WriteStartObject();
                json.WriteString("object", "embedding");
                json.WriteNumber("index", i);
                var vector = result.Vectors[i];
                if (base64)
                {
                    // OpenAI's base64 form: the little-endian float32 bytes of the vector.
                    json.WriteBase64String("embedding", ToLittleEndianBytes(vector));
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
                if (json.BytesPending > 64 * 1024)
                {
                    await json.FlushAsync(abort);
                }
            }

            json.WriteEndArray();
            json.WriteString("model", result.Model);
            json.WriteStartObject("usage");
            json.WriteNumber("prompt_tokens", result.PromptTokens);
            json.WriteNumber("total_tokens", result.PromptTokens);
            json.WriteEndObject();
            json.WriteEndObject();
            await json.FlushAsync(abort);
        }
    }

    internal static byte[] ToLittleEndianBytes(float[] vector)
    {
        var bytes = MemoryMarshal.AsBytes(vector.AsSpan()).ToArray();
        if (!BitConverter.IsLittleEndian)
        {
            for (var i = 0; i < bytes.Length; i += 4)
            {
                Array.Reverse(bytes, i, 4);
            }
        }

        return bytes;
    }
}
