using System.ComponentModel;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli.Infrastructure;

/// <summary>Options every command takes: where the front door is, the token, and raw JSON output.</summary>
public class GlobalSettings : CommandSettings
{
    public const string UrlVariable = "MICROAPPS_URL";
    public const string TokenVariable = "MICROAPPS_TOKEN";
    public const string DefaultUrl = "http://localhost:8080";

    [CommandOption("--url <URL>")]
    [Description("The front door, e.g. http://localhost:8080 (env MICROAPPS_URL; default http://localhost:8080).")]
    public string? Url { get; set; }

    [CommandOption("--token <TOKEN>")]
    [Description("Admin API token (env MICROAPPS_TOKEN; run.sh prints the admin token and saves it in .data/admin-token).")]
    public string? Token { get; set; }

    [CommandOption("--json")]
    [Description("Print the front door's JSON answer as it is, instead of tables.")]
    public bool Json { get; set; }

    /// <summary>The long names of the global options, and whether each takes a value.</summary>
    internal static readonly IReadOnlyDictionary<string, bool> Options = new Dictionary<string, bool>(StringComparer.Ordinal)
    {
        ["--url"] = true,
        ["--token"] = true,
        ["--json"] = false,
    };
}
