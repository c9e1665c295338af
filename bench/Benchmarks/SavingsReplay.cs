using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.Benchmarks;

/// <summary>
/// <c>./bench.sh savings</c>: replays the seeded workload twice on fresh platforms over Azurite, once with everything on
/// premium (savings off, exact cache off) and once with the savings engine, and prints spend, spend per 1,000 requests
/// by tier, quality against the SLO and the saving split.
/// </summary>
internal static class SavingsReplay
{
    private const double QualitySlo = 0.9;
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    private sealed record Options(string ConnectionString, string FrontDoorDll, int Seed, int Requests, int Concurrency, double ShadowShare, double WarmUpShare, int Apps, double TightAhead, double TightRoom)
    {
        public static Options Parse(string[] args)
        {
            string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
            int Int(string name, int fallback) => int.TryParse(Value(name), NumberStyles.None, Inv, out var v) && v > 0 ? v : fallback;
            double Share(string name, double fallback) => double.TryParse(Value(name), NumberStyles.Float, Inv, out var v) && v is >= 0 and <= 1 ? v : fallback;
            return new Options(
                Value("--connection-string") ?? throw new ArgumentException("--connection-string is required"),
                Value("--frontdoor") ?? throw new ArgumentException("--frontdoor (path to MicroApps.Orleans.Client.dll) is required"),
                Int("--seed", 42), Int("--requests", 4000), Int("--concurrency", 16), Share("--shadow-share", 0.2), Share("--warmup-share", 0.25), Int("--apps", 40),
                Share("--tight-ahead", 0.5), Share("--tight-room", 0.6));
        }
    }

    /// <summary>What one replayed request got back.</summary>
    /// <param name="Foreign">The answer is none of this question's possible answers: it was made for another question (a false cache hit).</param>
    private sealed record Answer(WorkRequest Request, int Status, bool Correct, string Tier, decimal CostUsd, string Cache, bool Foreign = false);

    /// <summary>One run's results.</summary>
    private sealed record RunResult(
        string Name, IReadOnlyList<Answer> Answers, JsonElement Summary, decimal ShadowSpentUsd, IReadOnlyDictionary<string, long> ModelCalls,
        TimeSpan Duration, (decimal Baseline, Dictionary<string, decimal> Saved, int Events, HashSet<string> NearDuplicateIds)? Traces, JsonElement? Quality, long UnknownPrompts);

    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Contains("--dry-run"))
        {
            // The workload only: what the seed and size generate, without running anything.
            string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
            var seed = int.TryParse(Value("--seed"), out var s) ? s : 42;
            var size = int.TryParse(Value("--requests"), out var n) && n > 0 ? n : 4000;
            PrintWorkload(SavingsWorkload.Generate(seed, size), new Options("", "", seed, size, 0, 0, 0.25, 40, 0.5, 0.6));
            return 0;
        }

        var options = Options.Parse(args);
        var workload = SavingsWorkload.Generate(options.Seed, options.Requests, options.Apps);
        Console.WriteLine($"MicroApps.Orleans savings replay · seed {options.Seed} · {options.Requests} requests · {workload.Apps.Count} apps · {options.Concurrency} concurrent callers · {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        PrintWorkload(workload, options);

        await using var models = await SimModelServer.StartAsync();
        foreach (var item in workload.Items)
        {
            models.Register(item);
        }

        Console.WriteLine($"simulated models: {models.BaseUrl} ({string.Join(", ", SimModels.All.Select(m => $"{m.Name} on {m.Tier} ${m.InputPricePer1K}/${m.OutputPricePer1K} per 1K in/out"))})");
        var a = await RunOnceAsync("A premium only", savings: false, workload, options, models);
        var b = await RunOnceAsync("B savings engine", savings: true, workload, options, models);
        return Report(workload, options, a, b);
    }

    private static void PrintWorkload(SavingsWorkload workload, Options options)
    {
        var requests = workload.Requests;
        string Share(Func<WorkRequest, bool> f) => $"{100.0 * requests.Count(f) / requests.Count:0.0}%";
        Console.WriteLine($"workload: a pool of {workload.Items.Count} questions across the apps; requests: first asks {Share(r => r.Kind == "first")}, exact repeats {Share(r => r.Kind == "repeat")}, light rewordings of an earlier question {Share(r => r.Kind == "reworded")}, paraphrases of an earlier question {Share(r => r.Kind == "paraphrase")}");
        Console.WriteLine($"  types: {string.Join(", ", SavingsWorkload.Types.Select(t => $"{t} {Share(r => r.Item.Type == t)}"))}");
        Console.WriteLine($"  apps: {workload.Apps.Count(a => a.DataClasses.Count > 0)} declare PII (email/phone; {Share(r => r.App.DataClasses.Count > 0)} of requests, about half of those carry it), "
            + $"{workload.Apps.Count(a => a.Audience == "external")} external ({Share(r => r.App.Audience == "external")} of requests), {workload.Apps.Count(a => a.Task is null)} ask mixed types (classified per call), "
            + $"{workload.Apps.Count(a => a.Tight)} on a tight budget; users send feedback on {Share(r => r.SendsFeedback)}; warm-up: the first {options.WarmUpShare:P0}");
    }

    /// <summary>Premium-only cost of each app's requests: what its budget is sized against.</summary>
    private static Dictionary<string, decimal> PremiumCostByApp(SavingsWorkload workload)
    {
        var premium = SimModels.All[0];
        return workload.Requests
            .GroupBy(r => r.App.AppId)
            .ToDictionary(g => g.Key, g => g.Sum(r =>
                ((SimModels.Tokens(r.Text) + 4) * premium.InputPricePer1K + SimModels.Tokens(r.Item.Answer) * premium.OutputPricePer1K) / 1000m));
    }

    private static Dictionary<string, string> Settings(string baseUrl, string modelsUrl, string adminToken, string connectionString, bool savings, double shadowShare)
    {
        var clusterId = $"sav-{Guid.NewGuid():N}"[..16];
        var serviceId = $"microapps-sav-{Guid.NewGuid():N}"[..24];
        var settings = new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = baseUrl,
            ["Logging__LogLevel__Default"] = "Warning",
            ["FrontDoor__CoHostSilo"] = "true",
            ["FrontDoor__AdminToken"] = adminToken,
            ["Orleans__Provider"] = "AzureStorage",
            ["Orleans__ClusterId"] = clusterId,
            ["Orleans__ServiceId"] = serviceId,
            ["Orleans__SiloPort"] = FreePort().ToString(Inv),
            ["Orleans__GatewayPort"] = FreePort().ToString(Inv),
            ["Storage__ConnectionString"] = connectionString,
            ["Telemetry__Traces__Enabled"] = "true",
            ["Telemetry__Traces__TablePrefix"] = "sav" + Guid.NewGuid().ToString("N")[..8],
            ["Models__Backends__0__Name"] = "sim",
            ["Models__Backends__0__Kind"] = "OpenAI",
            ["Models__Backends__0__BaseUrl"] = modelsUrl,
            ["Models__Backends__0__ApiKey"] = "sim",
        };
        foreach (var model in SimModels.All)
        {
            var prefix = $"Models__Tiers__{model.Tier}__Models__0__";
            settings[prefix + "Name"] = model.Name;
            settings[prefix + "Backend"] = "sim";
            settings[prefix + "InputPricePer1K"] = (model.InputPricePer1K / 1m).ToString(Inv);
            settings[prefix + "OutputPricePer1K"] = (model.OutputPricePer1K / 1m).ToString(Inv);
            settings[prefix + "ContextWindow"] = "128000";
            settings[prefix + "External"] = model.External ? "true" : "false";
        }

        if (savings)
        {
            settings["Savings__Shadow__Share"] = shadowShare.ToString(Inv);
            settings["Savings__Shadow__BudgetId"] = "platform:shadow";
            settings["Savings__Sampling__AdjustEvery"] = "00:00:05";
        }
        else
        {
            settings["Gateway__CacheTtl"] = "00:00:00";
        }

        // Experiments: BENCH_FD_<Setting> overrides a front-door setting, e.g. BENCH_FD_Savings__Routing__MinEvidence=10.
        foreach (var (name, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .Select(e => ((string)e.Key, (string?)e.Value ?? "")).Where(e => e.Item1.StartsWith("BENCH_FD_", StringComparison.Ordinal)))
        {
            settings[name["BENCH_FD_".Length..]] = value;
        }

        return settings;
    }

    private static async Task<RunResult> RunOnceAsync(string name, bool savings, SavingsWorkload workload, Options options, SimModelServer models)
    {
        var adminToken = Guid.NewGuid().ToString("N");
        var baseUrl = $"http://127.0.0.1:{FreePort()}";
        models.TakeCalls();
        var settings = Settings(baseUrl, models.BaseUrl, adminToken, options.ConnectionString, savings, options.ShadowShare);
        await using var frontDoor = FrontDoorProcess.Start(options.FrontDoorDll, settings);
        await frontDoor.WaitReadyAsync(baseUrl, TimeSpan.FromSeconds(120));
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64 }) { BaseAddress = new Uri(baseUrl + "/"), Timeout = TimeSpan.FromSeconds(60) };
        var admin = new AdminClient(http, adminToken);
        Console.WriteLine();
        Console.WriteLine($"run {name}: front door with a co-hosted silo on Azurite at {baseUrl}");

        // Budgets (run B; run A's are unlimited so no call is refused). The replay is the rest of the app's day, so each
        // app's daily budget has already spent what its earlier traffic cost (charged before the replay through the
        // budget grain, as the earlier calls would have been):
        //  - comfortable apps: spent 0.5 × the elapsed share of the UTC day × limit (under pace), with room left for
        //    twice their premium-only replay cost;
        //  - tight apps (about a third): spent (elapsed + (1 − elapsed) × TightAhead) × limit, ahead of pace, so adaptive
        //    sampling has something to react to, with room left for TightRoom × their premium-only replay cost (so on
        //    premium alone they would run out).
        var now = DateTimeOffset.UtcNow;
        var elapsed = Math.Clamp((now - new DateTimeOffset(now.Year, now.Month, now.Day, 0, 0, 0, TimeSpan.Zero)).TotalDays, 0.02, 0.95);
        var premiumCost = PremiumCostByApp(workload);
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var spentBefore = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var app in workload.Apps)
        {
            var replayCost = premiumCost.GetValueOrDefault(app.AppId) + 1m;
            var tight = app.Tight;
            var spentShare = tight ? elapsed + ((1 - elapsed) * options.TightAhead) : 0.5 * elapsed;
            var room = tight ? options.TightRoom : 2.0;
            var limit = Math.Round(replayCost * (decimal)(room / (1 - spentShare)), 2);
            spentBefore[app.AppId] = Math.Round(limit * (decimal)spentShare, 2);
            limit = savings ? limit : 1_000_000_000m;
            object savingsSettings = savings
                ? new { routing = true, qualitySlo = QualitySlo, task = app.Task, sampling = new { minShare = 0.2, maxShare = 1.0 }, nearDuplicate = new { enabled = app.DataClasses.Count == 0 } }
                : new { routing = false, qualitySlo = QualitySlo, task = app.Task, nearDuplicate = new { enabled = false } };
            await admin.SendAsync(HttpMethod.Post, "admin/apps", new
            {
                appId = app.AppId,
                name = $"Simulated app {app.AppId}",
                owner = $"{app.AppId}@example.org",
                team = app.Team,
                audience = app.Audience,
                dataClasses = app.DataClasses,
                allowedTiers = new[] { "premium", "standard", "mini", "local" },
                defaultTier = "premium",
                quotas = new { requestsPerMinute = 0, tokensPerDay = 0 },
                budget = new { limitUsd = limit, period = "day" },
                initialState = "published",
                savings = savingsSettings,
            });
            using var key = await admin.SendAsync(HttpMethod.Post, $"admin/apps/{app.AppId}/keys", new { label = "replay" });
            keys[app.AppId] = key.RootElement.GetProperty("apiKey").GetString()!;
        }

        if (savings)
        {
            await ChargeEarlierSpendAsync(settings, options.ConnectionString, spentBefore);

            // Shadow evaluations are charged to the platform's own budget: 5% of the premium-only cost of the replay.
            var shadowLimit = Math.Round(premiumCost.Values.Sum() * 0.05m, 2);
            (await admin.SendAsync(HttpMethod.Put, "admin/budgets/platform:shadow", new { limitUsd = shadowLimit, period = "day" })).Dispose();
        }

        var started = DateTimeOffset.UtcNow;
        var watch = Stopwatch.StartNew();
        var answers = new Answer[workload.Requests.Count];
        var queue = Channel.CreateBounded<WorkRequest>(options.Concurrency * 2);
        var workers = Enumerable.Range(0, options.Concurrency).Select(_ => Task.Run(async () =>
        {
            await foreach (var request in queue.Reader.ReadAllAsync())
            {
                answers[request.Index] = await CallAsync(http, keys[request.App.AppId], request, name[0]);
            }
        })).ToArray();
        var progress = Math.Max(1, workload.Requests.Count / 10);
        foreach (var request in workload.Requests)
        {
            await queue.Writer.WriteAsync(request);
            if ((request.Index + 1) % progress == 0)
            {
                Console.WriteLine($"  {request.Index + 1} requests sent, {watch.Elapsed.TotalSeconds:0}s");
            }
        }

        queue.Writer.Complete();
        await Task.WhenAll(workers);
        watch.Stop();
        var calls = models.TakeCalls();
        var unknown = models.UnknownPrompts;

        // Every call's trace is stored before it is answered; the live hour's roll-up is reused briefly, so poll until
        // the summary holds every replayed request.
        var range = $"from={Uri.EscapeDataString(started.AddMinutes(-5).ToString("O", Inv))}&to={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(5).ToString("O", Inv))}";
        JsonElement summary;
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            using var json = await admin.SendAsync(HttpMethod.Get, $"admin/cost/summary?{range}&top=100");
            summary = json.RootElement.Clone();
            var appRequests = summary.GetProperty("topApps").EnumerateArray()
                .Where(s => s.GetProperty("key").GetString()!.StartsWith("sim-app-", StringComparison.Ordinal))
                .Sum(s => s.GetProperty("requests").GetInt64());
            if (appRequests >= workload.Requests.Count || deadline.Elapsed > TimeSpan.FromSeconds(60))
            {
                break;
            }

            await Task.Delay(500); // polling another process's eventually-updated roll-up, bounded by the deadline
        }

        decimal shadowSpent = 0m;
        if (savings)
        {
            using var shadow = await admin.SendAsync(HttpMethod.Get, "admin/budgets/platform:shadow");
            shadowSpent = shadow.RootElement.GetProperty("spentUsd").GetDecimal();
        }

        var traces = await TraceSplitAsync(admin, range);
        JsonElement? quality = null;
        using (var response = await http.SendAsync(admin.Request(HttpMethod.Get, "admin/savings/quality")))
        {
            if (response.IsSuccessStatusCode)
            {
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                quality = json.RootElement.Clone();
            }
        }

        Console.WriteLine($"  done in {watch.Elapsed.TotalSeconds:0}s ({workload.Requests.Count / watch.Elapsed.TotalSeconds:0} req/s); backend calls: {string.Join(", ", calls.OrderBy(c => c.Key).Select(c => $"{c.Key} {c.Value}"))}"
            + (unknown > 0 ? $"; {unknown} prompts the models did not recognise" : ""));
        return new RunResult(name, answers, summary, shadowSpent, calls, watch.Elapsed, traces, quality, unknown);
    }

    /// <summary>Charges each app's budget (<c>app:{appId}</c>) what its traffic earlier in the day spent, through an Orleans client.</summary>
    private static async Task ChargeEarlierSpendAsync(Dictionary<string, string> settings, string connectionString, Dictionary<string, decimal> spentBefore)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Orleans:Provider"] = "AzureStorage",
            ["Orleans:ClusterId"] = settings["Orleans__ClusterId"],
            ["Orleans:ServiceId"] = settings["Orleans__ServiceId"],
            ["Storage:ConnectionString"] = connectionString,
        });
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddMicroAppsClient();
        using var host = builder.Build();
        await host.StartAsync();
        var grains = host.Services.GetRequiredService<IGrainFactory>();
        foreach (var (appId, amount) in spentBefore)
        {
            var budget = grains.GetGrain<IBudgetGrain>($"app:{appId}");
            var requestId = $"{appId}/earlier-today";
            var grant = await budget.ReserveAsync(requestId, amount);
            if (!grant.IsGranted)
            {
                throw new InvalidOperationException($"charging {appId}'s earlier spend of {amount} USD was refused: {grant}");
            }

            await budget.SettleAsync(requestId, amount);
        }

        await host.StopAsync();
    }

    private static async Task<Answer> CallAsync(HttpClient http, string key, WorkRequest request, char run)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = JsonContent.Create(new
            {
                model = "premium",
                max_tokens = request.Item.MaxTokens,
                messages = new[] { new { role = "user", content = request.Text } },
            }),
        };
        message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
        var requestId = $"replay-{run}-{request.Index}";
        message.Headers.Add("X-Request-Id", requestId);
        using var response = await http.SendAsync(message);
        var body = await response.Content.ReadAsStringAsync();
        if (response.StatusCode != HttpStatusCode.OK)
        {
            return new Answer(request, (int)response.StatusCode, false, "", 0m, "");
        }

        string Header(string name) => response.Headers.TryGetValues(name, out var values) ? values.First() : "";
        using var json = JsonDocument.Parse(body);
        var content = json.RootElement.GetProperty("choices")[0].GetProperty("message").GetProperty("content").GetString() ?? "";
        var correct = string.Equals(content, request.Item.Answer, StringComparison.Ordinal);
        var cost = decimal.TryParse(Header("x-microapps-cost-usd"), NumberStyles.Float, Inv, out var c) ? c : 0m;
        if (request.SendsFeedback)
        {
            // A simulated user: thumbs up when the answer is right, down when it is not.
            using var feedback = new HttpRequestMessage(HttpMethod.Post, "v1/feedback")
            {
                Content = JsonContent.Create(new { request_id = requestId, thumbs = correct ? "up" : "down" }),
            };
            feedback.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var _ = await http.SendAsync(feedback);
        }

        var foreign = !correct && !request.Item.WrongAnswers.Contains(content, StringComparer.Ordinal);
        return new Answer(request, 200, correct, Header("x-microapps-tier"), cost, Header("x-microapps-cache"), foreign);
    }

    /// <summary>The saving split recomputed from the stored traces (every page of <c>GET /admin/traces</c>).</summary>
    private static async Task<(decimal Baseline, Dictionary<string, decimal> Saved, int Events, HashSet<string> NearDuplicateIds)?> TraceSplitAsync(AdminClient admin, string range)
    {
        var nearDuplicates = new HashSet<string>(StringComparer.Ordinal);
        var saved = new Dictionary<string, decimal>(StringComparer.Ordinal);
        var baseline = 0m;
        var events = 0;
        string? token = null;
        do
        {
            var path = $"admin/traces?{range}&pageSize=1000" + (token is null ? "" : $"&continuationToken={Uri.EscapeDataString(token)}");
            using var page = await admin.TrySendAsync(HttpMethod.Get, path);
            if (page is null)
            {
                return null;
            }

            foreach (var item in page.RootElement.GetProperty("items").EnumerateArray())
            {
                events++;
                var actual = item.GetProperty("costActualUsd").GetDecimal();
                var b = item.TryGetProperty("baselineCostUsd", out var bv) && bv.ValueKind == JsonValueKind.Number ? bv.GetDecimal() : actual;
                baseline += b;
                var kind = item.TryGetProperty("saving", out var sv) && sv.ValueKind == JsonValueKind.String ? sv.GetString()! : "none";
                kind = kind is "cache" or "near_duplicate" or "routing" or "sampling" ? kind : "other";
                if (kind == "near_duplicate")
                {
                    nearDuplicates.Add(item.GetProperty("requestId").GetString()!);
                }

                saved[kind] = saved.GetValueOrDefault(kind) + Math.Max(0m, b - actual);
            }

            token = page.RootElement.TryGetProperty("continuationToken", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
        }
        while (token is not null);
        return (baseline, saved, events, nearDuplicates);
    }

    private static int Report(SavingsWorkload workload, Options options, RunResult a, RunResult b)
    {
        static decimal Spend(RunResult r) => r.Summary.GetProperty("total").GetProperty("costUsd").GetDecimal();
        static int Ok(RunResult r, Func<Answer, bool>? f = null) => r.Answers.Count(x => x.Status == 200 && (f?.Invoke(x) ?? true));
        Console.WriteLine();
        Console.WriteLine("| run | requests | answered | refused | correct | spend (traced) USD | apps charged USD | shadow USD (platform budget) | per 1,000 requests USD | time |");
        Console.WriteLine("|-----|---------:|---------:|--------:|--------:|-------------------:|-----------------:|-----------------------------:|-----------------------:|-----:|");
        foreach (var r in new[] { a, b })
        {
            var spend = Spend(r);
            Console.WriteLine($"| {r.Name} | {r.Answers.Count} | {Ok(r)} | {r.Answers.Count - Ok(r)} | {r.Answers.Count(x => x.Correct)} | {spend:0.00} | {r.Answers.Sum(x => x.CostUsd):0.00} | {r.ShadowSpentUsd:0.00} | {1000m * spend / Math.Max(1, Ok(r)):0.00} | {r.Duration.TotalSeconds:0}s |");
        }

        var (spendA, spendB) = (Spend(a), Spend(b));
        var appsB = b.Answers.Sum(x => x.CostUsd);
        var shadowInTraces = spendB - appsB;
        Console.WriteLine();
        Console.WriteLine($"saving vs premium only: {Pct(1 - (appsB + b.ShadowSpentUsd) / spendA)} including shadow evaluations (apps {appsB:0.00} + shadow {b.ShadowSpentUsd:0.00} vs {spendA:0.00}); {Pct(1 - appsB / spendA)} of what the apps were charged (target >= 50%)");
        if (Math.Abs(shadowInTraces) > 0.005m)
        {
            Console.WriteLine($"  (traced spend of run B minus what the apps were charged: {shadowInTraces:0.00} USD: shadow calls traced outside the apps' charges)");
        }

        var warm = (int)(workload.Requests.Count * options.WarmUpShare);
        var postB = b.Answers.Skip(warm).Sum(x => x.CostUsd);
        var postA = a.Answers.Skip(warm).Sum(x => x.CostUsd);
        Console.WriteLine($"after the warm-up (requests {warm + 1}..{workload.Requests.Count}): apps charged {postB:0.00} vs {postA:0.00} USD, saving {Pct(postA == 0 ? 0 : 1 - postB / postA)}");

        Console.WriteLine();
        Console.WriteLine("spend per 1,000 answered requests by tier that served them (GET /admin/cost/summary byTier):");
        Console.WriteLine("| tier | A requests | A USD | A per 1,000 | B requests | B USD | B per 1,000 |");
        Console.WriteLine("|------|-----------:|------:|------------:|-----------:|------:|------------:|");
        var tiers = Tiers(a).Keys.Union(Tiers(b).Keys).OrderBy(t => Array.FindIndex(SimModels.All.ToArray(), m => m.Tier == t) is var i && i < 0 ? 99 : i).ToList();
        foreach (var tier in tiers)
        {
            string Cell(RunResult r) => Tiers(r).TryGetValue(tier, out var t)
                ? $"{t.GetProperty("answered").GetInt64()} | {t.GetProperty("costUsd").GetDecimal():0.00} | {(t.GetProperty("costPer1KRequestsUsd").ValueKind == JsonValueKind.Number ? t.GetProperty("costPer1KRequestsUsd").GetDecimal().ToString("0.00", Inv) : "-")}"
                : "0 | 0.00 | -";
            Console.WriteLine($"| {tier} | {Cell(a)} | {Cell(b)} |");
        }

        Console.WriteLine();
        Console.WriteLine($"quality: share of requests answered correctly (an answer equal to the question's known answer; refusals count as wrong), SLO: B >= {QualitySlo:0.0} x A");
        Console.WriteLine("| query type | requests | A correct | B correct | B / A | SLO | B / A after warm-up |");
        Console.WriteLine("|------------|---------:|----------:|----------:|------:|-----|--------------------:|");
        var held = true;
        foreach (var type in SavingsWorkload.Types.Append("all"))
        {
            bool Of(Answer x) => type == "all" || x.Request.Item.Type == type;
            var n = a.Answers.Count(Of);
            var qa = (double)a.Answers.Count(x => Of(x) && x.Correct) / Math.Max(1, n);
            var qb = (double)b.Answers.Count(x => Of(x) && x.Correct) / Math.Max(1, n);
            var ratio = qa == 0 ? 0 : qb / qa;
            var na = a.Answers.Skip(warm).Count(x => Of(x) && x.Correct);
            var nb = b.Answers.Skip(warm).Count(x => Of(x) && x.Correct);
            var ok = ratio >= QualitySlo;
            held &= ok;
            Console.WriteLine($"| {type} | {n} | {qa:P1} | {qb:P1} | {ratio:0.000} | {(ok ? "held" : "MISSED")} | {(na == 0 ? 0 : (double)nb / na):0.000} |");
        }

        Console.WriteLine();
        var split = b.Summary.TryGetProperty("savings", out var s) && s.ValueKind == JsonValueKind.Object ? s : (JsonElement?)null;
        if (split is { } sv)
        {
            var byKind = sv.GetProperty("byKind");
            Console.WriteLine("saving split of run B (GET /admin/cost/summary savings, against each call's baseline on the route its app asked for):");
            Console.WriteLine("| | USD | share of baseline | from the traces |");
            Console.WriteLine("|--|----:|------------------:|----------------:|");
            var baseline = sv.GetProperty("baselineUsd").GetDecimal();
            string Row(string label, decimal value, decimal? traced) =>
                $"| {label} | {value:0.00} | {(baseline == 0 ? "-" : Pct(value / baseline))} | {(traced is { } t ? t.ToString("0.00", Inv) : "-")} |";
            var t = b.Traces;
            Console.WriteLine(Row("baseline", baseline, t?.Baseline));
            Console.WriteLine(Row("spent", sv.GetProperty("spentUsd").GetDecimal(), null));
            Console.WriteLine(Row("saved", sv.GetProperty("savedUsd").GetDecimal(), t?.Saved.Values.Sum()));
            foreach (var (label, json, kind) in new[] { ("  exact cache", "cache", "cache"), ("  near-duplicate cache", "nearDuplicate", "near_duplicate"), ("  routing", "routing", "routing"), ("  sampling", "sampling", "sampling"), ("  other", "other", "other") })
            {
                Console.WriteLine(Row(label, byKind.GetProperty(json).GetDecimal(), t?.Saved.GetValueOrDefault(kind) ?? (t is null ? null : 0m)));
            }

            Console.WriteLine(Row("over baseline", sv.GetProperty("overBaselineUsd").GetDecimal(), null));
            if (t is { } traced)
            {
                var agree = Math.Abs(traced.Saved.Values.Sum() - sv.GetProperty("savedUsd").GetDecimal()) < 0.000001m && Math.Abs(traced.Baseline - baseline) < 0.000001m;
                Console.WriteLine($"summary and the {traced.Events} stored traces agree: {(agree ? "yes" : "NO")}");
            }

            Console.WriteLine($"cacheSavedUsd (cache hits priced on the model that made the answer): {b.Summary.GetProperty("cacheSavings").GetProperty("savedUsd").GetDecimal():0.00}");
        }
        else
        {
            Console.WriteLine("the cost summary of run B has no savings split");
        }

        Console.WriteLine();
        Console.WriteLine("how run B's requests were answered: " + string.Join(", ", b.Answers.Where(x => x.Status == 200)
            .GroupBy(x => x.Cache == "hit" ? "cache hit" : x.Cache is "" or "miss" ? $"{x.Tier}" : $"{x.Cache}/{x.Tier}")
            .OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}")));
        var nearIds = b.Traces?.NearDuplicateIds ?? [];
        var nearHits = b.Answers.Where(x => nearIds.Contains($"replay-B-{x.Request.Index}")).ToList();
        Console.WriteLine($"near-duplicate hits: {nearHits.Count} ({nearHits.Count(x => x.Correct)} correct, {nearHits.Count(x => x.Foreign)} answered with another question's answer); "
            + $"every answer made for another question, any source: run A {a.Answers.Count(x => x.Foreign)}, run B {b.Answers.Count(x => x.Foreign)} (classify labels are shared, so a false hit there is only seen when the label is wrong)");
        var refusals = b.Answers.Where(x => x.Status != 200).GroupBy(x => (x.Status, x.Request.Item.Type, x.Request.App.Tight))
            .Select(g => $"{g.Key.Status} {g.Key.Type}{(g.Key.Tight ? " (tight budget)" : "")}: {g.Count()}").ToList();
        if (refusals.Count > 0)
        {
            Console.WriteLine("run B refusals: " + string.Join(", ", refusals));
        }

        if (b.Quality is { } q)
        {
            Console.WriteLine("quality estimates at the end of run B (GET /admin/savings/quality):");
            Console.WriteLine(q.GetRawText().Length > 4000 ? q.GetRawText()[..4000] + "…" : q.GetRawText());
        }
        else
        {
            Console.WriteLine("GET /admin/savings/quality is not served by this build");
        }

        var saving = 1 - (appsB + b.ShadowSpentUsd) / spendA;
        Console.WriteLine();
        Console.WriteLine($"RESULT: saving {Pct(saving)} including shadow spend (target >= 50%): {(saving >= 0.5m ? "met" : "NOT met")}; quality SLO {QualitySlo:0.0} x premium-only: {(held ? "held" : "NOT held")} for every query type and overall; "
            + $"refused: A {a.Answers.Count(x => x.Status != 200)}, B {b.Answers.Count(x => x.Status != 200)}");
        return 0;
    }

    private static Dictionary<string, JsonElement> Tiers(RunResult r) =>
        r.Summary.GetProperty("byTier").EnumerateArray().ToDictionary(t => t.GetProperty("tier").GetString()!, t => t);

    private static string Pct(decimal share) => (share * 100m).ToString("0.0", Inv) + "%";

    private static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The admin API with the admin token; a refused call stops the replay with the API's answer.</summary>
    private sealed class AdminClient(HttpClient http, string token)
    {
        public HttpRequestMessage Request(HttpMethod method, string path, object? body = null)
        {
            var request = new HttpRequestMessage(method, path);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            return request;
        }

        public async Task<JsonDocument> SendAsync(HttpMethod method, string path, object? body = null) =>
            await TrySendAsync(method, path, body) ?? throw new InvalidOperationException($"{method} {path} was not found");

        public async Task<JsonDocument?> TrySendAsync(HttpMethod method, string path, object? body = null)
        {
            using var request = Request(method, path, body);
            using var response = await http.SendAsync(request);
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == HttpStatusCode.NotFound)
            {
                return null;
            }

            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"{method} {path}: {(int)response.StatusCode} {text}");
            }

            return JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        }
    }
}
