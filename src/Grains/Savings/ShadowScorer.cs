using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.Savings;

/// <summary>One pair of answers to the same request, to be scored.</summary>
/// <param name="QueryType">The request's query type (<see cref="QueryTypes"/>).</param>
/// <param name="Messages">The request as the models saw it (already redacted where a policy asked).</param>
/// <param name="ReferenceModel">The model whose answer is the reference (the app's baseline model).</param>
/// <param name="ReferenceAnswer">The reference answer.</param>
/// <param name="CandidateModel">The cheaper model the evidence is about.</param>
/// <param name="CandidateAnswer">The cheaper model's answer.</param>
/// <param name="EvaluationId">Unique id of the evaluation (<c>shadow/{appId}/{requestId}</c>), for idempotent side calls.</param>
public sealed record ShadowComparison(
    string QueryType,
    IReadOnlyList<ChatTurn> Messages,
    string ReferenceModel,
    string ReferenceAnswer,
    string CandidateModel,
    string CandidateAnswer,
    string EvaluationId);

/// <summary>
/// Scores a candidate answer against a reference answer: 0 (useless) to 1 (as good as the reference). Scorers are
/// chosen per query type by <c>Savings:Shadow:Scorers:{type}</c>; register more as <see cref="IShadowScorer"/> singletons.
/// </summary>
public interface IShadowScorer
{
    /// <summary>The name configuration selects it by (<c>overlap</c>, <c>judge</c>, …).</summary>
    string Name { get; }

    /// <summary>The candidate's agreement with the reference, 0 to 1; null when it cannot tell (no evidence is recorded).</summary>
    Task<double?> ScoreAsync(ShadowComparison comparison, CancellationToken cancellationToken);
}

/// <summary>The registered scorers and the choice of one per query type.</summary>
public sealed class ShadowScorers
{
    private readonly Dictionary<string, IShadowScorer> _byName;
    private readonly Dictionary<string, string> _byType;

    public ShadowScorers(IEnumerable<IShadowScorer> scorers, Microsoft.Extensions.Options.IOptions<ShadowOptions> options)
    {
        _byName = new Dictionary<string, IShadowScorer>(StringComparer.OrdinalIgnoreCase);
        foreach (var scorer in scorers)
        {
            _byName.TryAdd(scorer.Name, scorer);
        }

        _byType = new Dictionary<string, string>(options.Value.Scorers, StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The scorer configured for <paramref name="queryType"/> (overlap unless configured otherwise); null when it is not registered.</summary>
    public IShadowScorer? For(string queryType)
    {
        var name = _byType.TryGetValue(queryType, out var configured) && !string.IsNullOrWhiteSpace(configured) ? configured.Trim() : OverlapScorer.ScorerName;
        return _byName.GetValueOrDefault(name);
    }
}
