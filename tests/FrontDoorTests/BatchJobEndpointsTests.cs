using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests;

[Collection(FrontDoorCollection.Name)]
public sealed class BatchJobEndpointsTests(FrontDoorFixture fixture)
{
    private Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? apiKey, string? body = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(method, path);
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, contentType);
        }

        return fixture.Http.SendAsync(request);
    }

    private static string Body(params (string CustomId, string Text)[] items) => JsonSerializer.Serialize(new
    {
        requests = items.Select(i => new
        {
            custom_id = i.CustomId,
            messages = new[] { new { role = "user", content = i.Text } },
            max_tokens = 50,
        }),
    });

    private static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task AssertErrorAsync(HttpResponseMessage response, HttpStatusCode status, string? param)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {text}");
        var error = JsonDocument.Parse(text).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        if (param is not null)
        {
            Assert.Equal(param, error.GetProperty("param").GetString());
        }
    }

    private async Task<string> SubmitAsync(string apiKey, string body)
    {
        using var response = await SendAsync(HttpMethod.Post, "v1/batch-jobs", apiKey, body);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"submit: {(int)response.StatusCode} {text}");
        var job = JsonDocument.Parse(text).RootElement;
        Assert.Equal("queued", job.GetProperty("status").GetString());
        var id = job.GetProperty("id").GetString()!;
        Assert.Equal($"/v1/batch-jobs/{id}", response.Headers.Location?.OriginalString);
        return id;
    }

    /// <summary>Polls the job until it is completed, with a deadline.</summary>
    private async Task<JsonElement> CompletedAsync(string apiKey, string jobId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await SendAsync(HttpMethod.Get, $"v1/batch-jobs/{jobId}", apiKey);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var job = await JsonAsync(response);
            if (job.GetProperty("status").GetString() == "completed")
            {
                return job;
            }

            Assert.True(DateTime.UtcNow < deadline, $"batch job {jobId} did not complete: {job}");
            await Task.Yield();
        }
    }

    [Fact]
    public async Task A_submitted_job_runs_to_completion_and_its_results_are_read_back()
    {
        var appId = FrontDoorFixture.NewAppId("batch");
        var key = await fixture.CreateAppWithKeyAsync(appId);

        var jobId = await SubmitAsync(key, Body(("first", "nightly summary of sales"), ("second", "nightly summary of returns"), ("third", "nightly summary of stock")));
        var job = await CompletedAsync(key, jobId);

        var counts = job.GetProperty("request_counts");
        Assert.Equal(3, counts.GetProperty("total").GetInt32());
        Assert.Equal(3, counts.GetProperty("completed").GetInt32());
        Assert.Equal(0, counts.GetProperty("failed").GetInt32());
        Assert.Equal("standard", job.GetProperty("tier").GetString());
        var cost = job.GetProperty("cost_usd").GetDecimal();
        Assert.True(cost > 0m);

        using var results = await SendAsync(HttpMethod.Get, $"v1/batch-jobs/{jobId}/results", key);
        Assert.Equal(HttpStatusCode.OK, results.StatusCode);
        var data = (await JsonAsync(results)).GetProperty("data").EnumerateArray().ToArray();
        Assert.Equal(["first", "second", "third"], data.Select(d => d.GetProperty("custom_id").GetString()));
        Assert.All(data, d =>
        {
            Assert.Equal("completed", d.GetProperty("status").GetString());
            Assert.Equal(FrontDoorFixture.StandardModel, d.GetProperty("model").GetString());
            Assert.True(d.GetProperty("usage").GetProperty("total_tokens").GetInt32() > 0);
            Assert.Equal(JsonValueKind.Null, d.GetProperty("error").ValueKind);
        });
        Assert.Contains("sales", data[0].GetProperty("content").GetString());
        Assert.Contains("returns", data[1].GetProperty("content").GetString());
        Assert.Equal(cost, data.Sum(d => d.GetProperty("cost_usd").GetDecimal()));

        // Charged once per item: the app's budget spent exactly what the job cost.
        using var budget = await fixture.AdminAsync(HttpMethod.Get, $"admin/budgets/app:{appId}");
        Assert.Equal(cost, (await JsonAsync(budget)).GetProperty("spentUsd").GetDecimal());
    }

    [Fact]
    public async Task Another_apps_job_answers_404()
    {
        var owner = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("batch"));
        var other = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("batch"));
        var jobId = await SubmitAsync(owner, Body(("only", "summary")));

        using var get = await SendAsync(HttpMethod.Get, $"v1/batch-jobs/{jobId}", other);
        await AssertErrorAsync(get, HttpStatusCode.NotFound, "id");
        using var results = await SendAsync(HttpMethod.Get, $"v1/batch-jobs/{jobId}/results", other);
        await AssertErrorAsync(results, HttpStatusCode.NotFound, "id");
        using var cancel = await SendAsync(HttpMethod.Post, $"v1/batch-jobs/{jobId}/cancel", other);
        await AssertErrorAsync(cancel, HttpStatusCode.NotFound, "id");
        using var unknown = await SendAsync(HttpMethod.Get, "v1/batch-jobs/not-a-job", owner);
        await AssertErrorAsync(unknown, HttpStatusCode.NotFound, "id");
        using var mine = await SendAsync(HttpMethod.Get, $"v1/batch-jobs/{jobId}", owner);
        Assert.Equal(HttpStatusCode.OK, mine.StatusCode);
    }

    [Fact]
    public async Task Without_a_valid_key_batch_jobs_answer_401()
    {
        using var missing = await SendAsync(HttpMethod.Post, "v1/batch-jobs", null, Body(("a", "x")));
        await AssertErrorAsync(missing, HttpStatusCode.Unauthorized, null);
        using var unknown = await SendAsync(HttpMethod.Post, "v1/batch-jobs", "mak.nobody-here.k1.secret", Body(("a", "x")));
        await AssertErrorAsync(unknown, HttpStatusCode.Unauthorized, null);
    }

    [Theory]
    [InlineData("""{"requests":[]}""", "requests")]
    [InlineData("""{"nothing":1}""", "requests")]
    [InlineData("""[1,2]""", null)]
    [InlineData("""{"requests":[{"custom_id":"a","messages":[{"role":"user","content":"x"}]},{"custom_id":"b","messages":[{"role":"user","content":"y"}]},{"custom_id":"c","messages":[{"role":"user","content":"z"}]},{"custom_id":"d"}]}""", "requests[3].messages")]
    [InlineData("""{"requests":[{"custom_id":"a","messages":[{"role":"wizard","content":"x"}]}]}""", "requests[0].messages[0].role")]
    [InlineData("""{"requests":[{"messages":[{"role":"user","content":"x"}]}]}""", "requests[0].custom_id")]
    [InlineData("""{"requests":[{"custom_id":"a","messages":[{"role":"user","content":"x"}]},{"custom_id":"a","messages":[{"role":"user","content":"y"}]}]}""", "requests[1].custom_id")]
    [InlineData("""{"requests":[{"custom_id":"a","model":"gpt-4o","messages":[{"role":"user","content":"x"}]}]}""", "requests[0].model")]
    [InlineData("""{"requests":[{"custom_id":"a","max_tokens":0,"messages":[{"role":"user","content":"x"}]}]}""", "requests[0].max_tokens")]
    [InlineData("""{"requests":[{"custom_id":"a","stream":true,"messages":[{"role":"user","content":"x"}]}]}""", "requests[0].stream")]
    [InlineData("""{"requests":[{"custom_id":"a","body":{"messages":"no"}}]}""", "requests[0].body.messages")]
    [InlineData("""{"not_before":"tomorrow","requests":[{"custom_id":"a","messages":[{"role":"user","content":"x"}]}]}""", "not_before")]
    public async Task Invalid_submissions_answer_400_naming_the_field(string body, string? param)
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("batch"));

        using var response = await SendAsync(HttpMethod.Post, "v1/batch-jobs", key, body);

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, param);
    }

    [Fact]
    public async Task A_job_is_refused_when_the_app_may_not_use_the_pools_tier()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("batch"), allowedTiers: ["local"]);

        using var response = await SendAsync(HttpMethod.Post, "v1/batch-jobs", key, Body(("a", "summary")));

        await AssertErrorAsync(response, HttpStatusCode.BadRequest, "model");
    }

    [Fact]
    public async Task Malformed_bodies_answer_4xx_not_500()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("batch"));

        using var notJson = await SendAsync(HttpMethod.Post, "v1/batch-jobs", key, "{requests:");
        await AssertErrorAsync(notJson, HttpStatusCode.BadRequest, null);
        using var wrongType = await SendAsync(HttpMethod.Post, "v1/batch-jobs", key, Body(("a", "x")), "text/plain");
        await AssertErrorAsync(wrongType, HttpStatusCode.UnsupportedMediaType, null);
        var huge = Body(("a", new string('x', FrontDoorFixture.MaxRequestBodyBytes + 10)));
        using var tooLarge = await SendAsync(HttpMethod.Post, "v1/batch-jobs", key, huge);
        await AssertErrorAsync(tooLarge, HttpStatusCode.RequestEntityTooLarge, null);
        Assert.True(tooLarge.Headers.ConnectionClose, "a 413 must carry Connection: close: the rest of the body was never read");
    }

    [Fact]
    public async Task A_cancelled_job_reports_cancelled()
    {
        var key = await fixture.CreateAppWithKeyAsync(FrontDoorFixture.NewAppId("batch"));
        var notBefore = DateTimeOffset.UtcNow.AddDays(1).ToString("O");
        var body = $$"""{"not_before":"{{notBefore}}","requests":[{"custom_id":"later","messages":[{"role":"user","content":"tomorrow's summary"}]}]}""";
        var jobId = await SubmitAsync(key, body);

        using var cancel = await SendAsync(HttpMethod.Post, $"v1/batch-jobs/{jobId}/cancel", key);
        Assert.Equal(HttpStatusCode.OK, cancel.StatusCode);
        var job = await JsonAsync(cancel);
        Assert.Equal("cancelled", job.GetProperty("status").GetString());
        Assert.Equal(1, job.GetProperty("request_counts").GetProperty("cancelled").GetInt32());

        using var results = await SendAsync(HttpMethod.Get, $"v1/batch-jobs/{jobId}/results", key);
        var item = Assert.Single((await JsonAsync(results)).GetProperty("data").EnumerateArray());
        Assert.Equal("cancelled", item.GetProperty("status").GetString());
        Assert.Equal(0m, item.GetProperty("cost_usd").GetDecimal());
    }
}
