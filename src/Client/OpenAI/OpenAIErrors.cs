using System.Globalization;
using System.Text.Json;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>Writes errors in OpenAI's shape <c>{"error":{"message","type","param","code"}}</c>.</summary>
public static class OpenAIErrors
{
    public const string InvalidRequest = "invalid_request_error";
    public const string Authentication = "authentication_error";
    public const string Permission = "permission_error";
    public const string RateLimit = "rate_limit_error";
    public const string Server = "server_error";
    public const string Unavailable = "service_unavailable_error";

    public static Task WriteAsync(
        HttpContext context,
        int status,
        string message,
        string type,
        string? param = null,
        string? code = null,
        TimeSpan? retryAfter = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        if (retryAfter is { } wait)
        {
            response.Headers.RetryAfter = RetryAfterSeconds(wait).ToString(CultureInfo.InvariantCulture);
        }

        if (status == StatusCodes.Status401Unauthorized)
        {
            response.Headers.WWWAuthenticate = "Bearer";
        }

        response.ContentType = "application/json";
        var body = new OpenAIErrorResponse(new OpenAIError(message, type, param, code));
        return JsonSerializer.SerializeAsync(response.Body, body, OpenAIJsonContext.Default.OpenAIErrorResponse, context.RequestAborted);
    }

    /// <summary>Declares, for the OpenAPI document, that the endpoint answers these statuses with OpenAI's error JSON.</summary>
    public static RouteHandlerBuilder ProducesOpenAIErrors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.Produces<OpenAIErrorResponse>(status);
        }

        return builder;
    }

    /// <summary>Whole seconds, rounded up, at least 1: a client that waits this long will not be refused for the same reason.</summary>
    public static long RetryAfterSeconds(TimeSpan wait) => Math.Max(1, (long)Math.Ceiling(wait.TotalSeconds));

    public static string TypeFor(int status) => status switch
    {
        StatusCodes.Status401Unauthorized => Authentication,
        StatusCodes.Status403Forbidden => Permission,
        StatusCodes.Status429TooManyRequests => RateLimit,
        StatusCodes.Status503ServiceUnavailable => Unavailable,
        >= 500 => Server,
        _ => InvalidRequest,
    };
}
