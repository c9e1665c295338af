using MicroApps.Orleans.Savings;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Core.Internal;
using Orleans.Storage;
using Orleans.TestingHost;

namespace MicroApps.Orleans.GrainTests.Savings;

/// <summary>
/// The quality grains are keyed by query type, so they are shared by every test of the cluster: each test uses its own
/// model of the catalog (see PipelineTestSetup) and its own evidence ids, and compares counts before and after.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ModelQualityGrainTests(ClusterFixture fixture)
{
    private IModelQualityGrain Quality(string queryType) => fixture.Grains.GetGrain<IModelQualityGrain>(queryType);

    private static QualityEvidence Evidence(string model, string queryType, double score, string? id = null, string source = QualitySources.Shadow) =>
        new(id ?? Guid.NewGuid().ToString("N"), model, queryType, source, score, ClusterFixture.Time.GetUtcNow());

    private async Task<ModelQuality?> ModelAsync(string queryType, string model) =>
        QualityEstimator.Find(await Quality(queryType).GetAsync(), model);

    private IGrainStorage Store =>
        ((fixture.Cluster.Primary as InProcessSiloHandle)?.SiloHost?.Services ?? throw new InvalidOperationException("the primary silo runs in this process"))
            .GetRequiredKeyedService<IGrainStorage>("store");

    [Fact]
    public async Task Recording_the_same_evidence_id_twice_counts_it_once()
    {
        const string model = "fake-breaker-a";
        var before = (await ModelAsync(QueryTypes.Classify, model))?.Samples ?? 0;
        var id = "quality-idem-" + Guid.NewGuid().ToString("N");

        await Quality(QueryTypes.Classify).RecordAsync(Evidence(model, QueryTypes.Classify, 0.8, id));
        await Quality(QueryTypes.Classify).RecordAsync(Evidence(model, QueryTypes.Classify, 0.8, id));
        await Quality(QueryTypes.Classify).RecordAsync(Evidence(model, QueryTypes.Classify, 0.2, id, QualitySources.Feedback));

        Assert.Equal(before + 1, (await ModelAsync(QueryTypes.Classify, model))!.Samples);
    }

    [Fact]
    public async Task Scores_are_clamped_to_zero_to_one_and_averaged_with_samples_per_source()
    {
        const string model = "fake-breaker-b";
        var type = QueryTypes.Code;
        var before = await ModelAsync(type, model);
        var (sum, count) = before is null ? (0d, 0L) : (before.Score * before.Samples, before.Samples);

        await Quality(type).RecordAsync(Evidence(model, type, 7.0));
        await Quality(type).RecordAsync(Evidence(model, type, -3.0, source: QualitySources.Regression));
        await Quality(type).RecordAsync(Evidence(model, type, 0.5, source: QualitySources.Feedback));

        var after = (await ModelAsync(type, model))!;
        Assert.Equal(count + 3, after.Samples);
        Assert.Equal(Math.Round((sum + 1.0 + 0.0 + 0.5) / (count + 3), 4), after.Score, 3);
        Assert.InRange(after.Score, 0, 1);
        Assert.True(after.SamplesBySource[QualitySources.Regression] >= 1);
        Assert.True(after.SamplesBySource[QualitySources.Feedback] >= 1);
    }

    [Fact]
    public async Task Evidence_and_the_recent_ids_survive_deactivation()
    {
        const string model = "fake-steady";
        var type = QueryTypes.Extract;
        var id = "quality-durable-" + Guid.NewGuid().ToString("N");
        await Quality(type).RecordAsync(Evidence(model, type, 0.9, id));
        var recorded = (await ModelAsync(type, model))!;

        await Quality(type).AsReference<IGrainManagementExtension>().DeactivateOnIdle();
        var stored = new GrainState<ModelQualityState>(new ModelQualityState());
        await Store.ReadStateAsync("quality", Quality(type).GetGrainId(), stored);
        await Quality(type).RecordAsync(Evidence(model, type, 0.1, id));
        var reactivated = (await ModelAsync(type, model))!;

        Assert.True(stored.RecordExists);
        Assert.Contains(ModelQualityGrain.IdHash(id), stored.State!.RecentIds);
        Assert.Equal(recorded.Samples, stored.State!.Models[model].Values.Sum(s => s.Count));
        Assert.Equal(recorded.Samples, reactivated.Samples);
        Assert.Equal(recorded.Score, reactivated.Score);
    }

    [Fact]
    public async Task Evidence_naming_an_unknown_model_source_or_another_query_type_is_refused_and_not_counted()
    {
        var type = QueryTypes.Chat;
        var before = (await ModelAsync(type, "fake-slow"))?.Samples ?? 0;

        var model = await Assert.ThrowsAsync<ArgumentException>(() => Quality(type).RecordAsync(Evidence("no-such-model", type, 1)));
        var tier = await Assert.ThrowsAsync<ArgumentException>(() => Quality(type).RecordAsync(Evidence("standard", type, 1)));
        var source = await Assert.ThrowsAsync<ArgumentException>(() => Quality(type).RecordAsync(Evidence("fake-slow", type, 1, source: "vibes")));
        var other = await Assert.ThrowsAsync<ArgumentException>(() => Quality(type).RecordAsync(Evidence("fake-slow", QueryTypes.Code, 1)));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Quality(type).RecordAsync(Evidence("fake-slow", type, double.NaN)));
        await Assert.ThrowsAsync<ArgumentException>(() => Quality("poetry").RecordAsync(Evidence("fake-slow", "poetry", 1)));

        Assert.Contains("no-such-model", model.Message);
        Assert.Contains("standard", tier.Message);
        Assert.Contains("vibes", source.Message);
        Assert.Contains("code", other.Message);
        Assert.Equal(before, (await ModelAsync(type, "fake-slow"))?.Samples ?? 0);
    }

    [Fact]
    public async Task The_table_lists_every_model_with_evidence_for_its_query_type_only()
    {
        await Quality(QueryTypes.Summarise).RecordAsync(Evidence("fake-broken-only", QueryTypes.Summarise, 0.7));

        var summarise = await Quality(QueryTypes.Summarise).GetAsync();
        var classify = await Quality(QueryTypes.Classify).GetAsync();

        Assert.Equal(QueryTypes.Summarise, summarise.QueryType);
        Assert.Contains(summarise.Models, m => m.Model == "fake-broken-only");
        Assert.DoesNotContain(classify.Models, m => m.Model == "fake-broken-only");
        Assert.Equal(ClusterFixture.Time.GetUtcNow(), summarise.UpdatedAt);
    }
}
