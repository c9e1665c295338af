using MicroApps.Orleans.Caching;
using MicroApps.Orleans.Gateway;

namespace MicroApps.Orleans.UnitTests.Caching;

public sealed class CacheKeyTests
{
    private static readonly ChatTurn[] Messages = [new("system", "Summarise invoices."), new("user", "Invoice 42 is   due\n on Friday.")];

    private static string Key(
        string scope = "app-a",
        string model = "tier:standard",
        IReadOnlyList<ChatTurn>? messages = null,
        ChatParameters? parameters = null,
        string promptVersion = "v1") =>
        CacheKey.Compute(scope, model, messages ?? Messages, parameters ?? ChatParameters.None, promptVersion);

    [Fact]
    public void Same_content_with_different_whitespace_and_role_case_gives_the_same_key()
    {
        ChatTurn[] reformatted = [new("System", "  Summarise invoices. "), new("user", "Invoice 42 is due on\tFriday.")];

        Assert.Equal(Key(), Key(messages: reformatted));
        Assert.Matches("^[0-9a-f]{64}$", Key());
    }

    [Fact]
    public void Different_app_model_parameters_or_prompt_version_give_different_keys()
    {
        var keys = new[]
        {
            Key(),
            Key(scope: "app-b"),
            Key(model: "tier:premium"),
            Key(promptVersion: "v2"),
            Key(parameters: new ChatParameters(0.5f, null, null, null, null)),
            Key(parameters: new ChatParameters(null, 0.9f, null, null, null)),
            Key(parameters: new ChatParameters(null, null, 100, null, null)),
            Key(parameters: new ChatParameters(null, null, null, ["END"], null)),
            Key(messages: [new("user", "Invoice 43 is due on Friday.")]),
            Key(messages: [new("assistant", "Summarise invoices."), new("user", "Invoice 42 is due on Friday.")]),
        };

        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void Text_cannot_move_between_fields_to_collide()
    {
        Assert.NotEqual(Key(scope: "ab", model: "c"), Key(scope: "a", model: "bc"));
        Assert.NotEqual(Key(messages: [new("user", "a b")]), Key(messages: [new("user", "a"), new("user", "b")]));
    }

    [Fact]
    public void The_end_user_field_is_not_part_of_the_key()
    {
        Assert.Equal(Key(), Key(parameters: new ChatParameters(null, null, null, null, "someone")));
    }

    [Fact]
    public void Shards_are_stable_in_range_and_spread()
    {
        var shards = Enumerable.Range(0, 400)
            .Select(i => CacheKey.ShardFor(Key(messages: [new("user", $"question {i}")]), 16))
            .ToArray();

        Assert.All(shards, s => Assert.InRange(s, 0, 15));
        Assert.Equal(16, shards.Distinct().Count());
        Assert.Equal(CacheKey.ShardFor(Key(), 16), CacheKey.ShardFor(Key(), 16));
        Assert.Equal(0, CacheKey.ShardFor(Key(), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => CacheKey.ShardFor(Key(), 0));
    }
}
