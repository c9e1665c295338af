using System.Globalization;
using System.Text;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;

namespace MicroApps.Orleans.Savings;

/// <summary>A model the router may consider, with the tier it belongs to and, when it may not be used, why.</summary>
/// <param name="Model">The model.</param>
/// <param name="Tier">Its tier.</param>
/// <param name="ExcludedBecause">Null when policies, the app's tiers and health allow it; else the reason it is not a target.</param>
public sealed record RouteCandidate(ModelSpec Model, string Tier, string? ExcludedBecause = null);

/// <summary>Everything one routing decision needs.</summary>
/// <param name="QueryType">The call's query type.</param>
/// <param name="Reference">The first model of the route the app asked for (the baseline).</param>
/// <param name="ReferenceTier">Its tier.</param>
/// <param name="Candidates">Models of the app's allowed tiers (the reference may be among them; it is skipped).</param>
/// <param name="Quality">The query type's quality table (null when it could not be read).</param>
/// <param name="Slo">Share of the reference's estimate a cheaper model must reach (0..1).</param>
/// <param name="MinEvidence">Observations a model needs before its estimate is trusted.</param>
/// <param name="InputTokens">The call's input tokens, for prices.</param>
/// <param name="OutputTokens">The call's reserved output tokens, for prices.</param>
public sealed record RouteRequest(
    string QueryType,
    ModelSpec Reference,
    string ReferenceTier,
    IReadOnlyList<RouteCandidate> Candidates,
    QualityTable? Quality,
    double Slo,
    int MinEvidence,
    int InputTokens,
    int OutputTokens);

/// <summary>One candidate as the decision saw it.</summary>
public sealed record RouteAssessment(RouteCandidate Candidate, decimal PriceUsd, double? Score, long Samples, bool Qualifies, string Why);

/// <summary>What the router decided.</summary>
/// <param name="Model">The model to send the call to (the reference when nothing cheaper qualifies).</param>
/// <param name="Tier">Its tier.</param>
/// <param name="Moved">True when <paramref name="Model"/> is not the reference.</param>
/// <param name="Qualifying">Every qualifying cheaper model, cheapest first (the fallback chain before the reference route).</param>
/// <param name="Assessments">Every candidate considered, with its price, estimate and verdict.</param>
/// <param name="Explanation">One line for the trace's route reason.</param>
/// <param name="Outcome">Short reason code for the decision log: <c>routed</c>, <c>too-little-evidence</c>, <c>below-slo</c>, <c>no-cheaper-model</c>, <c>sampled-premium</c>, <c>sampled-out</c>, <c>no-sampling-target</c>.</param>
public sealed record RouteChoice(
    ModelSpec Model,
    string Tier,
    bool Moved,
    IReadOnlyList<RouteAssessment> Qualifying,
    IReadOnlyList<RouteAssessment> Assessments,
    string Explanation,
    string Outcome);

/// <summary>
/// Picks the cheapest model whose estimated quality for the call's query type meets the app's SLO relative to the
/// reference model (the first model of the route the app asked for). A candidate qualifies when it is allowed, costs
/// less than the reference for this call's tokens, has at least <see cref="RouteRequest.MinEvidence"/> observations,
/// and its estimate is at least SLO × the reference's estimate. The reference's estimate is 1.0 while it has fewer
/// than MinEvidence observations: with no trusted measure of the top model the bar is the highest one, never a lower
/// one read from a few noisy samples. The reference always qualifies, so with too little evidence the call stays.
/// </summary>
public static class RouteChooser
{
    /// <summary>The cheapest qualifying model (ties: higher estimate, then name), or the reference.</summary>
    public static RouteChoice Choose(RouteRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (referencePrice, referenceEstimate, referenceQuality) = Reference(request);
        var bar = request.Slo * referenceEstimate;
        var assessments = Assess(request, referencePrice, (score, samples) =>
            samples < request.MinEvidence ? (false, $"too little evidence ({samples} < {request.MinEvidence})")
            : score < bar ? (false, $"below SLO ({Num(score)} < {Num(bar)})")
            : (true, $"meets SLO ({Num(score)} ≥ {Num(bar)})"));

        var qualifying = assessments.Where(a => a.Qualifies)
            .OrderBy(a => a.PriceUsd).ThenByDescending(a => a.Score).ThenBy(a => a.Candidate.Model.Name, StringComparer.Ordinal)
            .ToArray();
        var head = $"{request.QueryType}: SLO {Num(request.Slo)} × reference {request.Reference.Name} [{request.ReferenceTier}] {Num(referenceEstimate)}{(referenceQuality is null ? " (no trusted evidence, counted as 1)" : "")} = bar {Num(bar)}";
        if (qualifying.Length > 0)
        {
            var chosen = qualifying[0];
            return new RouteChoice(
                chosen.Candidate.Model, chosen.Candidate.Tier, true, qualifying, assessments,
                $"routed to {chosen.Candidate.Model.Name} [{chosen.Candidate.Tier}] {Usd(chosen.PriceUsd)} instead of {request.Reference.Name} {Usd(referencePrice)}: cheapest model meeting the SLO; {head}; candidates: {List(assessments)}",
                "routed");
        }

        var cheaper = assessments.Where(a => a.Candidate.ExcludedBecause is null && a.PriceUsd < referencePrice).ToArray();
        var outcome = cheaper.Length == 0 ? "no-cheaper-model"
            : cheaper.All(a => a.Samples < request.MinEvidence) ? "too-little-evidence"
            : "below-slo";
        var why = outcome switch
        {
            "no-cheaper-model" => "no cheaper model is allowed",
            "too-little-evidence" => "too little evidence on any cheaper model",
            _ => "no cheaper model meets the SLO",
        };
        return new RouteChoice(
            request.Reference, request.ReferenceTier, false, [], assessments,
            $"stayed on {request.Reference.Name} [{request.ReferenceTier}] {Usd(referencePrice)}: {why}; {head}; candidates: {List(assessments)}",
            outcome);
    }

    /// <summary>
    /// Where adaptive sampling sends a premium call it moves: the cheaper allowed model with the best trusted estimate
    /// (ties: cheaper), else — no cheaper model has enough evidence — <paramref name="fallback"/> (the first model of the
    /// sampling fallback tier, when the caller found it allowed and cheaper); null when there is nowhere cheaper to go.
    /// </summary>
    public static RouteChoice? SampleOut(RouteRequest request, RouteCandidate? fallback)
    {
        ArgumentNullException.ThrowIfNull(request);
        var (referencePrice, _, _) = Reference(request);
        var assessments = Assess(request, referencePrice, (score, samples) =>
            samples < request.MinEvidence ? (false, $"too little evidence ({samples} < {request.MinEvidence})") : (true, $"estimate {Num(score)}"));
        var trusted = assessments.Where(a => a.Qualifies)
            .OrderByDescending(a => a.Score).ThenBy(a => a.PriceUsd).ThenBy(a => a.Candidate.Model.Name, StringComparer.Ordinal)
            .ToArray();
        if (trusted.Length > 0)
        {
            var best = trusted[0];
            return new RouteChoice(
                best.Candidate.Model, best.Candidate.Tier, true, trusted, assessments,
                $"{best.Candidate.Model.Name} [{best.Candidate.Tier}] {Usd(best.PriceUsd)}, the best-estimated cheaper model; candidates: {List(assessments)}",
                "sampled-out");
        }

        if (fallback is { ExcludedBecause: null } && !SameModel(fallback.Model, request.Reference)
            && PriceCalculator.Cost(fallback.Model, request.InputTokens, request.OutputTokens) is var price && price < referencePrice)
        {
            var assessment = new RouteAssessment(fallback, price, null, 0, true, "sampling fallback tier");
            return new RouteChoice(
                fallback.Model, fallback.Tier, true, [assessment], assessments,
                $"{fallback.Model.Name} [{fallback.Tier}] {Usd(price)}, the first model of the sampling fallback tier (no cheaper model has {request.MinEvidence} observations); candidates: {List(assessments)}",
                "sampled-out");
        }

        return null;
    }

    private static (decimal Price, double Estimate, ModelQuality? Trusted) Reference(RouteRequest request)
    {
        var price = PriceCalculator.Cost(request.Reference, request.InputTokens, request.OutputTokens);
        var quality = QualityEstimator.Find(request.Quality, request.Reference.Name);
        var trusted = quality is { } q && q.Samples >= request.MinEvidence ? q : null;
        return (price, trusted?.Score ?? 1d, trusted);
    }

    private static RouteAssessment[] Assess(RouteRequest request, decimal referencePrice, Func<double, long, (bool Qualifies, string Why)> verdict)
    {
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase) { request.Reference.Name };
        var assessments = new List<RouteAssessment>();
        foreach (var candidate in request.Candidates)
        {
            if (!seen.Add(candidate.Model.Name))
            {
                continue;
            }

            var price = PriceCalculator.Cost(candidate.Model, request.InputTokens, request.OutputTokens);
            var quality = QualityEstimator.Find(request.Quality, candidate.Model.Name);
            var samples = quality?.Samples ?? 0;
            var (qualifies, why) = candidate.ExcludedBecause is { } excluded ? (false, excluded)
                : price >= referencePrice ? (false, "not cheaper")
                : verdict(quality?.Score ?? 0d, samples);
            assessments.Add(new RouteAssessment(candidate, price, quality?.Score, samples, qualifies, why));
        }

        return [.. assessments];
    }

    private static bool SameModel(ModelSpec a, ModelSpec b) => string.Equals(a.Name, b.Name, StringComparison.OrdinalIgnoreCase);

    private static string List(IReadOnlyList<RouteAssessment> assessments)
    {
        if (assessments.Count == 0)
        {
            return "none";
        }

        var text = new StringBuilder();
        foreach (var a in assessments)
        {
            if (text.Length > 0)
            {
                text.Append("; ");
            }

            text.Append(a.Candidate.Model.Name).Append(" [").Append(a.Candidate.Tier).Append("] score ")
                .Append(a.Score is { } s ? Num(s) : "-").Append(" n=").Append(a.Samples.ToString(CultureInfo.InvariantCulture))
                .Append(' ').Append(Usd(a.PriceUsd)).Append(": ").Append(a.Why);
        }

        return text.ToString();
    }

    private static string Num(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Usd(decimal value) => "$" + value.ToString("0.########", CultureInfo.InvariantCulture);
}
