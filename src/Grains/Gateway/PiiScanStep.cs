using MicroApps.Orleans.Pii;

namespace MicroApps.Orleans.Gateway;

/// <summary>
/// Scans the admitted call's messages for PII and records the classes found (never the PII itself), so the policy
/// step can test <c>request.pii</c> and <c>app.data_contains</c>. It runs after admission: a refused call costs no scan.
/// </summary>
public sealed class PiiScanStep : IGovernedCallStep
{
    public ValueTask InvokeAsync(GovernedCallContext context, GovernedCallDelegate next)
    {
        // Findings are kept per message: a redact policy masks them without a second scan.
        var findings = context.Messages.Select(m => PiiScanner.Default.Scan(m.Content)).ToArray();
        var found = PiiScanner.ClassesOf(findings);
        context.PiiFindings = findings;
        context.PiiFound = found;
        context.Decisions.Add(found.Count == 0 ? "pii:none" : $"pii:{string.Join(",", found)}");
        return next(context);
    }
}
