using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Policies;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Parses the key, checks the request's shape, estimates its tokens and asks the app grain to admit it
/// (key, lifecycle and quotas in one call). Malformed requests are refused before admission so they do
/// not count against the app's quota. After the call, the app's token count is corrected to the real usage.
/// The active policy set is read here (from the per-silo cache) so its <c>quotas:</c> travel with the admission;
/// quotas therefore count a call before its policies are evaluated, and a policy-blocked call has used one request.
/// </summary>
public sealed class AuthenticateAndAdmitStep(IGrainFactory grains, TokenEstimator tokens, IOptions<GatewayOptions> options, PolicySetCache policies) : IGovernedCallStep
{
    public async ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        var request = context.Request;
        if (!ApiKeys.TryParse(request.ApiKey, out var appId, out var keyId, out var secret))
        {
            context.Fail(GovernedOutcome.Unauthorized, "invalid_api_key", AppAdmission.MalformedKeyMessage);
            return;
        }

        context.AppId = appId;
        if (Validate(context.RequestId, request) is { } invalid)
        {
            context.Fail(GovernedOutcome.InvalidRequest, "invalid_request", invalid.Message, invalid.Param);
            return;
        }

        context.InputTokens = tokens.CountMessages(request.Messages);
        context.ReservedOutputTokens = request.Parameters.MaxTokens ?? options.Value.DefaultMaxOutputTokens;
        long estimate = context.InputTokens + context.ReservedOutputTokens;

        var app = grains.GetGrain<IMicroAppGrain>(appId);
        // PolicyStep.StickyKey: the request's user, else its request id (keeps a caller on one side of a canary).
        var policySet = await policies.GetAsync();
        context.PolicySet = policySet;
        var admission = await app.AdmitAsync(new AdmissionRequest(keyId, secret, estimate, PolicyStep.StickyKey(context), policySet.QuotasFor(appId)));
        context.Decisions.Add($"admit:{admission.Outcome}");
        if (!admission.IsAdmitted || admission.Profile is null)
        {
            var (outcome, code, message, retryAfter) = AppAdmission.Refusal(admission);
            context.Fail(outcome, code, message, retryAfter: retryAfter);
            return;
        }

        context.App = admission.Profile;
        try
        {
            await next(context);
        }
        finally
        {
            // Nothing was used by refusals and cache hits.
            await AppAdmission.RecordUsageAsync(app, admission.Profile, estimate, context.CacheHit ? 0 : context.Usage.TotalTokens);
        }
    }

    private static (string Message, string Param)? Validate(string requestId, GovernedChatRequest request)
    {
        if (requestId.Length > ChatRequestRules.MaxRequestIdLength)
        {
            return ($"The request id is longer than {ChatRequestRules.MaxRequestIdLength} characters.", "request_id");
        }

        if (request.Messages is null || request.Messages.Count == 0)
        {
            return ("messages must hold at least one message.", "messages");
        }

        for (var i = 0; i < request.Messages.Count; i++)
        {
            var message = request.Messages[i];
            if (message is null || !ChatRequestRules.Roles.Contains(message.Role ?? ""))
            {
                return ($"messages[{i}].role must be one of {ChatRequestRules.RolesText}.", "messages");
            }

            if (message.Content is null)
            {
                return ($"messages[{i}].content is missing.", "messages");
            }
        }

        var parameters = request.Parameters;
        if (parameters.MaxTokens is <= 0)
        {
            return ($"max_tokens must be positive, got {parameters.MaxTokens}.", "max_tokens");
        }

        if (parameters.Temperature is { } t && !(t >= ChatRequestRules.MinTemperature && t <= ChatRequestRules.MaxTemperature))
        {
            return ($"temperature must be between {ChatRequestRules.MinTemperature} and {ChatRequestRules.MaxTemperature}, got {t}.", "temperature");
        }

        if (parameters.TopP is { } p && !(p >= ChatRequestRules.MinTopP && p <= ChatRequestRules.MaxTopP))
        {
            return ($"top_p must be between {ChatRequestRules.MinTopP} and {ChatRequestRules.MaxTopP}, got {p}.", "top_p");
        }

        if (parameters.Stop is { Count: > ChatRequestRules.MaxStopSequences })
        {
            return ($"stop holds at most {ChatRequestRules.MaxStopSequences} sequences, got {parameters.Stop.Count}.", "stop");
        }

        return null;
    }
}
