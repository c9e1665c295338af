using System.Text.Json;
using System.Text.Json.Serialization;
using MicroApps.Orleans.Client.Admin;
using MicroApps.Orleans.Client.AdminConsole;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Client.OpenAI;
using MicroApps.Orleans.Hosting;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Scalar.AspNetCore;

namespace MicroApps.Orleans.Client;

/// <summary>Builds the front door: OpenAI-compatible endpoints, the admin API, health, OpenAPI.</summary>
public static class FrontDoorApplication
{
    /// <summary>
    /// Builds the front door. With <paramref name="configureOrleans"/> null, Orleans is wired from configuration
    /// (<c>FrontDoor:CoHostSilo</c> = true runs a silo in this process, otherwise an Orleans client) together
    /// with telemetry; tests pass their own wiring instead.
    /// </summary>
    public static WebApplication Create(string[] args, Action<WebApplicationBuilder>? configureOrleans = null)
    {
        var builder = WebApplication.CreateBuilder(args);

        builder.Services.AddOptions<FrontDoorOptions>()
            .Bind(builder.Configuration.GetSection(FrontDoorOptions.Section))
            .ValidateDataAnnotations()
            .ValidateOnStart();

        // Read from configuration rather than IOptions: the server is built before options are validated,
        // and a bad value must surface as the one-line validation failure at start, not here.
        builder.WebHost.ConfigureKestrel(kestrel =>
            kestrel.Limits.MaxRequestBodySize =
                long.TryParse(builder.Configuration[$"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.MaxRequestBodyBytes)}"], out var max) && max > 0
                    ? max
                    : FrontDoorOptions.DefaultMaxRequestBodyBytes);

        if (configureOrleans is null)
        {
            if (builder.Configuration.GetValue<bool>($"{FrontDoorOptions.Section}:{nameof(FrontDoorOptions.CoHostSilo)}"))
            {
                builder.AddMicroAppsSilo();
            }
            else
            {
                builder.AddMicroAppsClient();
            }

            builder.AddMicroAppsTelemetry("microapps-frontdoor");
        }
        else
        {
            configureOrleans(builder);
        }

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<ClusterCalls>();
        builder.Services.AddAdminAccess();
        builder.Services.AddAdminConsole();
        builder.Services.AddSingleton<UnhandledFailures>();
        builder.Services.AddProblemDetails();
        builder.Services.AddExceptionHandler<FrontDoorExceptionHandler>();
        builder.Services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
            json.SerializerOptions.TypeInfoResolverChain.Insert(0, OpenAIJsonContext.Default);
        });
        builder.Services.AddHealthChecks().AddCheck<ClusterHealthCheck>("cluster", tags: ["ready"]);
        builder.Services.AddOpenApi();

        var app = builder.Build();

        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains("ready") });
        app.MapOpenApi();
        app.MapScalarApiReference();

        // The Prometheus scrape endpoint, when Telemetry:Prometheus:Enabled (docs/telemetry-otel.md).
        app.MapMicroAppsTelemetry();
        app.MapOpenAIEndpoints();
        Runtime.RuntimeEndpoints.MapRuntimeEndpoints(app);
        app.MapAdminEndpoints();
        app.MapAdminConsole();
        Runtime.AppWorkflowEndpoints.MapAppWorkflowEndpoints(app);
        if (configureOrleans is null)
        {
            // AddMicroAppsSilo and AddMicroAppsClient add the dashboard's services; test wiring does not.
            app.MapDashboard();
        }

        return app;
    }
}
