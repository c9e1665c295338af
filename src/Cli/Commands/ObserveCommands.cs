using System.ComponentModel;
using System.Globalization;
using System.Text.Json.Nodes;
using MicroApps.Orleans.Cli.Infrastructure;
using Spectre.Console;
using Spectre.Console.Cli;

namespace MicroApps.Orleans.Cli.Commands;

/// <summary>Settings of <c>cost</c>.</summary>
public sealed class CostSettings : GlobalSettings
{
    [CommandOption("--app <APP>")]
    [Description("Only this app's spend.")]
    public string? App { get; set; }

    [CommandOption("--by <DIMENSION>")]
    [Description("Group spend by app, team, tier or model (default app).")]
    [DefaultValue("app")]
    public string By { get; set; } = "app";

    [CommandOption("--days <N>")]
    [Description("How many days back (default 7).")]
    [DefaultValue(7)]
    public int Days { get; set; } = 7;

    public override ValidationResult Validate() =>
        By.ToLowerInvariant() is not ("app" or "team" or "tier" or "model") ? ValidationResult.Error($"--by must be app, team, tier or model; got '{By}'")
        : Days is < 1 or > 366 ? ValidationResult.Error($"--days must be from 1 to 366; got {Days}")
        : App is not null && !By.Equals("app", StringComparison.OrdinalIgnoreCase) ? ValidationResult.Error("--app shows one app's spend: leave --by out (or --by app)")
        : ValidationResult.Success();
}

/// <summary><c>cost</c>: spend over the last days from the cost dashboard, grouped.</summary>
internal sealed class CostCommand(CliEnvironment environment) : ApiCommand<CostSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, CostSettings settings, CancellationToken cancellationToken)
    {
        var to = DateTimeOffset.UtcNow;
        var from = to.AddDays(-settings.Days);
        var range = $"from={Esc(from.ToString("O", CultureInfo.InvariantCulture))}&to={Esc(to.ToString("O", CultureInfo.InvariantCulture))}";
        var by = settings.By.ToLowerInvariant();
        var spend = await client.GetAsync($"admin/cost/spend?{range}&granularity=day&groupBy={by}", cancellationToken);
        var groups = J.Arr(spend.Json, "groups").Where(g => settings.App is null || J.Str(g, "key") == settings.App).ToList();
        ApiResponse? summary = null;
        if (settings.App is null)
        {
            summary = await client.GetAsync($"admin/cost/summary?{range}", cancellationToken);
        }

        if (settings.Json)
        {
            var series = spend.Json?.DeepClone();
            if (settings.App is not null && series is JsonObject filtered)
            {
                // Only the app's group: the dashboard groups every app, the command asked for one.
                filtered["groups"] = new JsonArray([.. groups.Select(g => g?.DeepClone())]);
            }

            var answer = new JsonObject { ["spend"] = series };
            if (summary is not null)
            {
                answer["summary"] = summary.Json?.DeepClone();
            }

            Environment.WriteRaw(answer.ToJsonString(FrontDoorClient.JsonOptions));
            return ExitCodes.Ok;
        }

        var total = settings.App is null ? summary!.Json?["total"] : groups.FirstOrDefault()?["total"];
        Line($"{(settings.App is null ? "all apps" : E(settings.App))}, last {settings.Days} day{(settings.Days == 1 ? "" : "s")}: "
             + $"[bold]{E(Usd(J.Dec(total, "costUsd")))}[/] for {J.Long(total, "requests")} requests ({J.Long(total, "tokensIn")} tokens in, {J.Long(total, "tokensOut")} out)");
        if (summary?.Json?["savings"] is JsonObject savings && J.Dec(savings, "savedUsd") > 0)
        {
            Line($"saved {E(Usd(J.Dec(savings, "savedUsd")))} against the baseline {E(Usd(J.Dec(savings, "baselineUsd")))}");
        }

        if (groups.Count == 0)
        {
            Plain(settings.App is null ? "no spend in this range" : $"no calls of {settings.App} in this range");
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns(by, "requests", "answered", "refused", "tokens in", "tokens out", "cost");
        foreach (var group in groups)
        {
            var t = group?["total"];
            var answered = J.Long(t, "success") + J.Long(t, "cacheHits");
            var refused = J.Long(t, "blocked") + J.Long(t, "throttled") + J.Long(t, "invalid") + J.Long(t, "unauthorized") + J.Long(t, "errors");
            table.AddRow(E(J.Str(group, "key") is { Length: > 0 } k ? k : "-"), J.Long(t, "requests").ToString(CultureInfo.InvariantCulture),
                answered.ToString(CultureInfo.InvariantCulture), refused.ToString(CultureInfo.InvariantCulture),
                J.Long(t, "tokensIn").ToString(CultureInfo.InvariantCulture), J.Long(t, "tokensOut").ToString(CultureInfo.InvariantCulture), E(Usd(J.Dec(t, "costUsd"))));
        }

        Console.Write(table);
        return ExitCodes.Ok;
    }
}

/// <summary>Settings of <c>logs</c>.</summary>
public sealed class LogsSettings : AppSettings
{
    [CommandOption("--since <WHEN>")]
    [Description("How far back: a duration (30m, 2h, 7d) or an ISO 8601 time (default 24h).")]
    public string? Since { get; set; }

    [CommandOption("--limit <N>")]
    [Description("At most this many traces, newest first (default 50, at most 1000).")]
    [DefaultValue(50)]
    public int Limit { get; set; } = 50;

    public override ValidationResult Validate() =>
        Limit is < 1 or > 1000 ? ValidationResult.Error($"--limit must be from 1 to 1000; got {Limit}")
        : Since is not null && SinceTime(Since, DateTimeOffset.UtcNow) is null ? ValidationResult.Error($"--since must be a duration such as 30m, 2h or 7d, or an ISO 8601 time; got '{Since}'")
        : ValidationResult.Success();

    public static DateTimeOffset? SinceTime(string since, DateTimeOffset now)
    {
        var text = since.Trim();
        if (text.Length >= 2 && double.TryParse(text[..^1], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var amount) && amount > 0)
        {
            TimeSpan? span = char.ToLowerInvariant(text[^1]) switch
            {
                's' => TimeSpan.FromSeconds(amount),
                'm' => TimeSpan.FromMinutes(amount),
                'h' => TimeSpan.FromHours(amount),
                'd' => TimeSpan.FromDays(amount),
                _ => null,
            };
            if (span is { } s)
            {
                return now - s;
            }
        }

        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
    }
}

/// <summary><c>logs APP</c>: the app's traced model calls, newest first.</summary>
internal sealed class LogsCommand(CliEnvironment environment) : ApiCommand<LogsSettings>(environment)
{
    protected override async Task<int> RunAsync(FrontDoorClient client, LogsSettings settings, CancellationToken cancellationToken)
    {
        var now = DateTimeOffset.UtcNow;
        var query = $"admin/traces?appId={Esc(settings.AppId)}&pageSize={settings.Limit}";
        if (settings.Since is { } since)
        {
            query += $"&from={Esc(LogsSettings.SinceTime(since, now)!.Value.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture))}";
        }

        var response = await client.GetAsync(query, cancellationToken);
        if (PrintedJson(settings, response))
        {
            return ExitCodes.Ok;
        }

        var items = J.Arr(response.Json, "items");
        if (items.Count == 0)
        {
            Plain($"no calls of {settings.AppId} in this range");
            return ExitCodes.Ok;
        }

        var table = new Table().AddColumns("request id", "time (UTC)", "model", "outcome", "tokens in/out", "cost");
        foreach (var trace in items.Take(settings.Limit))
        {
            var outcome = J.Str(trace, "outcome");
            if (J.Str(trace, "errorCode") is { Length: > 0 } code)
            {
                outcome += $" ({code})";
            }

            table.AddRow(E(J.Str(trace, "requestId")), E(J.Time(trace, "timestamp")), E(J.Str(trace, "model") is { Length: > 0 } m ? m : "-"), E(outcome),
                E($"{J.Long(trace, "tokensIn")}/{J.Long(trace, "tokensOut")}"), E(Usd(J.Dec(trace, "costActualUsd"))));
        }

        Console.Write(table);
        return ExitCodes.Ok;
    }
}
