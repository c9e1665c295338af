using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Governance;
using static MicroApps.Orleans.UnitTests.Governance.GateTestData;

namespace MicroApps.Orleans.UnitTests.Governance;

public sealed class RegressionTestRunnerTests
{
    private static GovernedChatResult Answer(string content, int outputTokens = 5, decimal cost = 0.001m) =>
        new(GovernedOutcome.Completed, "r", null, null, null, null, "fake-small", "standard", content, "stop", new TokenUsage(20, outputTokens), cost, At);

    private static Func<RegressionTestCase, IReadOnlyList<ChatTurn>, Task<GovernedChatResult>> Answering(Func<string, GovernedChatResult> answer) =>
        (_, messages) => Task.FromResult(answer(messages[^1].Content));

    [Fact]
    public async Task No_tests_fail_the_gate()
    {
        var report = await RegressionTestRunner.RunAsync([], [], Answering(_ => Answer("x")));

        var gate = RegressionTestRunner.ToGate(report, At);

        Assert.False(gate.Passed);
        Assert.Equal("no regression tests: a promotion requires at least one", gate.Detail);
    }

    [Fact]
    public async Task Passing_tests_pass_the_gate()
    {
        RegressionTestCase[] tests = [Test("greets", "hello there", ("contains", "hello"), ("max_tokens", "10"))];

        var report = await RegressionTestRunner.RunAsync(tests, [], Answering(input => Answer($"echo: {input}")));
        var gate = RegressionTestRunner.ToGate(report, At);

        Assert.True(gate.Passed, gate.Detail);
        Assert.Contains("1 test(s) passed on fake-small", gate.Detail);
        Assert.Equal([0.001m], report.CompletedCallCosts);
    }

    [Fact]
    public async Task A_failing_assertion_fails_the_gate_naming_test_and_assertion()
    {
        RegressionTestCase[] tests =
        [
            Test("greets", "hello there", ("contains", "hello")),
            Test("polite", "hello there", ("contains", "hello"), ("not_contains", "there")),
        ];

        var report = await RegressionTestRunner.RunAsync(tests, [], Answering(input => Answer($"echo: {input}")));
        var gate = RegressionTestRunner.ToGate(report, At);

        Assert.False(gate.Passed);
        Assert.StartsWith("1 of 2 test(s) failed: test 'polite': assertion 2 not_contains \"there\" failed", gate.Detail);
        Assert.DoesNotContain("'greets'", gate.Detail);
        var failed = Assert.Single(report.Runs, r => !r.Passed);
        Assert.False(failed.Assertions[1].Passed);
        Assert.True(failed.Assertions[0].Passed);
    }

    [Fact]
    public async Task A_refused_call_fails_its_test_with_the_error()
    {
        RegressionTestCase[] tests = [Test("t", "hi", ("contains", "hi"))];

        var report = await RegressionTestRunner.RunAsync(tests, [], Answering(_ =>
            GovernedChatResult.Failure(GovernedOutcome.BudgetExceeded, "r", "budget_exceeded", "Budget 'app:x' cannot cover $0.2.")));
        var gate = RegressionTestRunner.ToGate(report, At);

        Assert.False(gate.Passed);
        Assert.Contains("test 't': the governed call was refused or failed: BudgetExceeded (budget_exceeded): Budget 'app:x' cannot cover $0.2.", gate.Detail);
        Assert.Empty(report.CompletedCallCosts);
    }

    [Fact]
    public async Task A_throwing_call_fails_its_test_instead_of_the_run()
    {
        RegressionTestCase[] tests = [Test("boom", "hi", ("contains", "hi")), Test("fine", "hi", ("contains", "hi"))];

        var report = await RegressionTestRunner.RunAsync(tests, [], (test, _) =>
            test.Name == "boom" ? throw new TimeoutException("no answer in 30 s") : Task.FromResult(Answer("hi")));

        Assert.Contains("no answer in 30 s", report.Runs[0].Error);
        Assert.True(report.Runs[1].Passed);
    }

    [Fact]
    public async Task Invalid_tests_fail_without_being_called()
    {
        var calls = 0;
        RegressionTestCase[] tests =
        [
            Test("no-assertions", "hi"),
            Test("bad-kind", "hi", ("sounds_like", "hi")),
            Test("dup", "hi", ("contains", "hi")),
            Test("dup", "ho", ("contains", "ho")),
            Test("empty-input", " ", ("contains", "x")),
        ];

        var report = await RegressionTestRunner.RunAsync(tests, [], (_, _) => { Interlocked.Increment(ref calls); return Task.FromResult(Answer("hi")); });

        Assert.Equal(0, calls);
        Assert.All(report.Runs, r => Assert.False(r.Passed));
        Assert.Contains("no assertions", report.Runs[0].Error);
        Assert.Contains("assertion 1 (sounds_like) is invalid", report.Runs[1].Error);
        Assert.Contains("test names must be unique", report.Runs[2].Error);
        Assert.Contains("no input", report.Runs[4].Error);
    }

    [Fact]
    public async Task Prompts_go_first_as_system_messages_then_the_input()
    {
        IReadOnlyList<ChatTurn>? sent = null;
        RegressionTestCase[] tests = [Test("t", "the input", ("contains", "x"))];

        await RegressionTestRunner.RunAsync(tests, ["prompt one", "prompt two"], (_, messages) => { sent = messages; return Task.FromResult(Answer("x")); });

        Assert.Equal([new ChatTurn("system", "prompt one"), new ChatTurn("system", "prompt two"), new ChatTurn("user", "the input")], sent);
    }

    [Fact]
    public void Request_ids_are_per_version_test_and_submission()
    {
        Assert.Equal("gate-3-greets-2", RegressionTestRunner.RequestId(3, "greets", 2));
        Assert.NotEqual(RegressionTestRunner.RequestId(3, "greets", 2), RegressionTestRunner.RequestId(3, "greets", 3));

        var spaced = RegressionTestRunner.RequestId(1, "says hello", 1);
        var dashed = RegressionTestRunner.RequestId(1, "says-hello", 1);
        Assert.Matches("^gate-1-says-hello~[0-9a-f]{8}-1$", spaced);
        Assert.NotEqual(spaced, dashed);
        Assert.True(RegressionTestRunner.RequestId(1, new string('x', 500), 1).Length <= ChatRequestRules.MaxRequestIdLength);
    }
}
