using System.Security.Cryptography;
using System.Text;
using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Runtime;

namespace MicroApps.Orleans.Governance;

/// <summary>What the regression tests of a version did: each test's run.</summary>
public sealed record RegressionReport(IReadOnlyList<RegressionTestRun> Runs)
{
    /// <summary>Costs of the calls that completed, for the cost estimate.</summary>
    public IReadOnlyList<decimal> CompletedCallCosts =>
        Runs.Where(r => r.Error is null).Select(r => r.CostUsd).ToList();
}

/// <summary>
/// The <c>regression_tests</c> gate: each test's input is sent after the app's pinned prompts (as system
/// messages) through the governed call, and every assertion is checked on the answer, its usage and its cost.
/// The call itself is a delegate so the rules can be tested without a cluster.
/// </summary>
public static class RegressionTestRunner
{
    public const string NoTests = "no regression tests: a promotion requires at least one";

    /// <summary>
    /// <c>gate-{version}-{test}-{submission}</c>: one id per test per submission, so a retried call is charged
    /// once. Test names are reduced to request-id characters; a name that had to change gets a hash suffix so two
    /// tests never share an id.
    /// </summary>
    public static string RequestId(int version, string testName, int submission)
    {
        var safe = new string((testName ?? "").Select(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '-').ToArray());
        if (!string.Equals(safe, testName, StringComparison.Ordinal) || safe.Length > 80)
        {
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(testName ?? "")))[..8];
            safe = $"{safe[..Math.Min(safe.Length, 80)]}~{hash}";
        }

        return $"gate-{version}-{safe}-{submission}";
    }

    /// <summary>
    /// For an app with a template, the gate must test what its users get: each test input is run through the template
    /// (<see cref="IAppRuntimeGrain"/>, under the gate key, so the version under test is what runs) and the run's output,
    /// usage and cost are judged. Null for an app without a template, whose tests stay chat calls.
    /// </summary>
    public static Func<RegressionTestCase, IReadOnlyList<ChatTurn>, Task<GovernedChatResult>>? ThroughTemplate(
        IGrainFactory grains, string appId, AppManifest manifest, string gateKey, int version, int submission, TimeProvider time)
    {
        if (manifest.Template is null)
        {
            return null;
        }

        var runtime = grains.GetGrain<IAppRuntimeGrain>(0);
        return async (test, _) =>
        {
            var runId = RunId(RequestId(version, test.Name, submission));
            return AsChatResult(await runtime.RunAsync(appId, new AppRunRequest(gateKey, runId, test.Input)), time.GetUtcNow());
        };
    }

    /// <summary>A gate request id as a run id (at most <see cref="RunSetup.MaxRunIdLength"/> characters; a longer one keeps a hash of the rest).</summary>
    public static string RunId(string requestId) => RunSetup.Fit(requestId, RunSetup.MaxRunIdLength);

    /// <summary>A run's result as the governed-call result the assertions are checked on.</summary>
    public static GovernedChatResult AsChatResult(AppRunResult run, DateTimeOffset at)
    {
        if (!run.IsSuccess)
        {
            var outcome = run.Outcome switch
            {
                RunOutcome.Unauthorized => GovernedOutcome.Unauthorized,
                RunOutcome.Forbidden or RunOutcome.ConnectorRefused => GovernedOutcome.Forbidden,
                RunOutcome.QuotaExceeded => GovernedOutcome.QuotaExceeded,
                RunOutcome.BudgetExceeded => GovernedOutcome.BudgetExceeded,
                RunOutcome.BackendFailed or RunOutcome.ConnectorFailed => GovernedOutcome.BackendFailed,
                _ => GovernedOutcome.InvalidRequest,
            };
            return GovernedChatResult.Failure(outcome, run.RunId, run.ErrorCode ?? "run_failed", $"the run failed: {run.ErrorMessage}", run.ErrorParam, run.RetryAfter);
        }

        var model = run.Steps.LastOrDefault(s => s.Kind == "model" && s.Model.Length > 0)?.Model ?? "";
        return new GovernedChatResult(GovernedOutcome.Completed, run.RunId, null, null, null, null, model, "", run.Output, "stop", run.Usage, run.CostUsd, at);
    }

    /// <summary>The conversation a test sends: the prompts as system messages, then the test input.</summary>
    public static IReadOnlyList<ChatTurn> Messages(IReadOnlyList<string> promptTexts, RegressionTestCase test) =>
        [.. promptTexts.Select(t => new ChatTurn("system", t)), new ChatTurn("user", test.Input)];

    /// <summary>What is wrong with a test before it runs, or null when it can run.</summary>
    public static string? Validate(RegressionTestCase test, IReadOnlyCollection<string> duplicateNames)
    {
        if (string.IsNullOrWhiteSpace(test.Name))
        {
            return "the test has no name";
        }

        if (duplicateNames.Contains(test.Name))
        {
            return $"another test is also named '{test.Name}'; test names must be unique";
        }

        if (string.IsNullOrWhiteSpace(test.Input))
        {
            return "the test has no input";
        }

        if (test.Assertions is null || test.Assertions.Count == 0)
        {
            return "the test has no assertions, so it cannot fail";
        }

        for (var i = 0; i < test.Assertions.Count; i++)
        {
            var assertion = test.Assertions[i];
            if (assertion is null)
            {
                return $"assertion {i + 1} is empty";
            }

            if (RegressionAssertions.Validate(assertion) is { } invalid)
            {
                return $"assertion {i + 1} ({assertion.Kind}) is invalid: {invalid}";
            }
        }

        return null;
    }

    /// <summary>Runs every valid test through <paramref name="call"/>, at most <paramref name="parallelism"/> at once.</summary>
    public static async Task<RegressionReport> RunAsync(
        IReadOnlyList<RegressionTestCase>? tests,
        IReadOnlyList<string> promptTexts,
        Func<RegressionTestCase, IReadOnlyList<ChatTurn>, Task<GovernedChatResult>> call,
        int parallelism = 4)
    {
        tests ??= [];
        var duplicates = tests.Where(t => t is not null).GroupBy(t => t.Name ?? "", StringComparer.Ordinal)
            .Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);
        var runs = new RegressionTestRun[tests.Count];
        using var gate = new SemaphoreSlim(Math.Max(1, parallelism));
        await Task.WhenAll(tests.Select(async (test, index) =>
        {
            if (test is null)
            {
                runs[index] = Failed($"test {index + 1}", "the test is empty");
                return;
            }

            if (Validate(test, duplicates) is { } invalid)
            {
                runs[index] = Failed(test.Name ?? $"test {index + 1}", invalid);
                return;
            }

            await gate.WaitAsync();
            try
            {
                runs[index] = Judge(test, await call(test, Messages(promptTexts, test)));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                runs[index] = Failed(test.Name, $"the call failed: {ex.Message}");
            }
            finally
            {
                gate.Release();
            }
        }));
        return new RegressionReport(runs);
    }

    /// <summary>Checks every assertion of a test against the governed call's answer.</summary>
    public static RegressionTestRun Judge(RegressionTestCase test, GovernedChatResult result)
    {
        if (!result.IsSuccess)
        {
            return new RegressionTestRun(
                test.Name, false, $"the governed call was refused or failed: {result.Outcome} ({result.ErrorCode}): {result.ErrorMessage}",
                result.Model, result.Usage, result.CostUsd, []);
        }

        var assertions = new List<AssertionRun>(test.Assertions.Count);
        for (var i = 0; i < test.Assertions.Count; i++)
        {
            var assertion = test.Assertions[i];
            AssertionResult checkedResult;
            try
            {
                checkedResult = RegressionAssertions.Check(assertion, result.Content, result.Usage, result.CostUsd);
            }
            catch (Exception ex)
            {
                checkedResult = new AssertionResult(false, $"could not be checked: {ex.Message}");
            }

            assertions.Add(new AssertionRun(i, assertion.Kind, assertion.Value, checkedResult.Passed, checkedResult.Detail));
        }

        return new RegressionTestRun(test.Name, assertions.All(a => a.Passed), null, result.Model, result.Usage, result.CostUsd, assertions);
    }

    /// <summary>The gate result: passes only when there is at least one test and every test passed.</summary>
    public static GateResult ToGate(RegressionReport report, DateTimeOffset at)
    {
        if (report.Runs.Count == 0)
        {
            return new GateResult(GateNames.RegressionTests, false, NoTests, at);
        }

        var failed = report.Runs.Where(r => !r.Passed).ToList();
        if (failed.Count == 0)
        {
            var models = report.Runs.Select(r => r.Model).Where(m => m.Length > 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal);
            return new GateResult(GateNames.RegressionTests, true, $"{report.Runs.Count} test(s) passed on {string.Join(", ", models)}", at);
        }

        return new GateResult(
            GateNames.RegressionTests,
            false,
            $"{failed.Count} of {report.Runs.Count} test(s) failed: {string.Join("; ", failed.Select(Describe))}",
            at);
    }

    /// <summary>A failing test in one line: why it could not run, or each assertion that did not hold.</summary>
    public static string Describe(RegressionTestRun run) =>
        run.Error is not null
            ? $"test '{run.Name}': {run.Error}"
            : $"test '{run.Name}': " + string.Join(", ", run.Assertions.Where(a => !a.Passed)
                .Select(a => $"assertion {a.Index + 1} {a.Kind} {Quote(a.Value)} failed ({a.Detail})"));

    /// <summary>A gate that could not run its tests at all (for example a pinned prompt is missing).</summary>
    public static GateResult NotRun(string why, DateTimeOffset at) =>
        new(GateNames.RegressionTests, false, $"regression tests not run: {why}", at);

    private static RegressionTestRun Failed(string name, string error) =>
        new(name, false, error, "", TokenUsage.Zero, 0m, []);

    private static string Quote(string? value)
    {
        value ??= "";
        return value.Length <= 80 ? $"\"{value}\"" : $"\"{value[..77]}...\"";
    }
}
