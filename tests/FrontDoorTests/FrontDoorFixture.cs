using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using MicroApps.Orleans.Client;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.FakeOpenAI;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>
/// The fake upstream plus a front door that co-hosts an in-process silo with memory storage, both on
/// loopback with free ports. Tiers <c>standard</c> and <c>premium</c> are the fake upstream (external models);
/// tier <c>local</c> the built-in model. Policies are read on every call (<c>Policies:RefreshInterval=0</c>).
/// Tests create their own apps (fresh ids) through the admin API.
/// </summary>
public sealed class FrontDoorFixture : IAsyncLifetime
{
    public const string AdminToken = "front-door-tests-admin-token";

    /// <summary>Principal <c>viewer-vic</c>, role viewer.</summary>
    public const string ViewerName = "viewer-vic";
    public const string ViewerToken = "front-door-tests-viewer-token";

    /// <summary>Principal <c>author-alice</c>, role author: owns the apps created with <c>owner = AuthorName</c>.</summary>
    public const string AuthorName = "author-alice";
    public const string AuthorToken = "front-door-tests-author-alice-token";

    /// <summary>Principal <c>author-bob</c>, role author: a second author who must not act on author-alice's apps.</summary>
    public const string OtherAuthorName = "author-bob";
    public const string OtherAuthorToken = "front-door-tests-author-bob-token";

    /// <summary>Principal <c>approver-carol</c>, role approver.</summary>
    public const string ApproverName = "approver-carol";
    public const string ApproverToken = "front-door-tests-approver-carol-token";
    public const int MaxRequestBodyBytes = 64 * 1024;
    public const string StandardModel = "gpt-4o-mini";
    public const string PremiumModel = "gpt-4o";
    public const string LocalModel = "local-extractive-summarizer";

    /// <summary>The embedding model (fake upstream), $1 per 1k input tokens, vectors of up to 64 dimensions.</summary>
    public const string EmbeddingModel = "text-embedding-3-small";
    public const decimal EmbeddingPricePer1K = 1m;

    /// <summary>Embedding batch window: long enough that concurrent test requests meet in one batch.</summary>
    public static readonly TimeSpan EmbeddingBatchWindow = TimeSpan.FromMilliseconds(300);

    public FakeOpenAIServer Upstream { get; private set; } = null!;

    public WebApplication FrontDoor { get; private set; } = null!;

    /// <summary>Front door root, e.g. <c>http://127.0.0.1:5123/</c>.</summary>
    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public UnhandledFailures Failures => FrontDoor.Services.GetRequiredService<UnhandledFailures>();

    public async Task InitializeAsync()
    {
        Upstream = await FakeOpenAIServer.StartAsync();
        var (siloPort, gatewayPort) = Ports.TwoFree();
        var clusterId = "frontdoor-tests-" + Guid.NewGuid().ToString("N")[..8];

        FrontDoor = FrontDoorApplication.Create(Settings(Upstream.BaseUrl), builder =>
            builder.UseOrleans(silo => silo
                .UseLocalhostClustering(siloPort, gatewayPort, serviceId: "frontdoor-tests", clusterId: clusterId)
                .AddMemoryGrainStorage("store")
                .ConfigureServices(services => services.AddMicroAppsGrains(builder.Configuration))));
        await FrontDoor.StartAsync();

        BaseAddress = new Uri(BoundAddress(FrontDoor) + "/");
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
    }

    public async Task DisposeAsync()
    {
        Http?.Dispose();
        if (FrontDoor is not null)
        {
            await FrontDoor.StopAsync();
            await FrontDoor.DisposeAsync();
        }

        if (Upstream is not null)
        {
            await Upstream.DisposeAsync();
        }
    }

    /// <summary>Command-line settings of a front door whose <c>standard</c> tier is <paramref name="upstreamBaseUrl"/>.</summary>
    public static string[] Settings(string upstreamBaseUrl, params string[] extra) =>
    [
        "--urls=http://127.0.0.1:0",
        "--Logging:LogLevel:Default=Warning",
        $"--FrontDoor:AdminToken={AdminToken}",
        $"--FrontDoor:MaxRequestBodyBytes={MaxRequestBodyBytes}",
        $"--FrontDoor:Principals:0:Name={ViewerName}",
        "--FrontDoor:Principals:0:Role=viewer",
        $"--FrontDoor:Principals:0:Token={ViewerToken}",
        $"--FrontDoor:Principals:1:Name={AuthorName}",
        "--FrontDoor:Principals:1:Role=author",
        $"--FrontDoor:Principals:1:Token={AuthorToken}",
        $"--FrontDoor:Principals:2:Name={OtherAuthorName}",
        "--FrontDoor:Principals:2:Role=author",
        $"--FrontDoor:Principals:2:Token={OtherAuthorToken}",
        $"--FrontDoor:Principals:3:Name={ApproverName}",
        "--FrontDoor:Principals:3:Role=approver",
        $"--FrontDoor:Principals:3:Token={ApproverToken}",
        "--Models:Backends:0:Name=fake-openai",
        "--Models:Backends:0:Kind=OpenAI",
        $"--Models:Backends:0:BaseUrl={upstreamBaseUrl}",
        "--Models:Backends:0:ApiKey=sk-fake",
        "--Models:Backends:0:TimeoutSeconds=10",
        "--Models:Backends:1:Name=local",
        "--Models:Backends:1:Kind=Local",
        $"--Models:Tiers:standard:Models:0:Name={StandardModel}",
        "--Models:Tiers:standard:Models:0:Backend=fake-openai",
        "--Models:Tiers:standard:Models:0:InputPricePer1K=0.5",
        "--Models:Tiers:standard:Models:0:OutputPricePer1K=1.5",
        "--Models:Tiers:standard:Models:0:ContextWindow=128000",
        "--Models:Tiers:standard:Models:0:External=true",
        $"--Models:Tiers:premium:Models:0:Name={PremiumModel}",
        "--Models:Tiers:premium:Models:0:Backend=fake-openai",
        "--Models:Tiers:premium:Models:0:InputPricePer1K=5",
        "--Models:Tiers:premium:Models:0:OutputPricePer1K=15",
        "--Models:Tiers:premium:Models:0:ContextWindow=128000",
        "--Models:Tiers:premium:Models:0:External=true",
        $"--Models:Tiers:local:Models:0:Name={LocalModel}",
        "--Models:Tiers:local:Models:0:Backend=local",
        "--Models:Tiers:local:Models:0:InputPricePer1K=0",
        "--Models:Tiers:local:Models:0:OutputPricePer1K=0",
        "--Models:Tiers:local:Models:0:ContextWindow=8192",
        "--Models:Tiers:local:Models:0:External=false",
        "--Policies:RefreshInterval=00:00:00",
        $"--Models:Embeddings:Models:0:Name={EmbeddingModel}",
        "--Models:Embeddings:Models:0:Backend=fake-openai",
        $"--Models:Embeddings:Models:0:InputPricePer1K={EmbeddingPricePer1K}",
        "--Models:Embeddings:Models:0:Dimensions=64",
        "--Models:Embeddings:Models:0:External=true",
        $"--Savings:Embeddings:BatchWindow={EmbeddingBatchWindow}",

        // Batch jobs run on the paid fake upstream, so their tests can see what was charged.
        "--Savings:BatchPool:Tier=standard",
        "--Savings:BatchPool:PollInterval=00:00:00.100",
        .. extra,
    ];

    public static string BoundAddress(WebApplication app) =>
        app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');

    /// <summary>A fresh app id, valid per <c>ApiKeys.IsValidAppId</c>.</summary>
    public static string NewAppId(string prefix = "t") => $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(40, prefix.Length + 13)];

    public Task<HttpResponseMessage> AdminAsync(HttpMethod method, string path, object? body = null, string? token = AdminToken)
    {
        var request = new HttpRequestMessage(method, path);
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        if (body is not null)
        {
            request.Content = body is string raw
                ? new StringContent(raw, Encoding.UTF8, "application/json")
                : JsonContent.Create(body);
        }

        return Http.SendAsync(request);
    }

    /// <summary>Creates an app with a budget and issues a key; returns the key.</summary>
    public async Task<string> CreateAppWithKeyAsync(
        string appId,
        string[]? allowedTiers = null,
        int requestsPerMinute = 1000,
        long tokensPerDay = 10_000_000,
        decimal budgetLimitUsd = 100m,
        string owner = "tests@example.com")
    {
        var tiers = allowedTiers ?? ["standard", "local"];
        using var created = await AdminAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Test app " + appId,
            owner,
            team = "frontdoor-tests",
            audience = "internal",
            dataClasses = Array.Empty<string>(),
            allowedTiers = tiers,
            defaultTier = tiers[0],
            quotas = new { requestsPerMinute, tokensPerDay },
            budget = new { limitUsd = budgetLimitUsd, period = "day" },

            // The default is a draft, which production keys cannot call; the admin bootstrap publishes at once.
            initialState = "published",
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create app: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return await IssueKeyAsync(appId);
    }

    /// <summary>
    /// Creates a published app on the approvals-bot template (standard tier, owned by author-alice) that decides
    /// travel requests with approver-carol as its approver, and issues a key; returns the key.
    /// </summary>
    public async Task<string> CreateTravelApprovalsAppAsync(string appId, string team, string escalateTo)
    {
        using var created = await AdminAsync(HttpMethod.Post, "admin/apps", new
        {
            appId,
            name = "Travel approvals " + appId,
            owner = AuthorName,
            team,
            audience = "internal",
            dataClasses = Array.Empty<string>(),
            allowedTiers = new[] { "standard" },
            defaultTier = "standard",
            quotas = new { requestsPerMinute = 1000, tokensPerDay = 10_000_000 },
            budget = new { limitUsd = 10m, period = "day" },
            initialState = "published",
            template = "approvals-bot@1.0.0",
            parameters = new Dictionary<string, object>
            {
                ["instructions"] = "Approve travel under 500 EUR with a customer reason; reject anything else.",
                ["approvers"] = new[] { ApproverName },
                ["escalateTo"] = new[] { escalateTo },
            },
        });
        Assert.True(created.StatusCode == HttpStatusCode.Created, $"create app: {(int)created.StatusCode} {await created.Content.ReadAsStringAsync()}");
        return await IssueKeyAsync(appId);
    }

    /// <summary>
    /// The admin body of a published app declaring email and SSN data that stores <paramref name="promptSampleShare"/>
    /// of its calls' prompts, redacted, in the prompt store.
    /// </summary>
    public static object SampledAppBody(string appId, double promptSampleShare = 1.0) => new
    {
        appId,
        name = "Sampled app " + appId,
        owner = "tests@example.com",
        team = "frontdoor-tests",
        audience = "internal",
        dataClasses = new[] { "email", "ssn" },
        allowedTiers = new[] { "standard", "local" },
        defaultTier = "standard",
        quotas = new { requestsPerMinute = 1000, tokensPerDay = 10_000_000 },
        budget = new { limitUsd = 100m, period = "day" },
        initialState = "published",
        promptSampleShare,
    };

    /// <summary>The admin body of a published app allowed standard and premium, default premium, with these savings settings.</summary>
    public static object SavingsAppBody(string appId, object? savings) => new
    {
        appId,
        name = "Savings app " + appId,
        owner = "tests@example.com",
        team = "frontdoor-tests",
        audience = "internal",
        dataClasses = Array.Empty<string>(),
        allowedTiers = new[] { "standard", "premium" },
        defaultTier = "premium",
        quotas = new { requestsPerMinute = 1000, tokensPerDay = 10_000_000 },
        budget = new { limitUsd = 100m, period = "day" },
        initialState = "published",
        savings,
    };

    public async Task<string> IssueKeyAsync(string appId)
    {
        using var issued = await AdminAsync(HttpMethod.Post, $"admin/apps/{appId}/keys", new { label = "tests" });
        Assert.True(issued.StatusCode == HttpStatusCode.Created, $"issue key: {(int)issued.StatusCode} {await issued.Content.ReadAsStringAsync()}");
        using var json = JsonDocument.Parse(await issued.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("apiKey").GetString()!;
    }

    /// <summary>The trace of a real call, once the trace pipeline has stored it (it writes after the answer).</summary>
    public async Task<JsonElement> WaitForTraceAsync(string appId, string requestId)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await AdminAsync(HttpMethod.Get, $"admin/traces/{appId}/{requestId}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
                return json.RootElement.Clone();
            }

            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"GET trace: {(int)response.StatusCode}");
            Assert.True(DateTime.UtcNow < deadline, $"the trace of {appId}/{requestId} was not stored within 30 s");
            await Task.Yield();
        }
    }

    /// <summary>POSTs a raw chat completions body.</summary>
    public Task<HttpResponseMessage> PostChatAsync(string? apiKey, string body, string? requestId = null, string contentType = "application/json")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "v1/chat/completions")
        {
            Content = new StringContent(body, Encoding.UTF8, contentType),
        };
        if (apiKey is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }

        if (requestId is not null)
        {
            request.Headers.Add("X-Request-Id", requestId);
        }

        return Http.SendAsync(request);
    }

    public static string ChatBody(string model, string userText, bool stream = false, int? maxTokens = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["model"] = model,
            ["messages"] = new[] { new { role = "user", content = userText } },
            ["stream"] = stream,
            ["max_tokens"] = maxTokens,
        });
}

[CollectionDefinition(Name)]
public sealed class FrontDoorCollection : ICollectionFixture<FrontDoorFixture>
{
    public const string Name = "front door";
}
