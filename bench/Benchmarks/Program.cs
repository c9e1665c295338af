using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MicroApps.Orleans.Benchmarks;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.FakeOpenAI;
using MicroApps.Orleans.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Usage: MicroApps.Orleans.Benchmarks --connection-string CS --frontdoor PATH/MicroApps.Orleans.Client.dll [--seconds 10]
//        MicroApps.Orleans.Benchmarks pii [--corpus tests/UnitTests/Pii/pii-corpus.tsv] [--seconds 2]
//        MicroApps.Orleans.Benchmarks neardup [--corpus tests/UnitTests/Caching/near-duplicate-corpus.tsv] [--verbose]
//        MicroApps.Orleans.Benchmarks savings --connection-string CS --frontdoor PATH [--seed 42] [--requests 4000] (see SavingsReplay)
if (args is ["pii", ..])
{
    Environment.Exit(PiiBenchmark.Run(args[1..]));
}

if (args is ["neardup", ..])
{
    Environment.Exit(NearDuplicateBenchmark.Run(args[1..]));
}

if (args is ["savings", ..])
{
    Environment.Exit(await SavingsReplay.RunAsync(args[1..]));
}

var options = BenchOptions.Parse(args);
Console.WriteLine($"MicroApps.Orleans benchmark · {Environment.ProcessorCount} cores · {options.Seconds}s per phase · {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");

await using var upstream = await FakeOpenAIServer.StartAsync();
Console.WriteLine($"fake upstream: {upstream.BaseUrl}");

var adminToken = Guid.NewGuid().ToString("N");
Dictionary<string, string> FrontDoorSettings(string clusterId, string serviceId, bool traces)
{
    var settings = new Dictionary<string, string>
    {
        ["Logging__LogLevel__Default"] = "Warning",
        ["FrontDoor__CoHostSilo"] = "true",
        ["FrontDoor__AdminToken"] = adminToken,
        ["Orleans__Provider"] = "AzureStorage",
        ["Orleans__ClusterId"] = clusterId,
        ["Orleans__ServiceId"] = serviceId,
        ["Orleans__SiloPort"] = FreePort().ToString(),
        ["Orleans__GatewayPort"] = FreePort().ToString(),
        ["Storage__ConnectionString"] = options.ConnectionString,
        ["Telemetry__Traces__Enabled"] = traces ? "true" : "false",
        ["Telemetry__Traces__TablePrefix"] = "bench" + Guid.NewGuid().ToString("N")[..8],
        ["Models__Backends__0__Name"] = "upstream",
        ["Models__Backends__0__Kind"] = "OpenAI",
        ["Models__Backends__0__BaseUrl"] = upstream.BaseUrl,
        ["Models__Backends__0__ApiKey"] = "bench",
        ["Models__Tiers__standard__Models__0__Name"] = "fake-gpt",
        ["Models__Tiers__standard__Models__0__Backend"] = "upstream",
        ["Models__Tiers__standard__Models__0__InputPricePer1K"] = "0.0005",
        ["Models__Tiers__standard__Models__0__OutputPricePer1K"] = "0.0015",
        ["Models__Tiers__standard__Models__0__ContextWindow"] = "128000",
        ["Models__Tiers__local__Models__0__Name"] = "local-extractive-summarizer",
        ["Models__Tiers__local__Models__0__Backend"] = "local",
        ["Models__Tiers__local__Models__0__ContextWindow"] = "16384",
    };

    // Experiments: BENCH_FD_<Setting> overrides a front-door setting, e.g. BENCH_FD_Telemetry__Exporter=console.
    foreach (var (name, value) in Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
        .Select(e => ((string)e.Key, (string?)e.Value ?? "")).Where(e => e.Item1.StartsWith("BENCH_FD_", StringComparison.Ordinal)))
    {
        settings[name["BENCH_FD_".Length..]] = value;
    }

    return settings;
}

using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 64, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
{
    Timeout = TimeSpan.FromSeconds(30),
};

// Every request is distinct so the cache never answers: this measures the full governed path.
var benchModel = Environment.GetEnvironmentVariable("BENCH_MODEL") ?? "fake-gpt";
byte[] Body(long n) => Encoding.UTF8.GetBytes(
    $$"""{"model":"{{benchModel}}","max_tokens":16,"messages":[{"role":"user","content":"Summarise order {{n}}: three boxes of paper, delivered Tuesday."}]}""");

async Task<bool> SendAsync(string url, string? key, long n, CancellationToken ct)
{
    using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(Body(n)) };
    request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
    if (key is not null)
    {
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
    }

    using var response = await http.SendAsync(request, ct);
    await response.Content.CopyToAsync(Stream.Null, ct);
    return response.StatusCode == HttpStatusCode.OK;
}

var direct = $"{upstream.BaseUrl}/chat/completions";
var duration = TimeSpan.FromSeconds(options.Seconds);
await LoadGenerator.RunAsync("warm-up direct", 8, TimeSpan.FromSeconds(2), (n, ct) => SendAsync(direct, null, n, ct));

// The governed path is measured with durable traces on (Azure Table trace store on Azurite) and off
// (Telemetry:Traces:Enabled=false, the in-memory ring only), in alternating rounds on fresh front doors and
// service ids so neither mode inherits the other's warm state or data; everything else is the same.
var rounds = int.TryParse(Environment.GetEnvironmentVariable("BENCH_ROUNDS"), out var r) && r > 0 ? r : 2;
var results = new List<LoadResult>();
var governed = new Dictionary<bool, List<LoadResult>> { [true] = [], [false] = [] };
string clusterId = "", serviceId = "";
FrontDoorProcess? frontDoor = null;
for (var round = 0; round < rounds; round++)
{
    foreach (var traces in new[] { false, true })
    {
        if (frontDoor is not null)
        {
            await frontDoor.DisposeAsync();
        }

        clusterId = $"bench-{Guid.NewGuid():N}"[..16];
        serviceId = $"microapps-bench-{Guid.NewGuid():N}"[..24];
        var port = FreePort();
        var frontDoorUrl = $"http://127.0.0.1:{port}";
        var settings = FrontDoorSettings(clusterId, serviceId, traces);
        settings["ASPNETCORE_URLS"] = frontDoorUrl;
        frontDoor = FrontDoorProcess.Start(options.FrontDoorDll, settings);
        await frontDoor.WaitReadyAsync(frontDoorUrl, TimeSpan.FromSeconds(90));
        var mode = traces ? "traces on" : "traces off";
        Console.WriteLine($"round {round + 1}, {mode}: front door (co-hosted silo, Azure Table storage on Azurite): {frontDoorUrl}");
        var appKey = await SeedAppAsync(http, frontDoorUrl, adminToken);
        var url = $"{frontDoorUrl}/v1/chat/completions";
        await LoadGenerator.RunAsync("warm-up governed", 8, TimeSpan.FromSeconds(3), (n, ct) => SendAsync(url, appKey, n, ct));
        foreach (var connections in new[] { 32, 1 })
        {
            if (round == 0 && !traces)
            {
                results.Add(await LoadGenerator.RunAsync("direct to upstream", connections, duration, (n, ct) => SendAsync(direct, null, n, ct)));
            }

            var result = await LoadGenerator.RunAsync($"governed, {mode} (round {round + 1})", connections, duration, (n, ct) => SendAsync(url, appKey, n, ct));
            results.Add(result);
            governed[traces].Add(result);
        }
    }
}

await using var lastFrontDoor = frontDoor!;
Console.WriteLine();
Console.WriteLine(LoadResult.Header);
results.ForEach(result => Console.WriteLine(result));
Console.WriteLine();
var d32 = results.First(x => x.Name == "direct to upstream" && x.Connections == 32);
var d1 = results.First(x => x.Name == "direct to upstream" && x.Connections == 1);
double Mean(bool traces, int connections, Func<LoadResult, double> pick) => governed[traces].Where(x => x.Connections == connections).Average(pick);
var on32 = Mean(true, 32, x => x.RequestsPerSecond);
var off32 = Mean(false, 32, x => x.RequestsPerSecond);
Console.WriteLine($"governed throughput at 32 connections, mean of {rounds} rounds: traces off {off32:0} req/s, traces on {on32:0} req/s, loss {100 * (off32 - on32) / off32:0.0}% (target <= 10%)");
Console.WriteLine($"governed p50 at 1 connection: traces off {Mean(false, 1, x => x.P50Ms):0.000} ms, traces on {Mean(true, 1, x => x.P50Ms):0.000} ms");
Console.WriteLine($"governed (traces on) / direct throughput at 32 connections: {100 * on32 / d32.RequestsPerSecond:0.0}% (target >= 30%)");
Console.WriteLine($"added p50 latency at 1 connection (traces on): {Mean(true, 1, x => x.P50Ms) - d1.P50Ms:0.000} ms (target <= 0.5 ms)");

// Durable reserve+settle on one budget grain, through an Orleans client to the co-hosted silo.
var clientBuilder = Host.CreateApplicationBuilder();
clientBuilder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Orleans:Provider"] = "AzureStorage",
    ["Orleans:ClusterId"] = clusterId,
    ["Orleans:ServiceId"] = serviceId,
    ["Storage:ConnectionString"] = options.ConnectionString,
});
clientBuilder.Logging.SetMinimumLevel(LogLevel.Warning);
clientBuilder.AddMicroAppsClient();
using var clientHost = clientBuilder.Build();
await clientHost.StartAsync();
var grains = clientHost.Services.GetRequiredService<IGrainFactory>();
var budget = grains.GetGrain<IBudgetGrain>($"bench:{Guid.NewGuid():N}");
await budget.ConfigureAsync(new BudgetSettings(1_000_000m, BudgetPeriod.Month));
await budget.ReserveAsync("warm-up", 0m);
await budget.SettleAsync("warm-up", 0m);

Console.WriteLine();
Console.WriteLine("| durable reserve+settle, one budget grain | callers | settles/s | p50 ms | p99 ms |");
Console.WriteLine("|------------------------------------------|---------|-----------|--------|--------|");
foreach (var callers in new[] { 64, 256 })
{
    var result = await LoadGenerator.RunAsync("reserve+settle", callers, duration, async (n, _) =>
    {
        var id = $"r{callers}-{n}";
        var grant = await budget.ReserveAsync(id, 0.001m);
        return grant.IsGranted && (await budget.SettleAsync(id, 0.001m)).Outcome == SettleOutcome.Settled;
    });
    Console.WriteLine($"| over Azurite (Azure Table storage)       | {callers,7} | {result.RequestsPerSecond,9:0} | {result.P50Ms,6:0.00} | {result.P99Ms,6:0.00} |");
}

var final = await budget.GetAsync();
Console.WriteLine($"budget after the run: spent ${final.SpentUsd}, reserved ${final.ReservedUsd}, in flight {final.ReservationsInFlight}");
await clientHost.StopAsync();

static int FreePort()
{
    using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
    listener.Start();
    return ((IPEndPoint)listener.LocalEndpoint).Port;
}

static async Task<string> SeedAppAsync(HttpClient http, string baseUrl, string adminToken)
{
    using var admin = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/admin/apps")
    {
        Content = JsonContent.Create(new
        {
            appId = "bench-app",
            name = "Benchmark app",
            owner = "bench@example.org",
            team = "platform",
            audience = "internal",
            dataClasses = Array.Empty<string>(),
            allowedTiers = new[] { "standard", "local" },
            defaultTier = "standard",
            quotas = new { requestsPerMinute = 0, tokensPerDay = 0 },
            budget = new { limitUsd = 1_000_000m, period = "month" },
            initialState = "published",
        }),
    };
    admin.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
    using (var created = await http.SendAsync(admin))
    {
        if (!created.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"creating the benchmark app failed: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        }
    }

    using var keyRequest = new HttpRequestMessage(HttpMethod.Post, $"{baseUrl}/admin/apps/bench-app/keys") { Content = JsonContent.Create(new { label = "bench" }) };
    keyRequest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", adminToken);
    using var keyResponse = await http.SendAsync(keyRequest);
    keyResponse.EnsureSuccessStatusCode();
    using var json = JsonDocument.Parse(await keyResponse.Content.ReadAsStringAsync());
    return json.RootElement.GetProperty("apiKey").GetString()!;
}

internal sealed record BenchOptions(string ConnectionString, string FrontDoorDll, int Seconds)
{
    public static BenchOptions Parse(string[] args)
    {
        string? Value(string name) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault();
        var connectionString = Value("--connection-string") ?? throw new ArgumentException("--connection-string is required");
        var frontDoor = Value("--frontdoor") ?? throw new ArgumentException("--frontdoor (path to MicroApps.Orleans.Client.dll) is required");
        var seconds = int.TryParse(Value("--seconds"), out var s) && s > 0 ? s : 10;
        return new BenchOptions(connectionString, frontDoor, seconds);
    }
}

/// <summary>The front door in its own process, as an operator runs it.</summary>
internal sealed class FrontDoorProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private FrontDoorProcess(Process process) => _process = process;

    public static FrontDoorProcess Start(string dll, IReadOnlyDictionary<string, string> environment)
    {
        var path = Path.GetFullPath(dll);
        var info = new ProcessStartInfo("dotnet", [path])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(path)!,
        };
        foreach (var (key, value) in environment)
        {
            info.Environment[key] = value;
        }

        var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {dll}");
        var frontDoor = new FrontDoorProcess(process);
        process.OutputDataReceived += (_, e) => frontDoor.Append(e.Data);
        process.ErrorDataReceived += (_, e) => frontDoor.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return frontDoor;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async Task WaitReadyAsync(string baseUrl, TimeSpan timeout)
    {
        using var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"the front door exited with {_process.ExitCode}:\n{_output}");
            }

            try
            {
                using var response = await probe.GetAsync($"{baseUrl}/health/ready");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            await Task.Delay(200); // polling a process we do not control; bounded by the deadline above
        }

        throw new TimeoutException($"the front door was not ready after {timeout}:\n{_output}");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM: graceful shutdown of the co-hosted silo.
            Process.Start("kill", ["-TERM", _process.Id.ToString()])?.WaitForExit();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }
}
