using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MicroApps.Orleans.Cli.Infrastructure;

/// <summary>An answer of the front door: its status, body text and the body as JSON when it is JSON.</summary>
internal sealed record ApiResponse(HttpStatusCode Status, string Text, JsonNode? Json, string Method, string Path)
{
    public bool IsSuccess => (int)Status is >= 200 and < 300;
}

/// <summary>
/// The front door over HTTP: the admin API with the admin token, the app-facing runtime with an app key. Every failure
/// becomes a <see cref="CliException"/> whose lines name the problem: the problem details' field errors, their detail,
/// an OpenAI-style error message, or that the front door could not be reached.
/// </summary>
internal sealed class FrontDoorClient : IDisposable
{
    public static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    private readonly HttpClient http;
    private readonly string? token;

    public FrontDoorClient(Uri baseUrl, string? token, HttpMessageHandler? handler)
    {
        BaseUrl = baseUrl;
        this.token = token;
        http = handler is null
            ? new HttpClient { Timeout = TimeSpan.FromSeconds(100) }
            : new HttpClient(handler, disposeHandler: false) { Timeout = TimeSpan.FromSeconds(100) };
        http.BaseAddress = baseUrl;
    }

    public Uri BaseUrl { get; }

    public void Dispose() => http.Dispose();

    /// <summary>Sends a request and returns the answer whatever its status; throws only when the front door cannot be reached.</summary>
    public async Task<ApiResponse> SendAsync(HttpMethod method, string path, HttpContent? content = null, string? bearer = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/')) { Content = content };
        var credential = bearer ?? token;
        if (credential is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", credential);
        }

        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw Unreachable(ex.InnerException is SocketException socket ? socket.Message : ex.Message);
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable($"no answer within {http.Timeout.TotalSeconds:0} s");
        }

        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            JsonNode? json = null;
            if (text.Length > 0 && (response.Content.Headers.ContentType?.MediaType?.Contains("json", StringComparison.OrdinalIgnoreCase) ?? false))
            {
                try
                {
                    json = JsonNode.Parse(text);
                }
                catch (JsonException)
                {
                    // Left null: the error line then quotes the status instead of a broken body.
                }
            }

            return new ApiResponse(response.StatusCode, text, json, method.Method, "/" + path.TrimStart('/'));
        }
    }

    /// <summary>Sends a request and returns its JSON body; a refusal throws with the problem's lines.</summary>
    public async Task<ApiResponse> CallAsync(HttpMethod method, string path, HttpContent? content = null, string? bearer = null, CancellationToken cancellationToken = default)
    {
        var response = await SendAsync(method, path, content, bearer, cancellationToken);
        return response.IsSuccess ? response : throw Refusal(response);
    }

    public Task<ApiResponse> GetAsync(string path, CancellationToken cancellationToken = default) =>
        CallAsync(HttpMethod.Get, path, cancellationToken: cancellationToken);

    public Task<ApiResponse> PostJsonAsync(string path, object body, string? bearer = null, CancellationToken cancellationToken = default) =>
        CallAsync(HttpMethod.Post, path, Json(body), bearer, cancellationToken);

    public static HttpContent Json(object body) =>
        new StringContent(body is JsonNode node ? node.ToJsonString() : JsonSerializer.Serialize(body, JsonOptions), Encoding.UTF8, "application/json");

    public static HttpContent Yaml(string yaml) => new StringContent(yaml, Encoding.UTF8, "application/yaml");

    public CliException Unreachable(string reason) =>
        new(ExitCodes.Unreachable, $"error: cannot reach the front door at {BaseUrl.ToString().TrimEnd('/')}: {reason}");

    /// <summary>The lines that explain a refused request: one per field error, else the problem's detail.</summary>
    public static CliException Refusal(ApiResponse response) => new(ExitCodes.Refused, [.. ProblemLines(response).Select(l => "error: " + l)]);

    /// <summary>
    /// <c>field: message</c> per validation error when the problem has <c>errors</c>; else its detail (or title); an
    /// OpenAI-style <c>{error: {message}}</c>; else the status with the request it answered.
    /// </summary>
    public static IReadOnlyList<string> ProblemLines(ApiResponse response)
    {
        var json = response.Json as JsonObject;
        if (json?["errors"] is JsonObject errors && errors.Count > 0)
        {
            var lines = new List<string>();
            foreach (var (field, messages) in errors)
            {
                if (messages is JsonArray array)
                {
                    lines.AddRange(array.Select(m => $"{field}: {Text(m)}"));
                }
                else
                {
                    lines.Add($"{field}: {Text(messages)}");
                }
            }

            return lines;
        }

        if (json?["detail"] is JsonValue detail && Text(detail) is { Length: > 0 } d)
        {
            return [d];
        }

        if (json?["error"] is JsonObject openAi && Text(openAi["message"]) is { Length: > 0 } message)
        {
            return [message];
        }

        if (json?["title"] is JsonValue title && Text(title) is { Length: > 0 } t && response.Status != HttpStatusCode.NotFound)
        {
            return [t];
        }

        var status = $"{(int)response.Status} {Reason(response.Status)}";
        return response.Status switch
        {
            HttpStatusCode.Unauthorized => [$"{status}: the token was not accepted (check --token or MICROAPPS_TOKEN)"],
            HttpStatusCode.NotFound => [$"{status}: the front door has no {response.Method} {response.Path} (is it an older version?)"],
            _ => [$"{status} from {response.Method} {response.Path}"],
        };
    }

    private static string Reason(HttpStatusCode status) => status switch
    {
        HttpStatusCode.Unauthorized => "Unauthorized",
        HttpStatusCode.Forbidden => "Forbidden",
        HttpStatusCode.NotFound => "Not Found",
        HttpStatusCode.MethodNotAllowed => "Method Not Allowed",
        HttpStatusCode.UnsupportedMediaType => "Unsupported Media Type",
        HttpStatusCode.InternalServerError => "Internal Server Error",
        HttpStatusCode.ServiceUnavailable => "Service Unavailable",
        _ => status.ToString(),
    };

    public static string Text(JsonNode? node) => node switch
    {
        null => "",
        JsonValue value when value.TryGetValue<string>(out var s) => s,
        _ => node.ToJsonString(),
    };
}
