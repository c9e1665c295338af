using MicroApps.Orleans.Backends;
using MicroApps.Orleans.Connectors;
using MicroApps.Orleans.Cost;
using MicroApps.Orleans.Embeddings;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Tiers;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Runtime;

namespace MicroApps.Orleans;

/// <summary>Registers what the grains need in a silo: options, backends, tokenizer, pipeline steps.</summary>
public static class MicroAppsGrainsServiceCollectionExtensions
{
    /// <summary>
    /// Registers options (validated at start), the model catalog, backends, the token estimator, the trace
    /// sink, metrics and the governed-call steps in their order. Hosts and tests add chat clients that
    /// configuration cannot describe as keyed services: <c>services.AddKeyedSingleton&lt;IChatClient&gt;("name", client)</c>
    /// makes <c>name</c> a backend that tier models may name.
    /// </summary>
    public static IServiceCollection AddMicroAppsGrains(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddKeyedSingleton(PlatformClock.Key, TimeProvider.System);
        services.AddOptions<Budgets.BudgetOptions>().Bind(configuration.GetSection(Budgets.BudgetOptions.Section));
        services.AddOptions<Alerts.AlertOptions>().Bind(configuration.GetSection(Alerts.AlertOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Alerts.AlertOptions>, Alerts.AlertOptionsValidator>());
        // The same cap as the per-app series of the gateway metrics (Telemetry:Metrics:PerAppSeriesCap, validated there).
        services.TryAddSingleton(sp => new Budgets.BudgetMetrics(
            sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(),
            Math.Max(0, sp.GetRequiredService<IOptions<GatewayMetricsOptions>>().Value.PerAppSeriesCap)));
        services.TryAddSingleton<Alerts.IAlertSender, Alerts.AlertSender>();
        services.AddMicroAppsConnectors(configuration);
        services.AddOptions<Runtime.RuntimeOptions>().Bind(configuration.GetSection(Runtime.RuntimeOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Runtime.RuntimeOptions>, Runtime.RuntimeOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runtime.ITemplateRunner, Runtime.SummarizerRunner>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runtime.ITemplateRunner, Runtime.ChatAssistantRunner>());
        services.AddOptions<Runtime.ApprovalWorkflowOptions>().Bind(configuration.GetSection(Runtime.ApprovalWorkflowOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Runtime.ApprovalWorkflowOptions>, Runtime.ApprovalWorkflowOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Runtime.ITemplateRunner, Runtime.ApprovalsBotRunner>());
        services.AddOptions<Governance.PromotionGateOptions>().Bind(configuration.GetSection(Governance.PromotionGateOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Governance.PromotionGateOptions>, Governance.PromotionGateOptionsValidator>());
        services.AddOptions<Audit.AuditOptions>().Bind(configuration.GetSection(Audit.AuditOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Audit.AuditOptions>, Audit.AuditOptionsValidator>());

        services.AddOptions<ModelCatalogOptions>()
            .Bind(configuration.GetSection(ModelCatalogOptions.Section))
            .PostConfigure(options => options.ApplyDefaults())
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<ModelCatalogOptions>, ModelCatalogOptionsValidator>());
        services.AddOptions<GatewayOptions>()
            .Bind(configuration.GetSection(GatewayOptions.Section))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>());
        services.AddOptions<Caching.NearDuplicateOptions>().Bind(configuration.GetSection(Caching.NearDuplicateOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Caching.NearDuplicateOptions>, Caching.NearDuplicateOptionsValidator>());
        services.AddOptions<Caching.SingleFlightOptions>().Bind(configuration.GetSection(Caching.SingleFlightOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Caching.SingleFlightOptions>, Caching.SingleFlightOptionsValidator>());
        services.AddOptions<Apps.LifecycleOptions>().Bind(configuration.GetSection(Apps.LifecycleOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Apps.LifecycleOptions>, Apps.LifecycleOptionsValidator>());
        services.AddCostDashboard(configuration);
        services.AddOptions<Catalog.RetirementOptions>().Bind(configuration.GetSection(Catalog.RetirementOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Catalog.RetirementOptions>, Catalog.RetirementOptionsValidator>());

        services.AddOptions<PolicyOptions>()
            .Bind(configuration.GetSection(PolicyOptions.Section))
            .ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<PolicyOptions>, PolicyOptionsValidator>());
        services.TryAddSingleton<PolicySetCache>();

        services.TryAddSingleton<TokenEstimator>(_ => TokenEstimator.Default);
        services.TryAddSingleton(sp => new ModelCatalog(sp.GetRequiredService<IOptions<ModelCatalogOptions>>()));
        services.TryAddSingleton<TierRouteCache>();
        services.TryAddSingleton(sp => new LocalExtractiveSummarizer(sp.GetRequiredService<TokenEstimator>(), sp.GetRequiredKeyedService<TimeProvider>(PlatformClock.Key)));
        services.TryAddSingleton<IModelBackends, ModelBackends>();
        services.TryAddSingleton<Telemetry.ITraceStore, Telemetry.InMemoryTraceStore>();
        services.AddOptions<Telemetry.TraceWriterOptions>().Bind(configuration.GetSection(Telemetry.TraceWriterOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Telemetry.TraceWriterOptions>, Telemetry.TraceWriterOptionsValidator>());
        services.TryAddSingleton<InMemoryTraceSink>();
        services.TryAddSingleton<Telemetry.TraceWriter>();

        // Every call's event goes to the ring of recent events and to the durable writer (which does nothing
        // when Telemetry:Traces:Enabled is false); the governed call awaits both before it answers.
        if (!services.Any(d => d.ServiceType == typeof(ITraceSink)))
        {
            services.AddSingleton<ITraceSink>(sp => sp.GetRequiredService<InMemoryTraceSink>());
            services.AddSingleton<ITraceSink>(sp => sp.GetRequiredService<Telemetry.TraceWriter>());
            services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Telemetry.TraceWriterLifecycle>();
        }

        services.AddOptions<GatewayMetricsOptions>().Bind(configuration.GetSection(GatewayMetricsOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GatewayMetricsOptions>, GatewayMetricsOptionsValidator>());
        services.TryAddSingleton(sp => new GatewayMetrics(sp.GetService<System.Diagnostics.Metrics.IMeterFactory>(), sp.GetRequiredService<IOptions<GatewayMetricsOptions>>()));

        services.AddOptions<Savings.SamplingOptions>().Bind(configuration.GetSection(Savings.SamplingOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Savings.SamplingOptions>, Savings.SamplingOptionsValidator>());
        services.AddOptions<Savings.JudgeOptions>().Bind(configuration.GetSection(Savings.JudgeOptions.Section));
        services.AddOptions<Savings.ShadowOptions>().Bind(configuration.GetSection(Savings.ShadowOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Savings.ShadowOptions>, Savings.ShadowOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Savings.IShadowScorer, Savings.OverlapScorer>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Savings.IShadowScorer, Savings.JudgeScorer>());
        services.TryAddSingleton<Savings.ShadowScorers>();
        services.TryAddSingleton<Savings.ShadowEvaluator>();
        services.TryAddSingleton<Savings.IShadowEvaluator>(sp => sp.GetRequiredService<Savings.ShadowEvaluator>());
        services.AddMicroAppsEmbeddings(configuration);
        services.AddOptions<Savings.SavingsRoutingOptions>().Bind(configuration.GetSection(Savings.SavingsRoutingOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Savings.SavingsRoutingOptions>, Savings.SavingsRoutingOptionsValidator>());
        services.AddOptions<Savings.SavingsRoutingSamplingOptions>().Bind(configuration.GetSection(Savings.SavingsRoutingSamplingOptions.Section));
        services.AddOptions<Batch.BatchPoolOptions>().Bind(configuration.GetSection(Batch.BatchPoolOptions.Section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<Batch.BatchPoolOptions>, Batch.BatchPoolOptionsValidator>());

        // The order of these lines is the order of the governed call. Admission (key, lifecycle and quotas in one
        // grain call) comes before the PII scan and the policies, so quotas count a call before policies judge it.
        services.AddGovernedCallStep<TraceStep>();
        services.AddGovernedCallStep<AuthenticateAndAdmitStep>();
        services.AddGovernedCallStep<PiiScanStep>();
        services.AddGovernedCallStep<PolicyStep>();
        services.AddGovernedCallStep<RouteStep>();
        services.AddGovernedCallStep<Savings.CostAwareRouteStep>();
        services.AddGovernedCallStep<BudgetStep>();
        services.AddGovernedCallStep<CacheStep>();
        services.AddGovernedCallStep<BackendStep>();
        services.TryAddSingleton<GovernedCallPipeline>();
        services.TryAddSingleton<Governance.EgressGuard>();
        return services;
    }

    /// <summary>
    /// Adds a governed-call step, at the end or just before the step of type <paramref name="before"/>
    /// (for example a PII scan before <see cref="RouteStep"/>). A step type is registered once.
    /// </summary>
    public static IServiceCollection AddGovernedCallStep<TStep>(this IServiceCollection services, Type? before = null)
        where TStep : class, IGovernedCallStep
    {
        if (services.Any(d => d.ServiceType == typeof(IGovernedCallStep) && d.ImplementationType == typeof(TStep)))
        {
            return services;
        }

        var descriptor = ServiceDescriptor.Singleton<IGovernedCallStep, TStep>();
        var index = before is null
            ? -1
            : services.ToList().FindIndex(d => d.ServiceType == typeof(IGovernedCallStep) && d.ImplementationType == before);
        if (before is not null && index < 0)
        {
            throw new InvalidOperationException($"Governed-call step {before.Name} is not registered, so {typeof(TStep).Name} cannot be placed before it.");
        }

        if (index < 0)
        {
            services.Add(descriptor);
        }
        else
        {
            services.Insert(index, descriptor);
        }

        return services;
    }
}
