using System.Text.Json;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>
/// The request plumbing the OpenAI-compatible endpoints share (chat completions, embeddings, batch jobs): request id,
/// app key, content type and the size-limited JSON body. Each step answers the error itself, in OpenAI's shape, and
/// returns null or false so that the endpoint only has to stop.
/// </summary>
internal static class OpenAIRequests
{
    /// <summary>Validates or assigns the request id and echoes it; null when an error was written.</summary>
    public static async ValueTask<string?> BeginAsync(HttpContext context)
    {
        var given = context.Request.Headers[RequestIds.Header];
        string requestId;
        if (given.Count == 0 || string.IsNullOrEmpty(given[0]))
        {
            requestId = RequestIds.New();
        }
        else if (given.Count == 1 && RequestIds.IsValid(given[0]))
        {
            requestId = given[0]!;
        }
        else
        {
            await OpenAIErrors.WriteAsync(context, 400,
                $"The {RequestIds.Header} header must be at most {RequestIds.MaxLength} characters of letters, digits and '.', '_', ':', '-'.",
                OpenAIErrors.InvalidRequest, RequestIds.Header, "invalid_request_id");
            return null;
        }

        context.Response.Headers["x-request-id"] = requestId;
        return requestId;
    }

    /// <summary>The app key of the <c>Authorization: Bearer …</c> header; null after writing the 401 when there is none.</summary>
    public static async ValueTask<string?> ReadApiKeyAsync(HttpContext context)
    {
        var apiKey = BearerTokens.Read(context.Request);
        if (apiKey is null)
        {
            await OpenAIErrors.WriteAsync(context, 401,
                "No app key provided: send it as 'Authorization: Bearer mak.…'.", OpenAIErrors.Authentication, code: "missing_api_key");
        }

        return apiKey;
    }

    /// <summary>False after writing the 415 when the body is not declared as JSON.</summary>
    public static async ValueTask<bool> RequireJsonContentTypeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.HasJsonContentType())
        {
            return true;
        }

        await OpenAIErrors.WriteAsync(context, 415,
            $"Content-Type must be application/json (got '{request.ContentType}').", OpenAIErrors.InvalidRequest, code: "unsupported_media_type");
        return false;
    }

    /// <summary>
    /// The body as JSON, at most <paramref name="tooLarge"/>'s limit; null after writing the error (413 too large,
    /// 400 not JSON, or the status of a bad HTTP request). The caller disposes the document.
    /// </summary>
    public static async ValueTask<JsonDocument?> ReadJsonBodyAsync(HttpContext context, BodyLimit tooLarge)
    {
        var request = context.Request;
        if (request.ContentLength > tooLarge.MaxBytes)
        {
            await WriteTooLargeAsync(context, tooLarge);
            return null;
        }

        try
        {
            return await JsonDocument.ParseAsync(request.Body, default, context.RequestAborted);
        }
        catch (JsonException ex)
        {
            await OpenAIErrors.WriteAsync(context, 400,
                $"The request body is not valid JSON: {ex.Message}", OpenAIErrors.InvalidRequest, code: "invalid_json");
        }
        catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await WriteTooLargeAsync(context, tooLarge);
        }
        catch (BadHttpRequestException ex)
        {
            await OpenAIErrors.WriteAsync(context, ex.StatusCode, ex.Message, OpenAIErrors.InvalidRequest, code: "bad_request");
        }

        return null;
    }

    private static Task WriteTooLargeAsync(HttpContext context, BodyLimit limit)
    {
        // The rest of the body is never read, so the connection cannot carry another request: say so, or a client
        // that reuses it sees its next request fail with a connection reset.
        context.Response.Headers.Connection = "close";

        return OpenAIErrors.WriteAsync(context, 413,
            $"The request body is larger than the limit of {limit.MaxBytes} bytes{limit.Advice}.", OpenAIErrors.InvalidRequest, null, "request_too_large");
    }
}

/// <summary>
/// How large a request body may be, and what the 413 adds to its message (<c>"; split the job"</c>).
/// </summary>
internal readonly record struct BodyLimit(long MaxBytes, string Advice = "");
