using System.Text.Json;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Client.OpenAI;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Runtime;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Client.Runtime;

/// <summary>Answer to <c>POST /apps/{appId}/run</c>.</summary>
public sealed record RunResponse(
    string RunId,
    string Output,
    IReadOnlyList<RunStep> Steps,
    TokenUsage Usage,
    decimal CostUsd,
    IReadOnlyDictionary<string, string> Details);

/// <summary>Answer to starting a conversation or sending it a message.</summary>
public sealed record ConversationReply(
    string ConversationId,
    string RunId,
    string? Reply,
    IReadOnlyList<RunStep> Steps,
    TokenUsage Usage,
    decimal CostUsd,
    IReadOnlyDictionary<string, string> Details);

/// <summary>
/// The hosted runtime's app-facing endpoints (Bearer app key, production or test; OpenAI error JSON like <c>/v1</c>):
/// <c>POST /apps/{appId}/run</c>, <c>POST /apps/{appId}/conversations</c>,
/// <c>POST /apps/{appId}/conversations/{conversationId}/messages</c> and <c>GET /apps/{appId}/conversations/{conversationId}</c>.
/// The run id is the <c>X-Request-Id</c> (at most 64 characters), else a new one: a retried request is charged once.
/// </summary>
internal static class RuntimeEndpoints
{
    public static IEndpointRouteBuilder MapRuntimeEndpoints(this IEndpointRouteBuilder endpoints)
    {
        var apps = endpoints.MapGroup("/apps/{appId}").WithTags("Hosted runtime");

        apps.MapPost("/run", RunAsync)
            .WithName("RunApp")
            .WithSummary("Runs the app's template (summarizer, approvals bot; a chat assistant answers the first message of a new conversation).")
            .WithDescription("Body: {\"input\": \"…\", \"source\": {\"connector\": \"docs\", \"path\": \"reports/q3.txt\"}, \"fields\": {…}, \"user\": \"…\"}; "
                + "input or source is required. 200 {runId, output, steps, usage, costUsd, details}; 202 when the run waits for a person.")
            .Produces<RunResponse>(StatusCodes.Status200OK)
            .Produces<RunResponse>(StatusCodes.Status202Accepted)
            .ProducesOpenAIErrors(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503);

        apps.MapPost("/conversations", StartConversationAsync)
            .WithName("StartConversation")
            .WithSummary("Starts a conversation with a chat-assistant app, answering its first message when one is given.")
            .WithDescription("Body: {\"message\": \"…\", \"user\": \"…\"} (both optional). 201 {conversationId, runId, reply, steps, usage, costUsd, details}.")
            .Produces<ConversationReply>(StatusCodes.Status201Created)
            .ProducesOpenAIErrors(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503);

        apps.MapPost("/conversations/{conversationId}/messages", SendMessageAsync)
            .WithName("SendConversationMessage")
            .WithSummary("Sends a message to a conversation and answers it, with the history trimmed to the model's context and the app's token budget.")
            .WithDescription("Body: {\"content\": \"…\", \"user\": \"…\"}. 200 {conversationId, runId, reply, steps, usage, costUsd, details: {trimmedMessages, historyMessages}}.")
            .Produces<ConversationReply>(StatusCodes.Status200OK)
            .ProducesOpenAIErrors(400, 401, 403, 404, 409, 413, 415, 422, 429, 502, 503);

        apps.MapGet("/conversations/{conversationId}", GetConversationAsync)
            .WithName("GetConversation")
            .WithSummary("The conversation's kept history, how many messages were trimmed, and its tokens and cost.")
            .Produces<ConversationView>(StatusCodes.Status200OK)
            .ProducesOpenAIErrors(401, 404, 503);

        return endpoints;
    }

    internal static async Task RunAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster, IOptions<FrontDoorOptions> options)
    {
        if (await BeginAsync(context, options.Value) is not (var runId, var apiKey, var body))
        {
            return;
        }

        string? input;
        ConnectorSource? source;
        IReadOnlyDictionary<string, string>? fields;
        string? user;
        using (body)
        {
            var root = body.RootElement;
            if (!(TryString(root, "input", out input, out var error)
                  && TrySource(root, out source, out error)
                  && TryFields(root, out fields, out error)
                  && TryString(root, "user", out user, out error)))
            {
                await WriteInvalidAsync(context, error!);
                return;
            }
        }

        if (string.IsNullOrWhiteSpace(input) && source is null)
        {
            await WriteInvalidAsync(context, new("input", "input is required (or a source to read through one of the app's connectors)"));
            return;
        }

        var request = new AppRunRequest(apiKey, runId, input ?? "", source, fields, user);
        await CallAsync(context, options.Value, async () =>
        {
            var result = await cluster.RunAsync(_ => new ValueTask<AppRunResult>(grains.GetGrain<IAppRuntimeGrain>(0).RunAsync(appId, request)), context.RequestAborted);
            if (!result.IsSuccess)
            {
                await WriteFailureAsync(context, result);
                return;
            }

            context.Response.StatusCode = result.Outcome == RunOutcome.Pending ? StatusCodes.Status202Accepted : StatusCodes.Status200OK;
            await context.Response.WriteAsJsonAsync(
                new RunResponse(result.RunId, result.Output, result.Steps, result.Usage, result.CostUsd, result.Details ?? new Dictionary<string, string>()),
                context.RequestAborted);
        });
    }

    internal static async Task StartConversationAsync(string appId, HttpContext context, IGrainFactory grains, ClusterCalls cluster, IOptions<FrontDoorOptions> options)
    {
        if (await BeginAsync(context, options.Value) is not (var runId, var apiKey, var body))
        {
            return;
        }

        string? message;
        string? user;
        using (body)
        {
            if (!(TryString(body.RootElement, "message", out message, out var error) && TryString(body.RootElement, "user", out user, out error)))
            {
                await WriteInvalidAsync(context, error!);
                return;
            }
        }

        if (ApiKeys.TryParse(apiKey, out var keyApp, out _, out _) && keyApp != appId)
        {
            await OpenAIErrors.WriteAsync(context, 401, $"The API key is not a key of app '{appId}'.", OpenAIErrors.Authentication, code: "invalid_api_key");
            return;
        }

        var conversationId = ConversationIds.ForRun(appId, runId);
        var request = new AppRunRequest(apiKey, runId, message ?? "", null,
            new Dictionary<string, string> { [ConversationIds.StartField] = "true" }, user);
        await ConverseAsync(context, grains, cluster, options.Value, appId, conversationId, request, StatusCodes.Status201Created);
    }

    internal static async Task SendMessageAsync(
        string appId, string conversationId, HttpContext context, IGrainFactory grains, ClusterCalls cluster, IOptions<FrontDoorOptions> options)
    {
        if (await BeginAsync(context, options.Value) is not (var runId, var apiKey, var body))
        {
            return;
        }

        string? content;
        string? user;
        using (body)
        {
            if (!(TryString(body.RootElement, "content", out content, out var error) && TryString(body.RootElement, "user", out user, out error)))
            {
                await WriteInvalidAsync(context, error!);
                return;
            }
        }

        if (string.IsNullOrWhiteSpace(content))
        {
            await WriteInvalidAsync(context, new("content", "content is required: the message to send"));
            return;
        }

        if (!ConversationIds.IsValid(conversationId))
        {
            await WriteNoConversationAsync(context, conversationId);
            return;
        }

        var request = new AppRunRequest(apiKey, runId, content, null, null, user);
        await ConverseAsync(context, grains, cluster, options.Value, appId, conversationId, request, StatusCodes.Status200OK);
    }

    internal static async Task GetConversationAsync(string appId, string conversationId, HttpContext context, IGrainFactory grains, ClusterCalls cluster, IOptions<FrontDoorOptions> options)
    {
        if (await OpenAIRequests.ReadApiKeyAsync(context) is not { } apiKey)
        {
            return;
        }

        if (!ApiKeys.TryParse(apiKey, out _, out _, out _))
        {
            await WriteMalformedKeyAsync(context);
            return;
        }

        if (!ApiKeys.IsValidAppId(appId) || !ConversationIds.IsValid(conversationId))
        {
            await WriteNoConversationAsync(context, conversationId);
            return;
        }

        await CallAsync(context, options.Value, async () =>
        {
            var grain = grains.GetGrain<IConversationGrain>(ConversationIds.GrainKey(appId, conversationId));
            var view = await cluster.RunAsync(_ => new ValueTask<ConversationView?>(grain.GetAsync(apiKey)), context.RequestAborted);
            if (view is null)
            {
                await WriteNoConversationAsync(context, conversationId);
                return;
            }

            await context.Response.WriteAsJsonAsync(view, context.RequestAborted);
        });
    }

    private static async Task ConverseAsync(
        HttpContext context, IGrainFactory grains, ClusterCalls cluster, FrontDoorOptions options,
        string appId, string conversationId, AppRunRequest request, int successStatus)
    {
        if (!ApiKeys.IsValidAppId(appId))
        {
            await OpenAIErrors.WriteAsync(context, 404, $"There is no app '{appId}'.", OpenAIErrors.InvalidRequest, code: "app_not_found");
            return;
        }

        await CallAsync(context, options, async () =>
        {
            var grain = grains.GetGrain<IConversationGrain>(ConversationIds.GrainKey(appId, conversationId));
            var result = await cluster.RunAsync(_ => new ValueTask<AppRunResult>(grain.SendAsync(request)), context.RequestAborted);
            if (!result.IsSuccess)
            {
                await WriteFailureAsync(context, result);
                return;
            }

            context.Response.StatusCode = successStatus;
            if (successStatus == StatusCodes.Status201Created)
            {
                context.Response.Headers.Location = $"/apps/{appId}/conversations/{conversationId}";
            }

            await context.Response.WriteAsJsonAsync(
                new ConversationReply(conversationId, result.RunId, result.Output, result.Steps, result.Usage, result.CostUsd,
                    result.Details ?? new Dictionary<string, string>()),
                context.RequestAborted);
        });
    }

    /// <summary>Run id, app key and JSON body of a runtime request; null after writing the error.</summary>
    private static async ValueTask<(string RunId, string ApiKey, JsonDocument Body)?> BeginAsync(HttpContext context, FrontDoorOptions options)
    {
        if (await OpenAIRequests.BeginAsync(context) is not { } runId
            || await OpenAIRequests.ReadApiKeyAsync(context) is not { } apiKey)
        {
            return null;
        }

        if (runId.Length > RunSetup.MaxRunIdLength)
        {
            await OpenAIErrors.WriteAsync(context, 400,
                $"The {RequestIds.Header} header of a run must be at most {RunSetup.MaxRunIdLength} characters (it names the run's model calls run/{{runId}}/{{step}}).",
                OpenAIErrors.InvalidRequest, RequestIds.Header, "invalid_request_id");
            return null;
        }

        if (!ApiKeys.TryParse(apiKey, out _, out _, out _))
        {
            await WriteMalformedKeyAsync(context);
            return null;
        }

        if (!await OpenAIRequests.RequireJsonContentTypeAsync(context)
            || await OpenAIRequests.ReadJsonBodyAsync(context, new BodyLimit(options.MaxRequestBodyBytes)) is not { } body)
        {
            return null;
        }

        if (body.RootElement.ValueKind != JsonValueKind.Object)
        {
            body.Dispose();
            await WriteInvalidAsync(context, new("body", "the request body must be a JSON object"));
            return null;
        }

        return (runId, apiKey, body);
    }

    private static async Task CallAsync(HttpContext context, FrontDoorOptions options, Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (Exception ex) when (ClusterCalls.IsTransient(ex) && !context.Response.HasStarted)
        {
            await ChatCompletionsEndpoints.WriteClusterUnavailableAsync(context, options);
        }
    }

    /// <summary>The status of a failed run, per <see cref="RunOutcome"/>, in OpenAI's error shape.</summary>
    internal static Task WriteFailureAsync(HttpContext context, AppRunResult result)
    {
        var message = result.ErrorMessage ?? result.Outcome.ToString();
        var code = result.ErrorCode;
        var (status, type) = result.Outcome switch
        {
            RunOutcome.InvalidRequest => (400, OpenAIErrors.InvalidRequest),
            RunOutcome.Unauthorized => (401, OpenAIErrors.Authentication),
            RunOutcome.Forbidden or RunOutcome.ConnectorRefused => (403, OpenAIErrors.Permission),
            RunOutcome.NotFound => (404, OpenAIErrors.InvalidRequest),
            RunOutcome.Conflict => (409, OpenAIErrors.InvalidRequest),
            RunOutcome.LimitExceeded => (422, OpenAIErrors.InvalidRequest),
            RunOutcome.QuotaExceeded => (429, OpenAIErrors.RateLimit),
            RunOutcome.BudgetExceeded => (429, "insufficient_quota"),
            RunOutcome.ConnectorFailed when code == "connector_not_found" => (404, OpenAIErrors.InvalidRequest),
            RunOutcome.ConnectorFailed when code == "connector_too_large" => (413, OpenAIErrors.InvalidRequest),
            _ => (502, OpenAIErrors.Server),
        };
        var retryAfter = result.Outcome is RunOutcome.QuotaExceeded or RunOutcome.BudgetExceeded
            ? result.RetryAfter ?? TimeSpan.FromSeconds(60)
            : (TimeSpan?)null;
        return OpenAIErrors.WriteAsync(context, status, message, type, result.ErrorParam, code, retryAfter);
    }

    private static Task WriteMalformedKeyAsync(HttpContext context) =>
        OpenAIErrors.WriteAsync(context, 401,
            "The API key is malformed; app keys look like mak.{appId}.{keyId}.{secret}.", OpenAIErrors.Authentication, code: "invalid_api_key");

    private static Task WriteNoConversationAsync(HttpContext context, string conversationId) =>
        OpenAIErrors.WriteAsync(context, 404, $"There is no conversation '{conversationId}' of this app for this key.",
            OpenAIErrors.InvalidRequest, "conversationId", "conversation_not_found");

    private sealed record Invalid(string Param, string Message);

    private static Task WriteInvalidAsync(HttpContext context, Invalid invalid) =>
        OpenAIErrors.WriteAsync(context, 400, invalid.Message, OpenAIErrors.InvalidRequest, invalid.Param, "invalid_request");

    private static bool TryString(JsonElement root, string name, out string? value, out Invalid? error)
    {
        value = null;
        error = null;
        if (!root.TryGetProperty(name, out var property) || property.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (property.ValueKind != JsonValueKind.String)
        {
            error = new(name, $"{name} must be a string");
            return false;
        }

        value = property.GetString();
        return true;
    }

    private static bool TrySource(JsonElement root, out ConnectorSource? source, out Invalid? error)
    {
        source = null;
        error = null;
        if (!root.TryGetProperty("source", out var property) || property.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (property.ValueKind != JsonValueKind.Object)
        {
            error = new("source", "source must be an object {connector, path}");
            return false;
        }

        if (!TryString(property, "connector", out var connector, out error))
        {
            error = new("source.connector", "source.connector must be a string: the name of one of the app's connectors");
            return false;
        }

        if (!TryString(property, "path", out var path, out error) || string.IsNullOrWhiteSpace(path))
        {
            error = new("source.path", "source.path is required: the path or blob name to read");
            return false;
        }

        source = new ConnectorSource(connector ?? "", path);
        return true;
    }

    private static bool TryFields(JsonElement root, out IReadOnlyDictionary<string, string>? fields, out Invalid? error)
    {
        fields = null;
        error = null;
        if (!root.TryGetProperty("fields", out var property) || property.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (property.ValueKind != JsonValueKind.Object)
        {
            error = new("fields", "fields must be an object of names to values");
            return false;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var field in property.EnumerateObject())
        {
            switch (field.Value.ValueKind)
            {
                case JsonValueKind.String:
                    values[field.Name] = field.Value.GetString()!;
                    break;
                case JsonValueKind.Number:
                    values[field.Name] = field.Value.GetRawText();
                    break;
                case JsonValueKind.True or JsonValueKind.False:
                    values[field.Name] = field.Value.GetBoolean() ? "true" : "false";
                    break;
                default:
                    error = new($"fields.{field.Name}", $"fields.{field.Name} must be a string, number or boolean");
                    return false;
            }
        }

        fields = values;
        return true;
    }
}
