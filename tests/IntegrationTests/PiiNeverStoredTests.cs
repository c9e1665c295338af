using System.Diagnostics;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Budgets;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.IntegrationTests.Infrastructure;
using MicroApps.Orleans.Pii;
using MicroApps.Orleans.Telemetry;
using Xunit.Abstractions;

namespace MicroApps.Orleans.IntegrationTests;

/// <summary>
/// The telemetry promise "raw PII never reaches storage": after a run full of PII through the governed call — one app
/// that samples every prompt to the redacted store, one that keeps hashes only — every entity of every table and every
/// blob of every container in the Azurite account (Orleans grain state and membership included) is read back, and no
/// raw PII value occurs in it, as text or as UTF-8/UTF-16 bytes inside binary, base64 or gzip payloads. Positive
/// controls prove the same scan does see the traces and the redacted samples.
/// </summary>
public sealed class PiiNeverStoredTests(AzuriteFixture storage, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private static readonly string CorpusPath = Path.Combine(AppContext.BaseDirectory, "Pii", "pii-corpus.tsv");

    /// <summary>Values the platform writes itself (a silo's loopback address in the membership table), so they prove nothing.</summary>
    private static readonly HashSet<string> PlatformValues = ["127.0.0.1"];

    [Fact]
    public async Task After_a_run_full_of_pii_no_raw_pii_is_anywhere_in_storage()
    {
        var pii = SelectPii();
        foreach (var cls in PiiClasses.All)
        {
            Assert.True(pii.Count(p => p.Class == cls) >= 3, $"the corpus gives fewer than 3 usable {cls} values");
        }

        var serviceId = TestEnvironment.NewId("svc");
        var clusterId = TestEnvironment.NewId("cluster");
        await using var silo = await SiloProcess.StartAsync(storage.ConnectionString, clusterId, serviceId);
        await using var client = await ClusterClient.ConnectAsync(storage.ConnectionString, clusterId, serviceId);

        var sampledApp = TestEnvironment.NewId("pii-sampled");
        var hashedApp = TestEnvironment.NewId("pii-hashed");
        var sampledKey = await CreateAppAsync(client, sampledApp, promptSampleShare: 1);
        var hashedKey = await CreateAppAsync(client, hashedApp, promptSampleShare: 0);

        // Six corpus lines per call, each call with a marker word that is not PII, so the redacted samples can be found.
        var gateway = client.Grains.GetGrain<IGovernedCallGrain>(0);
        var calls = new List<(string AppId, string RequestId, string Marker)>();
        var batches = pii.Select(p => p.Line).Distinct().Chunk(6).ToList();
        for (var i = 0; i < batches.Count; i++)
        {
            var (appId, key) = i % 4 == 3 ? (hashedApp, hashedKey) : (sampledApp, sampledKey);
            var requestId = $"pii-run-{i}-{Guid.NewGuid():N}";
            var marker = $"okapi{Guid.NewGuid():N}"[..16];
            // Words between the notes keep one note's number from running into the next one's.
            var notes = $"Notes {marker}.\nNote: " + string.Join("\nNext note: ", batches[i]);
            var unredacted = pii.Where(p => PiiScanner.Default.Redact(notes).Contains(p.Value, StringComparison.Ordinal)).Select(p => p.Value).ToList();
            Assert.True(unredacted.Count == 0, $"test data: the scanner misses [{string.Join(", ", unredacted)}] in the combined notes");
            ChatTurn[] messages =
            [
                new("system", "Summarise the customer notes in two sentences."),
                new("user", notes),
            ];
            var result = await gateway.CompleteAsync(new GovernedChatRequest(key, requestId, "auto", messages, ChatParameters.None));
            Assert.True(result.IsSuccess, $"call {requestId}: {result.Outcome} {result.ErrorCode} {result.ErrorMessage}");
            calls.Add((appId, requestId, marker));
        }

        // Feedback is written to the stored trace too.
        var telemetry = client.Grains.GetGrain<ITelemetryGrain>(0);
        Assert.Equal(FeedbackOutcome.Recorded, await WaitAndRecordFeedbackAsync(telemetry, calls[0].AppId, calls[0].RequestId));

        // Every call's trace is stored, and every sampled call's redacted sample (the trace pipeline writes after the answer).
        var sampledCalls = calls.Where(c => c.AppId == sampledApp).ToList();
        var deadline = Stopwatch.StartNew();
        foreach (var (appId, requestId, _) in calls)
        {
            while (await telemetry.FindTraceAsync(appId, requestId) is null)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"the trace of {appId}/{requestId} was not stored within 60 s; silo output:\n{silo.OutputTail}");
                await Task.Yield();
            }
        }

        var now = DateTimeOffset.UtcNow;
        foreach (var (appId, requestId, marker) in sampledCalls)
        {
            PromptSamplePage page;
            while ((page = await telemetry.SearchPromptsAsync(new PromptSearchQuery(marker, now.AddHours(-1), now.AddHours(1), appId))).Items.Count == 0)
            {
                Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"the prompt sample of {appId}/{requestId} was not stored within 60 s; silo output:\n{silo.OutputTail}");
                await Task.Yield();
            }

            var sample = Assert.Single(page.Items);
            Assert.Equal(requestId, sample.RequestId);
            Assert.Contains("[REDACTED:", sample.RedactedPrompt);
        }

        foreach (var (_, _, marker) in calls.Where(c => c.AppId == hashedApp))
        {
            Assert.Empty((await telemetry.SearchPromptsAsync(new PromptSearchQuery(marker, now.AddHours(-1), now.AddHours(1)))).Items);
        }

        var contents = await StorageContents.ReadAsync(storage.ConnectionString);
        output.WriteLine($"scanned {contents.Entities} entities in tables [{string.Join(", ", contents.Tables)}] and {contents.Blobs} blobs in containers [{string.Join(", ", contents.Containers)}]; {pii.Count} PII values of {PiiClasses.All.Count} classes in {calls.Count} calls");

        // Positive controls: the scan sees the traces (by request id) and the redacted samples (by marker and placeholder).
        foreach (var (_, requestId, _) in calls)
        {
            Assert.True(contents.WhereIs(requestId).Count > 0, $"request id {requestId} is nowhere in storage: the traces are not stored where the scan can read them");
        }

        foreach (var (_, _, marker) in sampledCalls)
        {
            Assert.True(contents.WhereIs(marker).Count > 0, $"marker {marker} is nowhere in storage: the prompt samples are not stored where the scan can read them");
        }

        Assert.True(contents.WhereIs("[REDACTED:email]").Count > 0, "no redacted placeholder in storage");

        var leaks = pii
            .SelectMany(p => Variants(p.Value).Select(v => (p.Class, Value: v, Where: contents.WhereIs(v))))
            .Where(l => l.Where.Count > 0)
            .Select(l => $"{l.Class} '{l.Value}' in {string.Join("; ", l.Where)}")
            .ToList();
        Assert.True(leaks.Count == 0, $"raw PII found in storage:\n{string.Join("\n", leaks)}");
    }

    /// <summary>
    /// Corpus lines all of whose PII the scanner finds even on its own, without context (so a sentence the local model
    /// quotes out of context is still redacted), minus values the platform writes itself; each value with its line.
    /// </summary>
    private static List<(string Class, string Value, string Line)> SelectPii() =>
        PiiCorpus.Load(CorpusPath)
            .Where(line => line.Expected.Count > 0 && line.Expected.All(e => Usable(e.Class, e.Value, line.Text)))
            .SelectMany(line => line.Expected.Select(e => (e.Class, e.Value, Line: line.Text)))
            .ToList();

    private static bool Usable(string cls, string value, string line) =>
        value.Length >= 8
        && !PlatformValues.Contains(value)
        && PiiScanner.Default.Scan(value) is [var only] && only.Class == cls && only.Length == value.Length
        && !PiiScanner.Default.Redact(line).Contains(value, StringComparison.Ordinal);

    /// <summary>The value as written, and for numbers with separators also their digits alone (a normalised copy is still PII).</summary>
    private static IEnumerable<string> Variants(string value)
    {
        yield return value;
        var compact = new string(value.Where(char.IsLetterOrDigit).ToArray());
        if (compact != value && compact.Count(char.IsDigit) >= 9 && !value.Contains('@'))
        {
            yield return compact;
        }
    }

    private static async Task<FeedbackOutcome> WaitAndRecordFeedbackAsync(ITelemetryGrain telemetry, string appId, string requestId)
    {
        var deadline = Stopwatch.StartNew();
        FeedbackOutcome outcome;
        while ((outcome = await telemetry.RecordFeedbackAsync(appId, requestId, new BizFeedback("up", "pii-run", true, null, default))) == FeedbackOutcome.UnknownRequest)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(60), $"the trace of {appId}/{requestId} was not stored within 60 s");
            await Task.Yield();
        }

        return outcome;
    }

    private static async Task<string> CreateAppAsync(ClusterClient client, string appId, double promptSampleShare)
    {
        var app = client.Grains.GetGrain<IMicroAppGrain>(appId);
        var info = await app.CreateAsync(new AppManifest($"PII run {appId}", "owner@example.org", "privacy", Audience.Internal,
            [.. PiiClasses.All], ["local"], "local", new AppQuotas(0, 0), "", "v1", PromptSampleShare: promptSampleShare));
        await client.Grains.GetGrain<IBudgetGrain>(info.EffectiveBudgetId).ConfigureAsync(new BudgetSettings(5m, BudgetPeriod.Day));
        return (await app.IssueKeyAsync("pii run")).ApiKey;
    }
}
