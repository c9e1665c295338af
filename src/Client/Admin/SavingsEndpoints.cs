using System.Globalization;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.Client.Admin;

/// <summary>Body of <c>POST /admin/savings/quality/{queryType}/evidence</c>.</summary>
/// <param name="EvidenceId">Idempotency key: the same id recorded twice counts once; a new id is made when left out.</param>
/// <param name="Model">A model of a configured tier.</param>
/// <param name="Source">shadow, feedback or regression (an offline evaluation is usually regression).</param>
/// <param name="Score">0 (useless) to 1 (as good as the reference answer).</param>
public sealed record QualityEvidenceBody(string? EvidenceId = null, string? Model = null, string? Source = null, double? Score = null);

/// <summary>One model's estimate for a query type.</summary>
public sealed record ModelQualityView(string Model, double Score, long Samples, IReadOnlyDictionary<string, long> SamplesBySource)
{
    public static ModelQualityView From(ModelQuality q) => new(q.Model, q.Score, q.Samples, q.SamplesBySource);
}

/// <summary>A query type's quality table; <c>updatedAt</c> is null before any evidence.</summary>
public sealed record QualityTableView(string QueryType, DateTimeOffset? UpdatedAt, IReadOnlyList<ModelQualityView> Models)
{
    public static QualityTableView From(QualityTable t) =>
        new(t.QueryType, t.UpdatedAt == default ? null : t.UpdatedAt, t.Models.Select(ModelQualityView.From).ToArray());
}

/// <summary>Answer to recording evidence: the id it was recorded under and the model's estimate after it.</summary>
public sealed record RecordedEvidenceView(string EvidenceId, string QueryType, ModelQualityView? Quality);

/// <summary>
/// The savings router's quality tables: every role reads them; approvers and admins record evidence (for example the
/// result of an offline evaluation), audited. Shadow evaluations, feedback and regression gates record theirs directly.
/// </summary>
internal static class SavingsEndpoints
{
    public const int MaxEvidenceIdLength = 200;

    internal static void MapSavingsEndpoints(this RouteGroupBuilder admin)
    {
        admin.MapGet("/savings/quality", GetQualityAsync)
            .WithName("GetSavingsQuality").AllowRoles(AdminAccess.Everyone)
            .WithSummary("Quality estimates per model for every query type (the tables cost-aware routing reads).")
            .Produces<QualityTableView[]>();

        admin.MapPost("/savings/quality/{queryType}/evidence", RecordEvidenceAsync)
            .WithName("RecordQualityEvidence").AllowRoles(AdminRole.Approver, AdminRole.Admin)
            .WithSummary("Records one quality observation of a model on a query type; idempotent by evidenceId; audited.")
            .Accepts<QualityEvidenceBody>("application/json")
            .Produces<RecordedEvidenceView>()
            .ProducesValidationProblem();
    }

    internal static async Task<IResult> GetQualityAsync(HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        var tables = await Task.WhenAll(QueryTypes.All.Select(type =>
            cluster.RunAsync(_ => new ValueTask<QualityTable>(grains.GetGrain<IModelQualityGrain>(type).GetAsync()), context.RequestAborted).AsTask()));
        return TypedResults.Ok(tables.Select(QualityTableView.From).ToArray());
    }

    internal static async Task<IResult> RecordEvidenceAsync(string queryType, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        if (QueryTypes.Parse(queryType) is not { } type)
        {
            return AdminJson.Invalid("queryType", $"'{queryType}' is not a query type; use one of {string.Join(", ", QueryTypes.All)}.");
        }

        var read = await AdminJson.ReadAsync<QualityEvidenceBody>(context);
        if (read.Error is not null)
        {
            return read.Error;
        }

        var body = read.Value!;
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var evidenceId = string.IsNullOrWhiteSpace(body.EvidenceId) ? "admin-" + Guid.NewGuid().ToString("N") : body.EvidenceId.Trim();
        if (evidenceId.Length > MaxEvidenceIdLength)
        {
            errors["evidenceId"] = [$"At most {MaxEvidenceIdLength} characters."];
        }

        if (string.IsNullOrWhiteSpace(body.Model))
        {
            errors["model"] = ["Required: the name of a model of a configured tier."];
        }

        var source = QualitySources.All.FirstOrDefault(s => string.Equals(s, body.Source?.Trim(), StringComparison.OrdinalIgnoreCase));
        if (source is null)
        {
            errors["source"] = [$"Must be one of {string.Join(", ", QualitySources.All)}{(body.Source is null ? "" : $"; got '{body.Source}'")}."];
        }

        if (body.Score is not { } score || double.IsNaN(score) || score < 0 || score > 1)
        {
            errors["score"] = [$"Required: a number from 0 to 1{(body.Score is { } s ? $"; got {s.ToString(CultureInfo.InvariantCulture)}" : "")}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, title: "Invalid request");
        }

        var model = body.Model!.Trim();
        var grain = grains.GetGrain<IModelQualityGrain>(type);
        var evidence = new QualityEvidence(evidenceId, model, type, source!, body.Score!.Value, DateTimeOffset.UtcNow);
        try
        {
            await cluster.RunAsync(async _ => { await grain.RecordAsync(evidence); return true; }, context.RequestAborted);
        }
        catch (ArgumentException ex)
        {
            // The silo knows the model catalog; the model is the one thing checked there.
            var field = ex.ParamName is "evidenceId" or "source" or "queryType" ? ex.ParamName : "model";
            return AdminJson.Invalid(field, ex.Message);
        }

        await context.AuditAsync(grains, "savings.quality_evidence", $"quality:{type}:{model}",
            $"{source} score {evidence.Score.ToString(CultureInfo.InvariantCulture)} (evidence {evidenceId})");
        var table = await cluster.RunAsync(_ => new ValueTask<QualityTable>(grain.GetAsync()), context.RequestAborted);
        var quality = QualityEstimator.Find(table, model);
        return TypedResults.Ok(new RecordedEvidenceView(evidenceId, type, quality is null ? null : ModelQualityView.From(quality)));
    }
}
