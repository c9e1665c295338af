using MicroApps.Orleans.Tiers;

namespace MicroApps.Orleans.Tokens;

/// <summary>Turns token counts into USD with a model's per-1k prices.</summary>
public static class PriceCalculator
{
    /// <summary>Costs are kept to 1e-8 USD, far below any real price step, so sums of many calls stay exact.</summary>
    public const int Decimals = 8;

    /// <summary>
    /// USD for <paramref name="inputTokens"/> and <paramref name="outputTokens"/> on <paramref name="model"/>,
    /// rounded up to <see cref="Decimals"/> places: a charge is never understated, and because rounding up
    /// is monotonic an estimate made with more tokens is never below the cost of fewer tokens.
    /// </summary>
    public static decimal Cost(ModelSpec model, int inputTokens, int outputTokens)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegative(inputTokens);
        ArgumentOutOfRangeException.ThrowIfNegative(outputTokens);
        var exact = (inputTokens * model.InputPricePer1K + outputTokens * model.OutputPricePer1K) / 1000m;
        return Math.Round(exact, Decimals, MidpointRounding.ToPositiveInfinity);
    }
}
