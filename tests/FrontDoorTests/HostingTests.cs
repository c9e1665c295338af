using System.Net;
using System.Text.Json;

namespace MicroApps.Orleans.FrontDoorTests;

[Collection(FrontDoorCollection.Name)]
public sealed class HostingTests(FrontDoorFixture fixture)
{
    [Fact]
    public async Task OpenAPI_document_describes_the_openai_and_admin_endpoints()
    {
        using var response = await fixture.Http.GetAsync("openapi/v1.json");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        var paths = json.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/v1/chat/completions", out _));
        Assert.True(paths.TryGetProperty("/v1/models", out _));
        Assert.True(paths.TryGetProperty("/admin/apps", out _));
        Assert.True(paths.TryGetProperty("/admin/budgets/{budgetId}", out _));
    }

    [Fact]
    public async Task Scalar_ui_is_served()
    {
        using var response = await fixture.Http.GetAsync("scalar/v1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Live_and_ready_are_healthy_when_the_cluster_answers()
    {
        using var live = await fixture.Http.GetAsync("health/live");
        using var ready = await fixture.Http.GetAsync("health/ready");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Equal("Healthy", await ready.Content.ReadAsStringAsync());
    }
}
