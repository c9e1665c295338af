using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Prompts;

namespace MicroApps.Orleans.UnitTests.Prompts;

public sealed class PromptNamesTests
{
    [Theory]
    [InlineData("summary", true)]
    [InlineData("invoice.summary-v2", true)]
    [InlineData("abc", true)]
    [InlineData("ab", false)]
    [InlineData("Summary", false)]
    [InlineData("-summary", false)]
    [InlineData("summary.", false)]
    [InlineData("sum mary", false)]
    [InlineData("sum_mary", false)]
    [InlineData(null, false)]
    public void Names_are_lower_case_letters_digits_dash_and_dot(string? name, bool valid) =>
        Assert.Equal(valid, PromptNames.IsValid(name));

    [Fact]
    public void Sixty_characters_is_the_longest_name()
    {
        Assert.True(PromptNames.IsValid(new string('a', 60)));
        Assert.False(PromptNames.IsValid(new string('a', 61)));
    }

    [Theory]
    [InlineData("summary@3", "summary", 3)]
    [InlineData("a.b-c@12", "a.b-c", 12)]
    public void References_parse(string reference, string name, int version)
    {
        Assert.True(PromptNames.TryParseReference(reference, out var parsedName, out var parsedVersion));
        Assert.Equal(name, parsedName);
        Assert.Equal(version, parsedVersion);
    }

    [Theory]
    [InlineData("summary")]
    [InlineData("summary@0")]
    [InlineData("summary@-1")]
    [InlineData("summary@x")]
    [InlineData("@3")]
    [InlineData("Bad@3")]
    [InlineData(null)]
    public void Bad_references_do_not_parse(string? reference) =>
        Assert.False(PromptNames.TryParseReference(reference, out _, out _));

    [Fact]
    public void Hash_is_lower_case_sha256_hex_of_the_utf8_text() =>
        Assert.Equal("2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824", PromptNames.Hash("hello"));

    [Fact]
    public void Label_joins_pins_or_falls_back_to_the_free_text_version()
    {
        var plain = new AppManifest("a", "o", "t", Audience.Internal, [], ["local"], "local", AppQuotas.Default, "", "v7");

        Assert.Equal("v7", PromptVersions.Label(plain));
        Assert.Equal("summary@3", PromptVersions.Label(plain with { Prompts = [new PromptPin("summary", 3)] }));
        Assert.Equal("summary@3,tone@1", PromptVersions.Label(plain with { Prompts = [new PromptPin("summary", 3), new PromptPin("tone", 1)] }));
    }
}
