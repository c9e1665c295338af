using System.ComponentModel;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli.Commands;

/// <summary>Settings of a command about one app.</summary>
public class AppSettings : GlobalSettings
{
    [CommandArgument(0, "<APP>")]
    [Description("The app id.")]
    public string AppId { get; set; } = "";
}

/// <summary><c>apps list</c>: every app with its state and spend.</summary>
internal sealed class AppsListCommand(CliEnvironment environment) : ApiCommand<GlobalSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, GlobalSettings settings, CancellationToken cancellationToken)
    {
        var response = await client.GetAsync("admin/apps", cancellationToken);
        if (PrintedJson(settings, response))
        {
            return ExitCodes.Ok;
        }

        var apps = response.Json as JsonArray ?? [];
        if (apps.Count == 0)
        {
            Plain("no apps yet: create one with `microapps new` and `microapps push`");
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns("app", "name", "owner", "team", "lifecycle", "version", "published", "spent / limit");
        foreach (var app in apps)
        {
            var release = app?["release"];
            table.AddRow(
                E(J.Str(app, "appId")), E(J.Str(app, "name")), E(J.Str(app, "owner")), E(J.Str(app, "team")), E(J.Str(app, "lifecycle")),
                E($"{J.Int(app, "version")?.ToString() ?? "-"} {J.Str(app, "state")}".Trim()),
                E(J.Int(release, "publishedVersion")?.ToString() ?? "-"),
                E($"{Usd(J.Dec(app, "spentUsd"))} / {(J.Bool(app, "budgetConfigured") ? Usd(J.Dec(app, "limitUsd")) : "none")}"));
        }

        Console.Write(table);
        return ExitCodes.Ok;
    }
}

/// <summary><c>status APP</c>: the app, its versions, what is released, its keys and its budget.</summary>
internal sealed class StatusCommand(CliEnvironment environment) : ApiCommand<AppSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, AppSettings settings, CancellationToken cancellationToken)
    {
        var response = await client.GetAsync($"admin/apps/{Esc(settings.AppId)}", cancellationToken);
        if (PrintedJson(settings, response))
        {
            return ExitCodes.Ok;
        }

        var app = response.Json;
        var release = app?["release"];
        var grid = new Grid().AddColumn().AddColumn();
        grid.AddRow("[bold]app[/]", E($"{J.Str(app, "appId")} ({J.Str(app, "name")})"));
        grid.AddRow("[bold]owner / team[/]", E($"{J.Str(app, "owner")} / {J.Str(app, "team")}"));
        grid.AddRow("[bold]audience[/]", E(J.Str(app, "audience")));
        grid.AddRow("[bold]lifecycle[/]", E(J.Str(app, "lifecycle")));
        grid.AddRow("[bold]tiers[/]", E($"{string.Join(", ", J.Arr(app, "allowedTiers").Select(FrontDoorClient.Text))} (default {J.Str(app, "defaultTier")})"));
        grid.AddRow("[bold]quotas[/]", E($"{J.Long(app?["quotas"], "requestsPerMinute")} requests/min, {J.Long(app?["quotas"], "tokensPerDay")} tokens/day"));
        var published = J.Int(release, "publishedVersion");
        var canary = J.Int(release, "canaryVersion");
        grid.AddRow("[bold]release[/]", E(published is null ? "nothing published yet" : $"version {published} published"
            + (canary is { } c ? $", canary version {c} at {J.Dec(release, "canaryShare"):0.##} share" : "")));
        grid.AddRow("[bold]budget[/]", E(J.Bool(app, "budgetConfigured")
            ? $"{J.Str(app, "budgetId")}: {Usd(J.Dec(app, "spentUsd"))} spent, {Usd(J.Dec(app, "reservedUsd"))} reserved of {Usd(J.Dec(app, "limitUsd"))}"
            : $"{J.Str(app, "budgetId")}: not configured"));
        Console.Write(grid);

        var versions = J.Arr(app, "versions");
        if (versions.Count > 0)
        {
            var table = new Table().Title("versions").AddColumns("version", "state", "author", "created", "needs approver");
            foreach (var v in versions)
            {
                table.AddRow(E(J.Int(v, "version")?.ToString()), E(J.Str(v, "state")), E(J.Str(v, "author")), E(J.Time(v, "createdAt")), J.Bool(v, "needsApprover") ? "yes" : "no");
            }

            Console.Write(table);
        }

        KeysListCommand.WriteKeys(Console, J.Arr(app, "keys"));
        return ExitCodes.Ok;
    }
}
