using System.Text;
using System.Text.Json;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Client.OpenAI;

/// <summary>A chat completions request body, checked field by field.</summary>
public sealed record ParsedChatRequest(
    string Model,
    IReadOnlyList<ChatTurn> Messages,
    ChatParameters Parameters,
    bool Stream,
    bool IncludeUsage);

/// <summary>What is wrong with a request body, naming the field as OpenAI does (<c>messages[0].content</c>).</summary>
public sealed record ChatRequestError(string Message, string? Param, string Code);

/// <summary>
/// Reads a <c>POST /v1/chat/completions</c> body with <see cref="JsonDocument"/> rather than a
/// serializer, so that every problem is reported with the exact field it concerns.
/// Fields the platform does not act on (seed, logit_bias, …) are accepted and ignored, as OpenAI-compatible servers do.
/// </summary>
public static class ChatRequestParser
{
    public static bool TryParse(JsonElement root, out ParsedChatRequest? request, out ChatRequestError? error)
    {
        request = null;
        error = null;
        if (root.ValueKind != JsonValueKind.Object)
        {
            error = new("The request body must be a JSON object.", null, "invalid_type");
            return false;
        }

        string? model = null;
        List<ChatTurn>? messages = null;
        float? temperature = null, topP = null;
        int? maxTokens = null;
        List<string>? stop = null;
        string? user = null;
        bool stream = false, includeUsage = false, sawMessages = false;

        foreach (var property in root.EnumerateObject())
        {
            var value = property.Value;
            switch (property.Name)
            {
                case "model":
                    if (value.ValueKind != JsonValueKind.String || value.GetString() is not { Length: > 0 } m)
                    {
                        error = new("'model' must be a non-empty string.", "model", "invalid_type");
                        return false;
                    }

                    model = m;
                    break;
                case "messages":
                    sawMessages = true;
                    if (!TryReadMessages(value, out messages, out error))
                    {
                        return false;
                    }

                    break;
                case "temperature":
                    if (!TryReadNumber(value, "temperature", ChatRequestRules.MinTemperature, ChatRequestRules.MaxTemperature, out temperature, out error))
                    {
                        return false;
                    }

                    break;
                case "top_p":
                    if (!TryReadNumber(value, "top_p", ChatRequestRules.MinTopP, ChatRequestRules.MaxTopP, out topP, out error))
                    {
                        return false;
                    }

                    break;
                case "max_tokens":
                case "max_completion_tokens":
                    if (!TryReadPositiveInt(value, property.Name, out var limit, out error))
                    {
                        return false;
                    }

                    maxTokens = limit ?? maxTokens;
                    break;
                case "stream":
                    if (!TryReadBool(value, "stream", out var s, out error))
                    {
                        return false;
                    }

                    stream = s ?? false;
                    break;
                case "stream_options":
                    if (!TryReadStreamOptions(value, out includeUsage, out error))
                    {
                        return false;
                    }

                    break;
                case "stop":
                    if (!TryReadStop(value, out stop, out error))
                    {
                        return false;
                    }

                    break;
                case "user":
                    if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
                    {
                        error = new("'user' must be a string.", "user", "invalid_type");
                        return false;
                    }

                    user = value.GetString();
                    break;
                case "n":
                    if (value.ValueKind != JsonValueKind.Null && !(value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var n) && n == 1))
                    {
                        error = new("Only 'n' = 1 is supported.", "n", "unsupported_value");
                        return false;
                    }

                    break;
            }
        }

        if (model is null)
        {
            error = new("'model' is required: a model name, a tier name, or 'auto'.", "model", "missing_required_parameter");
            return false;
        }

        if (!sawMessages || messages is null)
        {
            error = new("'messages' is required: a non-empty array of messages.", "messages", "missing_required_parameter");
            return false;
        }

        request = new ParsedChatRequest(
            model,
            messages,
            new ChatParameters(temperature, topP, maxTokens, stop, user),
            stream,
            stream && includeUsage);
        return true;
    }

    private static bool TryReadMessages(JsonElement value, out List<ChatTurn>? messages, out ChatRequestError? error)
    {
        messages = null;
        error = null;
        if (value.ValueKind != JsonValueKind.Array)
        {
            error = new("'messages' must be an array of messages.", "messages", "invalid_type");
            return false;
        }

        var count = value.GetArrayLength();
        if (count == 0)
        {
            error = new("'messages' must contain at least one message.", "messages", "empty_array");
            return false;
        }

        var list = new List<ChatTurn>(count);
        var index = 0;
        foreach (var message in value.EnumerateArray())
        {
            var path = $"messages[{index}]";
            if (message.ValueKind != JsonValueKind.Object)
            {
                error = new($"'{path}' must be an object with 'role' and 'content'.", path, "invalid_type");
                return false;
            }

            if (!message.TryGetProperty("role", out var role) || role.ValueKind == JsonValueKind.Null)
            {
                error = new($"'{path}.role' is required.", $"{path}.role", "missing_required_parameter");
                return false;
            }

            if (role.ValueKind != JsonValueKind.String || role.GetString() is not { } roleName || !ChatRequestRules.Roles.Contains(roleName))
            {
                error = new($"'{path}.role' must be one of {ChatRequestRules.RolesText}.", $"{path}.role", "invalid_value");
                return false;
            }

            if (!message.TryGetProperty("content", out var content) || content.ValueKind == JsonValueKind.Null)
            {
                error = new($"'{path}.content' is required.", $"{path}.content", "missing_required_parameter");
                return false;
            }

            if (!TryReadContent(content, $"{path}.content", out var text, out error))
            {
                return false;
            }

            list.Add(new ChatTurn(roleName, text));
            index++;
        }

        messages = list;
        return true;
    }

    private static bool TryReadContent(JsonElement content, string path, out string text, out ChatRequestError? error)
    {
        text = "";
        error = null;
        if (content.ValueKind == JsonValueKind.String)
        {
            text = content.GetString()!;
            return true;
        }

        if (content.ValueKind != JsonValueKind.Array)
        {
            error = new($"'{path}' must be a string or an array of text parts.", path, "invalid_type");
            return false;
        }

        var builder = new StringBuilder();
        var index = 0;
        foreach (var part in content.EnumerateArray())
        {
            var partPath = $"{path}[{index}]";
            if (part.ValueKind != JsonValueKind.Object)
            {
                error = new($"'{partPath}' must be an object {{\"type\":\"text\",\"text\":…}}.", partPath, "invalid_type");
                return false;
            }

            if (!part.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
            {
                error = new($"'{partPath}.type' is required and must be a string.", $"{partPath}.type", "missing_required_parameter");
                return false;
            }

            if (!type.ValueEquals("text"))
            {
                error = new($"'{partPath}.type' '{type.GetString()}' is not supported; only text parts are.", $"{partPath}.type", "unsupported_value");
                return false;
            }

            if (!part.TryGetProperty("text", out var partText) || partText.ValueKind != JsonValueKind.String)
            {
                error = new($"'{partPath}.text' is required and must be a string.", $"{partPath}.text", "invalid_type");
                return false;
            }

            builder.Append(partText.GetString());
            index++;
        }

        text = builder.ToString();
        return true;
    }

    private static bool TryReadNumber(JsonElement value, string name, double min, double max, out float? number, out ChatRequestError? error)
    {
        number = null;
        error = null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var d))
        {
            error = new($"'{name}' must be a number.", name, "invalid_type");
            return false;
        }

        if (d < min || d > max)
        {
            error = new($"'{name}' must be between {min} and {max}.", name, "invalid_value");
            return false;
        }

        number = (float)d;
        return true;
    }

    private static bool TryReadPositiveInt(JsonElement value, string name, out int? number, out ChatRequestError? error)
    {
        number = null;
        error = null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var i))
        {
            error = new($"'{name}' must be an integer.", name, "invalid_type");
            return false;
        }

        if (i < 1)
        {
            error = new($"'{name}' must be at least 1.", name, "invalid_value");
            return false;
        }

        number = i;
        return true;
    }

    private static bool TryReadBool(JsonElement value, string name, out bool? flag, out ChatRequestError? error)
    {
        flag = null;
        error = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.True:
            case JsonValueKind.False:
                flag = value.GetBoolean();
                return true;
            default:
                error = new($"'{name}' must be a boolean.", name, "invalid_type");
                return false;
        }
    }

    private static bool TryReadStreamOptions(JsonElement value, out bool includeUsage, out ChatRequestError? error)
    {
        includeUsage = false;
        error = null;
        if (value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            error = new("'stream_options' must be an object.", "stream_options", "invalid_type");
            return false;
        }

        if (value.TryGetProperty("include_usage", out var include))
        {
            if (!TryReadBool(include, "stream_options.include_usage", out var flag, out error))
            {
                return false;
            }

            includeUsage = flag ?? false;
        }

        return true;
    }

    private static bool TryReadStop(JsonElement value, out List<string>? stop, out ChatRequestError? error)
    {
        stop = null;
        error = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.String:
                stop = [value.GetString()!];
                return true;
            case JsonValueKind.Array:
                var list = new List<string>();
                var index = 0;
                foreach (var item in value.EnumerateArray())
                {
                    if (item.ValueKind != JsonValueKind.String)
                    {
                        error = new($"'stop[{index}]' must be a string.", $"stop[{index}]", "invalid_type");
                        return false;
                    }

                    list.Add(item.GetString()!);
                    index++;
                }

                if (list.Count > ChatRequestRules.MaxStopSequences)
                {
                    error = new($"'stop' may hold at most {ChatRequestRules.MaxStopSequences} sequences.", "stop", "invalid_value");
                    return false;
                }

                stop = list;
                return true;
            default:
                error = new("'stop' must be a string or an array of strings.", "stop", "invalid_type");
                return false;
        }
    }
}
