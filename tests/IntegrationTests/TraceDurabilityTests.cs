using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Data.Tables;
using MessagePack;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit.Abstractions;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>Every answered call's trace is stored and answered exactly once by the store, through a silo killed with SIGKILL under load.</summary>
public sealed class TraceDurabilityTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const int Workers = 16;
    private const int Requests = 1200;
    // The kill comes once the victim itself has answered this many calls: its writer then certainly held events of
    // answered calls, however the two silos happen to share the load on a busy machine.
    private const int KillAfterVictimAnswered = 100;
    private static readonly TimeSpan RetryDeadline = TimeSpan.FromSeconds(120);

    [Fact]
    public async Task Every_answered_call_is_in_the_store_exactly_once_after_the_silo_running_calls_is_killed()
    {
        var started = DateTimeOffset.UtcNow;
        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        var prefix = "kill" + Guid.NewGuid().ToString("N")[..10];
        var settings = new Dictionary<string, string>
        {
            ["Telemetry__Traces__TablePrefix"] = prefix,

            // The guarantee is "answered after stored"; a generous timeout keeps a slow test machine from answering
            // a call before its write finished, which would test the machine rather than the pipeline.
            ["Telemetry__Traces__WriteTimeout"] = "00:00:20",
        };
        var silos = await Task.WhenAll(
            SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId, settings),
            SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId, settings));
        await using var victim = silos[0];
        await using var survivor = silos[1];

        string apiKey;
        var appId = TestEnvironment.NewId("traced");
        await using (var admin = await ClusterClient.ConnectAsync(storage.ConnectionString, clusterId, serviceId))
        {
            var app = admin.Grains.GetGrain<IMicroAppGrain>(appId);
            await app.CreateAsync(new AppManifest("Traced app", "owner@example.org", "platform", Audience.Internal, [], ["local"], "local",
                new AppQuotas(0, 0), "", "v1"));
            apiKey = (await app.IssueKeyAsync("trace durability")).ApiKey;
        }

        // Calls through a silo's gateway run the governed call (a local stateless worker) on that silo, so the
        // victim's writer holds the events of the calls it answers when it dies.
        await using var viaVictim = await ClusterClient.ConnectThroughAsync(victim, clusterId, serviceId);
        await using var viaSurvivor = await ClusterClient.ConnectThroughAsync(survivor, clusterId, serviceId);

        var answered = new ConcurrentDictionary<string, GovernedOutcome>();
        var answeredByVictim = 0;
        var answeredAfterKill = 0;
        var retries = 0;
        var issued = 0;
        var killed = false;
        var killNow = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        async Task WorkerAsync(int worker)
        {
            int n;
            while ((n = Interlocked.Increment(ref issued)) <= Requests)
            {
                var requestId = $"tr-{n:D5}";
                var request = new GovernedChatRequest(apiKey, requestId, "local",
                    [new ChatTurn("user", $"Order {n}: three boxes of paper arrived on Tuesday. The invoice follows next week.")], ChatParameters.None);
                var client = worker % 2 == 0 ? viaVictim : viaSurvivor;
                var deadline = Stopwatch.StartNew();
                while (true)
                {
                    try
                    {
                        var result = await client.Grains.GetGrain<IGovernedCallGrain>(0).CompleteAsync(request);
                        Assert.True(answered.TryAdd(requestId, result.Outcome), $"{requestId} was answered twice");
                        if (client == viaVictim && Interlocked.Increment(ref answeredByVictim) == KillAfterVictimAnswered)
                        {
                            killNow.TrySetResult();
                        }

                        if (Volatile.Read(ref killed))
                        {
                            Interlocked.Increment(ref answeredAfterKill);
                        }

                        break;
                    }
                    catch (Exception ex) when (deadline.Elapsed < RetryDeadline)
                    {
                        // The caller retries with the same request id, through the silo that is still alive.
                        Interlocked.Increment(ref retries);
                        output.WriteLine($"{requestId}: retry after {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
                        client = viaSurvivor;
                        await Task.Delay(200); // paces the retries while the cluster notices the dead silo
                    }
                }
            }
        }

        var load = Task.WhenAll(Enumerable.Range(0, Workers).Select(w => Task.Run(() => WorkerAsync(w))));
        await Task.WhenAny(killNow.Task, load);
        Assert.True(killNow.Task.IsCompleted, "the load ended before the kill point");
        victim.Kill();
        Volatile.Write(ref killed, true);
        var answeredAtKill = answered.Count;
        await load;
        var outcomes = string.Join(", ", answered.Values.GroupBy(o => o).Select(g => $"{g.Key} {g.Count()}"));
        output.WriteLine($"killed at {answeredAtKill} answered ({answeredByVictim} through the victim by the end), {retries} retries, {answeredAfterKill} answered after the kill; outcomes: {outcomes}");

        Assert.Equal(Requests, answered.Count);
        Assert.True(answeredAtKill < Requests, "the silo was killed after the load had finished");
        Assert.True(answeredByVictim >= KillAfterVictimAnswered, $"only {answeredByVictim} calls were answered by the killed silo");
        Assert.True(answeredAfterKill > 0, "nothing was answered after the kill");
        Assert.True(retries > 0, "no call failed, so the crash was not exercised");

        // The victim answered its first KillAfterVictimAnswered calls before it was killed, all by the model. After the
        // kill, a call whose app grain lived on the dead silo is answered with an error until the cluster notices (and is
        // traced like any other answer), so only those calls are certain to be model answers.
        Assert.True(answered.Values.Count(o => o == GovernedOutcome.Completed) >= KillAfterVictimAnswered, $"fewer model answers than the {KillAfterVictimAnswered} calls the victim answered before the kill: {outcomes}");

        // What the store answers: every page of the app's events over the run, each request id counted.
        var store = new AzureTableTraceStore(new TableServiceClient(storage.ConnectionString),
            Options.Create(new TraceWriterOptions { TablePrefix = prefix }), NullLogger<AzureTableTraceStore>.Instance);
        var from = started.AddMinutes(-5);
        var to = DateTimeOffset.UtcNow.AddMinutes(5);
        var queried = new Dictionary<string, int>();
        string? token = null;
        do
        {
            var page = await store.QueryAsync(new TraceQuery(from, to, AppId: appId, PageSize: 500, ContinuationToken: token));
            foreach (var record in page.Items)
            {
                queried[record.Event.RequestId] = queried.GetValueOrDefault(record.Event.RequestId) + 1;
            }

            token = page.ContinuationToken;
        }
        while (token is not null);

        var scanned = new Dictionary<string, int>();
        foreach (var hour in TraceHours.NewestFirst(from, to))
        {
            await foreach (var e in store.ScanHourAsync(appId, hour))
            {
                scanned[e.RequestId] = scanned.GetValueOrDefault(e.RequestId) + 1;
            }
        }

        // Physical copies, decoded straight from the segments: a write retried with other events may hold one twice.
        var format = MessagePackSerializerOptions.Standard.WithSecurity(MessagePackSecurity.UntrustedData).WithCompression(MessagePackCompression.Lz4BlockArray);
        var copies = new Dictionary<string, int>();
        var segments = 0;
        var events = new TableServiceClient(storage.ConnectionString).GetTableClient(prefix + "events");
        await foreach (var row in events.QueryAsync<TableEntity>())
        {
            segments++;
            foreach (var e in StoredSegment.Decode(row, format).Where(e => e.AppId == appId))
            {
                copies[e.RequestId!] = copies.GetValueOrDefault(e.RequestId!) + 1;
            }
        }

        output.WriteLine($"{segments} segments hold {copies.Values.Sum()} events of {copies.Count} request ids ({copies.Count(c => c.Value > 1)} stored more than once, answered once)");

        foreach (var (name, counts) in new[] { ("QueryAsync", queried), ("ScanHourAsync", scanned) })
        {
            var missing = answered.Keys.Where(id => !counts.ContainsKey(id)).Order().ToList();
            var doubled = counts.Where(r => r.Value > 1).Select(r => r.Key).Order().ToList();
            Assert.True(missing.Count == 0, $"{name}: {missing.Count} answered calls have no stored event: {string.Join(", ", missing.Take(20))}");
            Assert.True(doubled.Count == 0, $"{name}: {doubled.Count} request ids were answered more than once: {string.Join(", ", doubled.Take(20))}");
            Assert.Equal(answered.Keys.Order(), counts.Keys.Order());
        }

        // FindAsync on a spread of the answered ids (each lookup reads a whole hour of the app).
        foreach (var requestId in answered.Keys.Order().Where((_, i) => i % 40 == 0))
        {
            var found = await store.FindAsync(appId, requestId);
            Assert.True(found is not null, $"FindAsync does not find answered call {requestId}");
            Assert.Equal(requestId, found.Event.RequestId);
        }
    }
}
