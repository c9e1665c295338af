using MicroApps.Orleans.Apps;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// What every governed call does around the app grain's admission, chat (<see cref="AuthenticateAndAdmitStep"/>) and
/// embeddings alike: the refusal a caller is answered with, and the quota correction once the call is done.
/// </summary>
public static class AppAdmission
{
    public const string MalformedKeyMessage = "The API key is missing or malformed; app keys look like mak.{appId}.{keyId}.{secret}.";

    /// <summary>The outcome, error code, message and retry hint a refused admission is answered with.</summary>
    public static (GovernedOutcome Outcome, string Code, string Message, TimeSpan? RetryAfter) Refusal(Admission admission)
    {
        var (outcome, code) = admission.Outcome switch
        {
            AdmissionOutcome.UnknownApp or AdmissionOutcome.InvalidKey => (GovernedOutcome.Unauthorized, "invalid_api_key"),
            AdmissionOutcome.RevokedKey => (GovernedOutcome.Unauthorized, "revoked_api_key"),
            AdmissionOutcome.Suspended => (GovernedOutcome.Forbidden, "app_suspended"),
            AdmissionOutcome.NotPublished => (GovernedOutcome.Forbidden, "app_not_published"),
            AdmissionOutcome.RequestRateExceeded => (GovernedOutcome.QuotaExceeded, "rate_limit_exceeded"),
            AdmissionOutcome.TokenQuotaExceeded => (GovernedOutcome.QuotaExceeded, "token_quota_exceeded"),
            _ => (GovernedOutcome.Unauthorized, "admission_refused"),
        };
        var message = string.IsNullOrEmpty(admission.Message) ? $"The call was not admitted ({admission.Outcome})." : admission.Message;
        return (outcome, code, message, admission.RetryAfter);
    }

    /// <summary>
    /// The quota counted the estimate; this corrects it to what was really used. Only production calls: test keys have
    /// their own window, gate keys none.
    /// </summary>
    public static Task RecordUsageAsync(IMicroAppGrain app, AppProfile admitted, long estimate, long used) =>
        admitted.Channel == ReleaseChannel.Test ? Task.CompletedTask : app.RecordUsageAsync(estimate, used);
}
