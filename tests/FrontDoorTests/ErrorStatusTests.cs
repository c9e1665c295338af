using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>Every refusal is an OpenAI error JSON with the right status, naming the field; none reaches the 500 handler.</summary>
[Collection(FrontDoorCollection.Name)]
public sealed class ErrorStatusTests(FrontDoorFixture fixture) : NoUnhandledFailuresTests(fixture)
{
    private static string AnyWellFormedKey => $"mak.nobody-{Guid.NewGuid():N}"[..20] + ".k1.secret";

    [Fact]
    public async Task Malformed_json_is_400_invalid_json()
    {
        using var response = await Fixture.PostChatAsync(AnyWellFormedKey, """{"model":"gpt-4o-mini","messages":[""");

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("invalid_json", error.Code);
        Assert.Equal("invalid_request_error", error.Type);
    }

    [Fact]
    public async Task Empty_body_is_400_invalid_json()
    {
        using var response = await Fixture.PostChatAsync(AnyWellFormedKey, "");

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("invalid_json", error.Code);
    }

    [Theory]
    [InlineData("""{"model":"gpt-4o-mini"}""", "messages")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[]}""", "messages")]
    [InlineData("""{"model":"gpt-4o-mini","messages":"hi"}""", "messages")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":7,"messages":[{"role":"user","content":"hi"}]}""", "model")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"content":"hi"}]}""", "messages[0].role")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"a"},{"role":"wizard","content":"hi"}]}""", "messages[1].role")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user"}]}""", "messages[0].content")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":5}]}""", "messages[0].content")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}""", "messages[0].content[0].type")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":[{"type":"text","text":3}]}]}""", "messages[0].content[0].text")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":"hot"}""", "temperature")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"temperature":3.5}""", "temperature")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"top_p":"x"}""", "top_p")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}""", "max_tokens")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":1.5}""", "max_completion_tokens")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stream":"yes"}""", "stream")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stop":5}""", "stop")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"stop":["a",1]}""", "stop[1]")]
    [InlineData("""{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"user":{}}""", "user")]
    [InlineData("""[1,2]""", null)]
    public async Task Invalid_field_is_400_naming_the_field(string body, string? param)
    {
        using var response = await Fixture.PostChatAsync(AnyWellFormedKey, body);

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal(param, error.Param);
        Assert.Equal("invalid_request_error", error.Type);
        Assert.False(string.IsNullOrWhiteSpace(error.Message));
    }

    [Fact]
    public async Task Unknown_model_is_400_model_not_found_naming_model()
    {
        var key = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId());

        using var response = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody("no-such-model-anywhere", "hi"));

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("model", error.Param);
        Assert.Equal("model_not_found", error.Code);
    }

    [Fact]
    public async Task Missing_key_is_401()
    {
        using var response = await Fixture.PostChatAsync(null, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"));

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
        Assert.Equal("missing_api_key", error.Code);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
    }

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("mak.no-such-app-here.k1.secret")]
    public async Task Unknown_key_is_401(string key)
    {
        using var response = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"));

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
    }

    [Fact]
    public async Task Wrong_secret_of_an_existing_app_is_401()
    {
        var appId = FrontDoorFixture.NewAppId();
        var key = await Fixture.CreateAppWithKeyAsync(appId);
        var tampered = key[..key.LastIndexOf('.')] + ".wrong-secret";

        using var response = await Fixture.PostChatAsync(tampered, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"));

        Assert.Equal(HttpStatusCode.Unauthorized, (await OpenAIError.ReadAsync(response)).Status);
    }

    [Fact]
    public async Task Revoked_key_is_401_while_the_apps_other_key_still_works()
    {
        var appId = FrontDoorFixture.NewAppId();
        var revoked = await Fixture.CreateAppWithKeyAsync(appId);
        var kept = await Fixture.IssueKeyAsync(appId);
        var keyId = revoked.Split('.')[2];

        using (var delete = await Fixture.AdminAsync(HttpMethod.Delete, $"admin/apps/{appId}/keys/{keyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        }

        using var refused = await Fixture.PostChatAsync(revoked, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await OpenAIError.ReadAsync(refused)).Status);

        using var accepted = await Fixture.PostChatAsync(kept, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Suspended_app_is_403_and_resumed_app_is_served()
    {
        var appId = FrontDoorFixture.NewAppId();
        var key = await Fixture.CreateAppWithKeyAsync(appId);
        using (var suspend = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/suspend"))
        {
            Assert.Equal(HttpStatusCode.OK, suspend.StatusCode);
        }

        using var refused = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"));
        var error = await OpenAIError.ReadAsync(refused);
        Assert.Equal(HttpStatusCode.Forbidden, error.Status);
        Assert.Equal("permission_error", error.Type);

        using (var resume = await Fixture.AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/resume"))
        {
            Assert.Equal(HttpStatusCode.OK, resume.StatusCode);
        }

        using var accepted = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"));
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Body_over_the_limit_with_content_length_is_413()
    {
        var body = FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, new string('x', FrontDoorFixture.MaxRequestBodyBytes + 10));

        using var response = await Fixture.PostChatAsync(AnyWellFormedKey, body);

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, error.Status);
        Assert.Equal("request_too_large", error.Code);

        // The unread body leaves the connection unusable: the client is told to drop it, so the next request works.
        Assert.True(response.Headers.ConnectionClose, "a 413 must carry Connection: close");
        using var next = await Fixture.Http.GetAsync("health/live");
        Assert.Equal(HttpStatusCode.OK, next.StatusCode);
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_is_413()
    {
        var bytes = Encoding.UTF8.GetBytes(FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, new string('y', FrontDoorFixture.MaxRequestBodyBytes + 10)));
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StreamContent(new UnknownLengthStream(bytes)),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", AnyWellFormedKey);

        using var response = await Fixture.Http.SendAsync(request);

        Assert.Null(request.Content.Headers.ContentLength);
        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, error.Status);
        Assert.Equal("request_too_large", error.Code);
    }

    [Fact]
    public async Task Wrong_content_type_is_415()
    {
        using var response = await Fixture.PostChatAsync(AnyWellFormedKey, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"), contentType: "text/plain");

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, error.Status);
        Assert.Equal("unsupported_media_type", error.Code);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData("semi;colon")]
    public async Task Invalid_request_id_is_400_naming_the_header(string requestId)
    {
        using var response = await Fixture.PostChatAsync(AnyWellFormedKey, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"), requestId: requestId);

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.BadRequest, error.Status);
        Assert.Equal("X-Request-Id", error.Param);
    }

    [Fact]
    public async Task Request_id_longer_than_128_characters_is_400()
    {
        using var response = await Fixture.PostChatAsync(AnyWellFormedKey, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi"), requestId: new string('a', 129));

        Assert.Equal(HttpStatusCode.BadRequest, (await OpenAIError.ReadAsync(response)).Status);
    }

    [Fact]
    public async Task Requests_over_the_per_minute_quota_are_429_with_retry_after()
    {
        var key = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId(), requestsPerMinute: 1);

        using var first = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "first"));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        // Quota windows are calendar minutes: if the second call lands in the next minute it is admitted,
        // and the third cannot land in yet another one.
        using var second = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "second"));
        using var third = second.StatusCode == HttpStatusCode.OK
            ? await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "third"))
            : null;
        var refused = third ?? second;

        var error = await OpenAIError.ReadAsync(refused);
        Assert.Equal(HttpStatusCode.TooManyRequests, error.Status);
        Assert.Equal("rate_limit_error", error.Type);
        var retryAfter = int.Parse(refused.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);
        Assert.Contains("minute", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Exhausted_budget_is_429_with_retry_after()
    {
        var key = await Fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId(), budgetLimitUsd: 0.0000001m);
        var before = Fixture.Upstream.RequestsReceived;

        using var response = await Fixture.PostChatAsync(key, FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "this will not fit in the budget"));

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.TooManyRequests, error.Status);
        Assert.Equal("insufficient_quota", error.Type);
        Assert.True(long.Parse(response.Headers.GetValues("Retry-After").Single()) >= 1);
        Assert.Contains("budget", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, Fixture.Upstream.RequestsReceived);
    }

    [Fact]
    public async Task Streaming_refusal_is_a_json_error_with_its_status_not_an_event_stream()
    {
        var body = FrontDoorFixture.ChatBody(FrontDoorFixture.StandardModel, "hi", stream: true);

        using var response = await Fixture.PostChatAsync("mak.no-such-app-here.k1.secret", body);

        var error = await OpenAIError.ReadAsync(response);
        Assert.Equal(HttpStatusCode.Unauthorized, error.Status);
    }

    [Fact]
    public async Task Models_without_a_key_is_401()
    {
        using var response = await Fixture.Http.GetAsync("v1/models");

        Assert.Equal(HttpStatusCode.Unauthorized, (await OpenAIError.ReadAsync(response)).Status);
    }

    /// <summary>A stream that hides its length, so HttpClient sends the body chunked.</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}
