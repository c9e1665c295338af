using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>An OpenAI error body as a test reads it.</summary>
internal sealed record OpenAIError(HttpStatusCode Status, string Message, string Type, string? Param, string? Code)
{
    public static async Task<OpenAIError> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.Content.Headers.ContentType?.MediaType == "application/json", $"expected JSON error, got {response.Content.Headers.ContentType}: {text}");
        using var json = JsonDocument.Parse(text);
        var error = json.RootElement.GetProperty("error");
        return new OpenAIError(
            response.StatusCode,
            error.GetProperty("message").GetString()!,
            error.GetProperty("type").GetString()!,
            error.GetProperty("param").ValueKind == JsonValueKind.Null ? null : error.GetProperty("param").GetString(),
            error.GetProperty("code").ValueKind == JsonValueKind.Null ? null : error.GetProperty("code").GetString());
    }
}
