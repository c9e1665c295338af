using System.Security.Cryptography;
using System.Text;
using MicroApps.Orleans.Tiers;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.Savings;

/// <summary>The evidence of one query type: running sums per model and source, and the ids recently recorded.</summary>
[GenerateSerializer, Alias("microapps.ModelQualityState")]
public sealed class ModelQualityState
{
    /// <summary>Model name → source → sums.</summary>
    [Id(0)]
    public Dictionary<string, Dictionary<string, QualitySums>> Models { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// 64-bit hashes of the most recent evidence ids, oldest first, at most <see cref="ModelQualityGrain.RetainedEvidenceIds"/>:
    /// hashes rather than the ids keep the stored state small (80 KB at the bound) whatever the callers' id format.
    /// </summary>
    [Id(1)]
    public List<long> RecentIds { get; set; } = [];

    [Id(2)]
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// Quality evidence of one query type (key: the query type). Each observation adds to its model's running sums and
/// is durable before the reply. Recording is idempotent by evidence id over the last
/// <see cref="RetainedEvidenceIds"/> ids (a retry of anything older would count twice; retries come within seconds).
/// Calls are not interleaved, so each record is one write: evidence arrives at the pace of shadow evaluations,
/// feedback and gate runs, far below what one grain writes.
/// </summary>
public sealed class ModelQualityGrain(
    [PersistentState("quality", "store")] IPersistentState<ModelQualityState> state,
    ModelCatalog catalog,
    [FromKeyedServices(PlatformClock.Key)] TimeProvider time) : Grain, IModelQualityGrain
{
    /// <summary>How many recent evidence ids a query type remembers for idempotency.</summary>
    public const int RetainedEvidenceIds = 10_000;

    private HashSet<long>? _recent;

    private string QueryType => this.GetPrimaryKeyString();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _recent = [.. state.State.RecentIds];
        return Task.CompletedTask;
    }

    public async Task RecordAsync(QualityEvidence evidence)
    {
        ArgumentNullException.ThrowIfNull(evidence);
        if (QueryTypes.Parse(QueryType) is not { } queryType)
        {
            throw new ArgumentException($"'{QueryType}' is not a query type (one of {string.Join(", ", QueryTypes.All)}).", "queryType");
        }

        if (evidence.QueryType is { Length: > 0 } declared && QueryTypes.Parse(declared) != queryType)
        {
            throw new ArgumentException($"Evidence about query type '{declared}' was sent to the '{queryType}' quality grain.", "queryType");
        }

        if (string.IsNullOrWhiteSpace(evidence.EvidenceId))
        {
            throw new ArgumentException("An evidence id is required (recording is idempotent by it).", "evidenceId");
        }

        var source = QualitySources.All.FirstOrDefault(s => string.Equals(s, evidence.Source?.Trim(), StringComparison.OrdinalIgnoreCase))
            ?? throw new ArgumentException($"'{evidence.Source}' is not a quality source (one of {string.Join(", ", QualitySources.All)}).", "source");
        var model = catalog.Resolve(evidence.Model, "") is { PinnedModel: { } pinned } ? pinned
            : throw new ArgumentException($"'{evidence.Model}' is not a model of any configured tier.", "model");
        var score = QualityEstimator.Clamp(evidence.Score);

        var id = IdHash(evidence.EvidenceId.Trim());
        var recent = _recent ??= [.. state.State.RecentIds];
        if (!recent.Add(id))
        {
            return;
        }

        state.State.RecentIds.Add(id);
        if (state.State.RecentIds.Count > RetainedEvidenceIds)
        {
            var drop = state.State.RecentIds.Count - RetainedEvidenceIds;
            foreach (var old in state.State.RecentIds.Take(drop))
            {
                recent.Remove(old);
            }

            state.State.RecentIds.RemoveRange(0, drop);
        }

        if (!state.State.Models.TryGetValue(model, out var bySource))
        {
            bySource = new Dictionary<string, QualitySums>(StringComparer.Ordinal);
            state.State.Models[model] = bySource;
        }

        if (!bySource.TryGetValue(source, out var sums))
        {
            sums = new QualitySums();
            bySource[source] = sums;
        }

        sums.Sum += score;
        sums.Count++;
        state.State.UpdatedAt = time.GetUtcNow();

        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // The caller is told the record failed, so memory must not keep what storage does not have: the grain
            // reloads its state on the next call, and a retry with the same id is then counted once.
            DeactivateOnIdle();
            _recent = null;
            throw;
        }
    }

    public Task<QualityTable> GetAsync()
    {
        var models = state.State.Models
            .Select(m => QualityEstimator.Estimate(m.Key, m.Value))
            .OrderBy(m => m.Model, StringComparer.OrdinalIgnoreCase)
            .ToArray();
        return Task.FromResult(new QualityTable(QueryTypes.Parse(QueryType) ?? QueryType, models, state.State.UpdatedAt));
    }

    /// <summary>A stable 64-bit hash of an evidence id (string.GetHashCode differs per process).</summary>
    internal static long IdHash(string evidenceId)
    {
        Span<byte> digest = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(evidenceId), digest);
        return BitConverter.ToInt64(digest[..8]);
    }
}
