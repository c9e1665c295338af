using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// Prompt ownership through the admin API: the author of a prompt's first version owns it; other authors fork it
/// into a name of their own instead of publishing to it; admins publish to any prompt.
/// </summary>
[Collection(FrontDoorCollection.Name)]
public sealed class PromptOwnershipTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture)
{
    private const string AliceText = "Summarise the user's text in one sentence.";

    private static string NewName(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..20];

    private async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        using var json = JsonDocument.Parse(body);
        return json.RootElement.Clone();
    }

    private async Task<JsonElement> PublishAsync(object body, string token, HttpStatusCode expected)
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", body, token);
        return await JsonAsync(response, expected);
    }

    /// <summary>author-alice publishes version 1 of a fresh prompt <c>x</c>.</summary>
    private async Task<string> AlicePromptAsync()
    {
        var name = NewName("x");
        var v1 = await PublishAsync(new { name, text = AliceText, description = "first cut" }, FrontDoorFixture.AuthorToken, HttpStatusCode.Created);
        Assert.Equal(1, v1.GetProperty("version").GetInt32());
        return name;
    }

    private async Task<JsonElement> GetPromptAsync(string name)
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Get, $"admin/prompts/{name}", token: FrontDoorFixture.ViewerToken);
        return await JsonAsync(response, HttpStatusCode.OK);
    }

    private async Task<JsonElement> ListedAsync(string name)
    {
        using var response = await Fixture.AdminAsync(HttpMethod.Get, "admin/prompts", token: FrontDoorFixture.ViewerToken);
        return Assert.Single((await JsonAsync(response, HttpStatusCode.OK)).EnumerateArray(), p => p.GetProperty("name").GetString() == name);
    }

    [Fact]
    public async Task An_author_publishing_a_version_of_another_authors_prompt_gets_403_naming_the_owner()
    {
        var x = await AlicePromptAsync();

        using var bob = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", new { name = x, text = "Summarise like a pirate." }, FrontDoorFixture.OtherAuthorToken);
        var refused = await JsonAsync(bob, HttpStatusCode.Forbidden);
        using var bobSameText = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", new { name = x, text = AliceText }, FrontDoorFixture.OtherAuthorToken);

        Assert.Equal("application/problem+json", bob.Content.Headers.ContentType?.MediaType);
        Assert.Equal(FrontDoorFixture.AuthorName, refused.GetProperty("owner").GetString());
        Assert.Contains($"prompt '{x}' is owned by '{FrontDoorFixture.AuthorName}'", refused.GetProperty("detail").GetString());
        Assert.Contains($"forkedFrom: \"{x}@1\"", refused.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, bobSameText.StatusCode);
        var prompt = await GetPromptAsync(x);
        Assert.Equal(1, prompt.GetProperty("latestVersion").GetInt32());
        Assert.Equal(FrontDoorFixture.AuthorName, prompt.GetProperty("owner").GetString());

        // Refusals are not audited; only changes that happened are.
        using var audit = await Fixture.AdminAsync(HttpMethod.Get, $"admin/audit?actor={FrontDoorFixture.OtherAuthorName}&action=prompt.", token: FrontDoorFixture.ViewerToken);
        var entries = (await JsonAsync(audit, HttpStatusCode.OK)).GetProperty("entries").EnumerateArray();
        Assert.DoesNotContain(entries, e => e.GetProperty("target").GetString()!.StartsWith($"prompt:{x}@", StringComparison.Ordinal));
    }

    [Fact]
    public async Task An_author_forks_another_authors_prompt_into_a_new_name_they_then_own()
    {
        var x = await AlicePromptAsync();
        var y = NewName("y");

        // No text: the fork copies the source version's text.
        var fork = await PublishAsync(new { name = y, forkedFrom = $"{x}@1", description = "for finance" }, FrontDoorFixture.OtherAuthorToken, HttpStatusCode.Created);
        var bobV2 = await PublishAsync(new { name = y, text = "Summarise for the finance team." }, FrontDoorFixture.OtherAuthorToken, HttpStatusCode.Created);
        using var alice = await Fixture.AdminAsync(HttpMethod.Post, "admin/prompts", new { name = y, text = "Alice's take." }, FrontDoorFixture.AuthorToken);

        Assert.Equal(1, fork.GetProperty("version").GetInt32());
        Assert.Equal($"{x}@1", fork.GetProperty("forkedFrom").GetString());
        Assert.Equal(AliceText, fork.GetProperty("text").GetString());
        Assert.Equal(FrontDoorFixture.OtherAuthorName, fork.GetProperty("author").GetString());
        Assert.Equal(2, bobV2.GetProperty("version").GetInt32());
        var refused = await JsonAsync(alice, HttpStatusCode.Forbidden);
        Assert.Equal(FrontDoorFixture.OtherAuthorName, refused.GetProperty("owner").GetString());

        var forked = await GetPromptAsync(y);
        Assert.Equal(FrontDoorFixture.OtherAuthorName, forked.GetProperty("owner").GetString());
        Assert.Equal($"{x}@1", forked.GetProperty("versions")[0].GetProperty("forkedFrom").GetString());
        var listedY = await ListedAsync(y);
        Assert.Equal(FrontDoorFixture.OtherAuthorName, listedY.GetProperty("owner").GetString());
        Assert.Equal($"{x}@1", listedY.GetProperty("forkedFrom").GetString());
        Assert.Equal(FrontDoorFixture.AuthorName, (await ListedAsync(x)).GetProperty("owner").GetString());
        Assert.Equal(1, (await GetPromptAsync(x)).GetProperty("latestVersion").GetInt32());
    }

    [Fact]
    public async Task An_admin_publishes_a_version_of_any_prompt_and_the_owner_stays()
    {
        var x = await AlicePromptAsync();

        var byAdmin = await PublishAsync(new { name = x, text = "Summarise in two sentences." }, FrontDoorFixture.AdminToken, HttpStatusCode.Created);
        var byAlice = await PublishAsync(new { name = x, text = "Summarise in three sentences." }, FrontDoorFixture.AuthorToken, HttpStatusCode.Created);

        Assert.Equal(2, byAdmin.GetProperty("version").GetInt32());
        Assert.Equal("admin", byAdmin.GetProperty("author").GetString());
        Assert.Equal(3, byAlice.GetProperty("version").GetInt32());
        var prompt = await GetPromptAsync(x);
        Assert.Equal(FrontDoorFixture.AuthorName, prompt.GetProperty("owner").GetString());
        Assert.Equal(["author-alice", "admin", "author-alice"], prompt.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("author").GetString()));
        var listed = await ListedAsync(x);
        Assert.Equal(FrontDoorFixture.AuthorName, listed.GetProperty("owner").GetString());
        Assert.Equal(FrontDoorFixture.AuthorName, listed.GetProperty("author").GetString());
    }

    [Fact]
    public async Task A_publication_without_text_needs_an_existing_forked_from_version()
    {
        var x = await AlicePromptAsync();

        var noText = await PublishAsync(new { name = NewName("z") }, FrontDoorFixture.OtherAuthorToken, HttpStatusCode.BadRequest);
        var unknownSource = await PublishAsync(new { name = NewName("z"), forkedFrom = $"{x}@9" }, FrontDoorFixture.OtherAuthorToken, HttpStatusCode.BadRequest);

        Assert.True(noText.GetProperty("errors").TryGetProperty("text", out _));
        Assert.Contains($"'{x}@9' does not exist", unknownSource.GetProperty("errors").GetProperty("forkedFrom")[0].GetString());
    }
}
