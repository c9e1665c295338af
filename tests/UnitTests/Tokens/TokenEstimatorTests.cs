using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;

namespace MicroApps.Orleans.UnitTests.Tokens;

public sealed class TokenEstimatorTests
{
    private readonly TokenEstimator _tokens = TokenEstimator.Default;

    [Fact]
    public void Text_is_counted_with_the_o200k_base_encoding()
    {
        Assert.Equal(2, _tokens.CountText("hello world"));
        Assert.Equal(0, _tokens.CountText(""));
        Assert.Equal(0, _tokens.CountText(null));
    }

    [Fact]
    public void Messages_add_openai_framing_per_message_and_reply_priming()
    {
        ChatTurn[] one = [new("user", "hello world")];
        ChatTurn[] two = [new("system", "Be brief."), new("user", "hello world")];

        // 3 framing + "user" (1) + "hello world" (2) + 3 reply priming.
        Assert.Equal(9, _tokens.CountMessages(one));
        Assert.Equal(9 + TokenEstimator.TokensPerMessage + _tokens.CountText("system") + _tokens.CountText("Be brief."), _tokens.CountMessages(two));
    }

    [Fact]
    public async Task The_shared_tokenizer_counts_consistently_from_many_threads()
    {
        var text = string.Join(' ', Enumerable.Repeat("The quick brown fox jumps over the lazy dog.", 20));
        var expected = _tokens.CountText(text);

        var counts = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => _tokens.CountText(text))));

        Assert.All(counts, c => Assert.Equal(expected, c));
        Assert.True(expected > 100);
    }
}

public sealed class PriceCalculatorTests
{
    private static ModelSpec Model(decimal input, decimal output) => new("m", "b", input, output, 8_000, true);

    [Fact]
    public void Cost_is_tokens_times_price_per_thousand()
    {
        Assert.Equal(1.5m, PriceCalculator.Cost(Model(0.5m, 1.5m), 1_500, 500));
        Assert.Equal(0.00015m, PriceCalculator.Cost(Model(0.15m, 0.6m), 1, 0));
    }

    [Fact]
    public void Cost_rounds_up_to_the_hundred_millionth_of_a_dollar()
    {
        // 1 token at $0.000001 per 1k is $1e-9, which is charged as $1e-8 rather than dropped.
        Assert.Equal(0.00000001m, PriceCalculator.Cost(Model(0.000001m, 0m), 1, 0));
        Assert.Equal(0m, PriceCalculator.Cost(Model(0m, 0m), 10_000, 10_000));
    }

    [Fact]
    public void More_tokens_never_cost_less()
    {
        var model = Model(0.0000333m, 0.0000777m);
        var previous = 0m;
        for (var tokens = 0; tokens < 200; tokens++)
        {
            var cost = PriceCalculator.Cost(model, tokens, tokens);
            Assert.True(cost >= previous, $"cost fell at {tokens} tokens");
            previous = cost;
        }
    }

    [Fact]
    public void Negative_token_counts_are_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => PriceCalculator.Cost(Model(1m, 1m), -1, 0));
    }
}
