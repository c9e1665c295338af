using System.Globalization;
using System.Text.Json.Nodes;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli.Infrastructure;

/// <summary>
/// A command that talks to the front door: resolves the URL and token from the options or the environment, and
/// prints either the JSON answer as it is (<c>--json</c>) or a human view of it.
/// </summary>
internal abstract class ApiCommand<TSettings>(CliEnvironment environment) : AsyncCommand<TSettings>
    where TSettings : GlobalSettings
{
    protected CliEnvironment Environment { get; } = environment;

    protected IAnsiConsole Console => Environment.Console;

    /// <summary>Whether the command calls the admin API (and so needs the admin token).</summary>
    protected virtual bool NeedsToken => true;

    public sealed override async Task<int> ExecuteAsync(CommandContext context, TSettings settings, CancellationToken cancellationToken)
    {
        using var client = Connect(settings);
        return await RunAsync(client, settings, cancellationToken);
    }

    protected abstract Task<int> RunAsync(FrontDoorClient client, TSettings settings, CancellationToken cancellationToken);

    private FrontDoorClient Connect(GlobalSettings settings)
    {
        var url = settings.Url ?? Environment.Variable(GlobalSettings.UrlVariable) ?? GlobalSettings.DefaultUrl;
        if (!Uri.TryCreate(url.Trim().TrimEnd('/') + "/", UriKind.Absolute, out var baseUrl) || baseUrl.Scheme is not ("http" or "https"))
        {
            throw CliException.Usage($"--url must be an http(s) address such as {GlobalSettings.DefaultUrl}; got '{url}'");
        }

        var token = settings.Token ?? Environment.Variable(GlobalSettings.TokenVariable);
        if (NeedsToken && string.IsNullOrWhiteSpace(token))
        {
            throw CliException.Usage($"no admin token: pass --token or set {GlobalSettings.TokenVariable} (run.sh prints the admin token)");
        }

        return new FrontDoorClient(baseUrl, token?.Trim(), Environment.Handler);
    }

    /// <summary>With <c>--json</c>, prints the answer as it is and returns true: the caller then prints nothing else.</summary>
    protected bool PrintedJson(TSettings settings, ApiResponse response)
    {
        if (!settings.Json)
        {
            return false;
        }

        Environment.WriteRaw(response.Json?.ToJsonString(FrontDoorClient.JsonOptions) ?? response.Text);
        return true;
    }

    protected void Line(string markup) => Console.MarkupLine(markup);

    protected void Plain(string text) => Console.WriteLine(text);

    /// <summary>Runs <paramref name="work"/> under a spinner (only for people: never with <c>--json</c>).</summary>
    protected async Task<T> WithStatusAsync<T>(TSettings settings, string status, Func<Task<T>> work)
    {
        if (settings.Json || !Console.Profile.Capabilities.Interactive)
        {
            return await work();
        }

        return await Console.Status().Spinner(Spinner.Known.Dots).StartAsync(Markup.Escape(status), _ => work());
    }

    protected static string E(string? text) => Markup.Escape(text ?? "");

    protected static string Usd(decimal value) => "$" + value.ToString(value != 0 && Math.Abs(value) < 0.01m ? "0.000000" : "0.00", CultureInfo.InvariantCulture);

    protected static string Esc(string segment) => Uri.EscapeDataString(segment);
}

/// <summary>Reads values out of the front door's JSON without binding to its types (the CLI references no platform project).</summary>
internal static class J
{
    public static string Str(JsonNode? node, string name) => FrontDoorClient.Text(node?[name]) is var s && s != "null" ? s : "";

    public static decimal Dec(JsonNode? node, string name) =>
        node?[name] is JsonValue v && (v.TryGetValue<decimal>(out var d) || (v.TryGetValue<string>(out var s) && decimal.TryParse(s, CultureInfo.InvariantCulture, out d))) ? d : 0m;

    public static long Long(JsonNode? node, string name) =>
        node?[name] is JsonValue v && v.TryGetValue<long>(out var l) ? l : node?[name] is JsonValue w && w.TryGetValue<double>(out var d) ? (long)d : 0;

    public static int? Int(JsonNode? node, string name) =>
        node?[name] is JsonValue v && v.TryGetValue<int>(out var i) ? i : null;

    public static bool Bool(JsonNode? node, string name) => node?[name] is JsonValue v && v.TryGetValue<bool>(out var b) && b;

    public static JsonArray Arr(JsonNode? node, string name) => node?[name] as JsonArray ?? [];

    public static string Time(JsonNode? node, string name) =>
        DateTimeOffset.TryParse(Str(node, name), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t)
            ? t.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : Str(node, name);
}
