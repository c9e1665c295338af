using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>Reads admin request bodies so that malformed JSON and wrong types become problem details naming the field.</summary>
internal static class AdminJson
{
    public sealed record Read<T>(T? Value, IResult? Error);

    public static async Task<Read<T>> ReadAsync<T>(HttpContext context, bool allowEmpty = false)
        where T : class
    {
        var request = context.Request;
        if (allowEmpty && request.ContentLength == 0)
        {
            return new(null, null);
        }

        if (!request.HasJsonContentType())
        {
            return new(null, Results.Problem(
                title: "Unsupported media type",
                detail: $"Content-Type must be application/json (got '{request.ContentType}').",
                statusCode: StatusCodes.Status415UnsupportedMediaType));
        }

        var options = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        try
        {
            var value = await JsonSerializer.DeserializeAsync<T>(request.Body, options, context.RequestAborted);
            if (value is null)
            {
                return new(null, Invalid("body", "A JSON object is required."));
            }

            return new(value, null);
        }
        catch (JsonException ex)
        {
            var field = FieldOf(ex.Path);
            var detail = ex.Path is null
                ? "The body is not valid JSON."
                : $"'{field}' has the wrong type or the JSON is malformed there.";
            return new(null, Invalid(field, detail));
        }
        catch (BadHttpRequestException ex)
        {
            return new(null, Results.Problem(title: "Bad request body", detail: ex.Message, statusCode: ex.StatusCode));
        }
    }

    public static IResult Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "Invalid request");

    /// <summary><c>$.quotas.requestsPerMinute</c> → <c>quotas.requestsPerMinute</c>; no path → <c>body</c>.</summary>
    private static string FieldOf(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
}
