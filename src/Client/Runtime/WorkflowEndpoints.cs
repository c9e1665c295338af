using MicroApps.Orleans.Client.Admin;
using MicroApps.Orleans.Client.Infrastructure;
using MicroApps.Orleans.Client.OpenAI;
using MicroApps.Orleans.Runtime;

namespace MicroApps.Orleans.Client.Runtime;

/// <summary>
/// <c>GET /apps/{appId}/workflows/{workflowId}</c>: an approvals-bot workflow as the app's callers follow it, with the
/// app's key (production or test), errors in OpenAI's JSON like <c>/v1</c>. The key must be the app's own.
/// </summary>
internal static class AppWorkflowEndpoints
{
    public static IEndpointRouteBuilder MapAppWorkflowEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/apps/{appId}/workflows/{workflowId}", GetAsync)
            .WithTags("Runtime")
            .WithName("GetAppWorkflow")
            .WithSummary("The state of a workflow the app's approvals-bot run started: pending, escalated, approved, rejected or timed_out.")
            .Produces<WorkflowView>()
            .ProducesOpenAIErrors(StatusCodes.Status401Unauthorized, StatusCodes.Status404NotFound);
        return endpoints;
    }

    internal static async Task GetAsync(string appId, string workflowId, HttpContext context, IGrainFactory grains, ClusterCalls cluster)
    {
        if (await AppKeyCheck.AuthenticateAsync(context, grains, cluster) is not { } app)
        {
            return;
        }

        // Another app's key learns nothing about this app's workflows, not even whether they exist.
        if (app.AppId != appId || !ApprovalWorkflows.IsValidId(workflowId))
        {
            await NotFoundAsync(context, appId, workflowId);
            return;
        }

        var workflow = grains.GetGrain<IApprovalWorkflowGrain>(ApprovalWorkflows.Key(appId, workflowId));
        var view = await cluster.RunAsync(_ => new ValueTask<ApprovalWorkflowView?>(workflow.GetAsync()), context.RequestAborted);
        if (view is null)
        {
            await NotFoundAsync(context, appId, workflowId);
            return;
        }

        await TypedResults.Ok(WorkflowView.From(view)).ExecuteAsync(context);
    }

    private static Task NotFoundAsync(HttpContext context, string appId, string workflowId) =>
        OpenAIErrors.WriteAsync(context, StatusCodes.Status404NotFound,
            $"No workflow '{workflowId}' of app '{appId}' for this key.", OpenAIErrors.InvalidRequest, param: "workflowId", code: "workflow_not_found");
}
