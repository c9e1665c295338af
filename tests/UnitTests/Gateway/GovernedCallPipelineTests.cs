using MicroApps.Orleans.Gateway;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MicroApps.Orleans.UnitTests.Gateway;

public sealed class GovernedCallPipelineTests
{
    private static GovernedCallContext Context() =>
        new(new GovernedChatRequest("k", "r1", "auto", [new ChatTurn("user", "hi")], ChatParameters.None), "r1", TimeProvider.System, null, CancellationToken.None);

    private sealed class Recording(string name, List<string> log, bool answer = false) : IGovernedCallStep
    {
        public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
        {
            log.Add($"{name}>");
            if (answer)
            {
                context.Fail(GovernedOutcome.Forbidden, name, "stopped here");
                return;
            }

            await next(context);
            log.Add($"<{name}");
        }
    }

    [Fact]
    public async Task Steps_run_in_order_around_each_other_and_a_step_can_end_the_call()
    {
        var log = new List<string>();
        var pipeline = new GovernedCallPipeline([new Recording("a", log), new Recording("b", log, answer: true), new Recording("c", log)]);
        var context = Context();

        await pipeline.InvokeAsync(context);

        Assert.Equal(["a>", "b>", "<a"], log);
        Assert.Equal((GovernedOutcome.Forbidden, "b"), (context.Result!.Outcome, context.Result.ErrorCode));
    }

    [Fact]
    public async Task A_pipeline_without_a_terminal_step_fails_the_call_instead_of_hanging()
    {
        var context = Context();

        await new GovernedCallPipeline([new Recording("a", [])]).InvokeAsync(context);

        Assert.Equal(GovernedOutcome.BackendFailed, context.Result!.Outcome);
    }

    private sealed class ExtraStep : IGovernedCallStep
    {
        public ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next) => next(context);
    }

    [Fact]
    public void The_registered_steps_run_trace_admit_pii_policy_route_budget_cache_backend_and_new_steps_slot_in()
    {
        var services = new ServiceCollection();
        services.AddMicroAppsGrains(new ConfigurationBuilder().Build());
        services.AddGovernedCallStep<ExtraStep>(before: typeof(RouteStep));

        var order = services.Where(d => d.ServiceType == typeof(IGovernedCallStep)).Select(d => d.ImplementationType!.Name);

        Assert.Equal(
            [nameof(TraceStep), nameof(AuthenticateAndAdmitStep), nameof(PiiScanStep), nameof(PolicyStep), nameof(ExtraStep), nameof(RouteStep), nameof(MicroApps.Orleans.Savings.CostAwareRouteStep), nameof(BudgetStep), nameof(CacheStep), nameof(BackendStep)],
            order);
        Assert.Throws<InvalidOperationException>(() => services.AddGovernedCallStep<SecondStep>(before: typeof(string)));
    }

    private sealed class SecondStep : IGovernedCallStep
    {
        public ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next) => next(context);
    }

    [Fact]
    public void The_prompt_hash_ignores_whitespace_but_not_content()
    {
        var a = TraceStep.PromptHash([new ChatTurn("user", "Invoice  42\n")]);

        Assert.Equal(a, TraceStep.PromptHash([new ChatTurn("User", " Invoice 42")]));
        Assert.NotEqual(a, TraceStep.PromptHash([new ChatTurn("user", "Invoice 43")]));
        Assert.DoesNotContain("Invoice", a);
    }
}
