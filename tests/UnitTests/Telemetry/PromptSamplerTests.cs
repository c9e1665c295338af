using MicroApps.Orleans.Apps;
using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Pii;
using MicroApps.Orleans.Telemetry;
using Microsoft.Extensions.Time.Testing;

namespace MicroApps.Orleans.UnitTests.Telemetry;

public sealed class PromptSamplerTests
{
    /// <summary>One value of every PII class, each one the scanner finds on its own (checked by the first test).</summary>
    public static readonly IReadOnlyList<(string Class, string Value, string Text)> PiiExamples =
    [
        (PiiClasses.Email, "ann.lee@example.com", "Please contact ann.lee@example.com about the renewal."),
        (PiiClasses.Phone, "(415) 555-0132", "Call me at (415) 555-0132 after lunch."),
        (PiiClasses.Ssn, "078-05-1120", "SSN: 078-05-1120"),
        (PiiClasses.CardNumber, "4111 1111 1111 1111", "Card 4111 1111 1111 1111 was declined."),
        (PiiClasses.Iban, "GB29NWBK60161331926819", "Please wire to GB29NWBK60161331926819."),
        (PiiClasses.IpAddress, "192.168.1.24", "Server 192.168.1.24 is down."),
    ];

    [Fact]
    public void The_examples_cover_every_pii_class_and_the_scanner_finds_each()
    {
        Assert.Equal(PiiClasses.All.Order(), PiiExamples.Select(e => e.Class).Order());
        foreach (var (cls, value, text) in PiiExamples)
        {
            var finding = Assert.Single(PiiScanner.Default.Scan(text));
            Assert.Equal(cls, finding.Class);
            Assert.Equal(value, text.Substring(finding.Start, finding.Length));
        }
    }

    [Fact]
    public void Share_zero_never_samples()
    {
        Assert.DoesNotContain(Ids(2000), id => PromptSampler.IsSampled("app-a", id, 0));
        Assert.False(PromptSampler.IsSampled("app-a", "r1", double.NaN));
        Assert.False(PromptSampler.IsSampled("app-a", "r1", -0.5));
    }

    [Fact]
    public void Share_one_always_samples()
    {
        Assert.All(Ids(2000), id => Assert.True(PromptSampler.IsSampled("app-a", id, 1)));
    }

    [Fact]
    public void Share_of_three_tenths_samples_about_thirty_percent_and_the_same_ids_every_time()
    {
        var ids = Ids(10_000);
        var sampled = ids.Where(id => PromptSampler.IsSampled("app-a", id, 0.3)).ToList();

        // Binomial(10000, 0.3): sd ≈ 46, so ±300 is more than 6 sd.
        Assert.InRange(sampled.Count, 2700, 3300);
        Assert.Equal(sampled, ids.Where(id => PromptSampler.IsSampled("app-a", id, 0.3)).ToList());

        // A bigger share keeps every id a smaller share sampled (the position is fixed per id).
        Assert.All(sampled, id => Assert.True(PromptSampler.IsSampled("app-a", id, 0.5)));
    }

    [Fact]
    public void Sampling_depends_on_the_app_as_well_as_the_request_id()
    {
        var ids = Ids(2000);
        var a = ids.Where(id => PromptSampler.IsSampled("app-a", id, 0.5)).ToHashSet();
        var b = ids.Where(id => PromptSampler.IsSampled("app-b", id, 0.5)).ToHashSet();
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void Capture_returns_null_for_an_app_that_did_not_opt_in_or_a_call_without_an_admitted_app()
    {
        Assert.Null(PromptSampler.Capture(Context(share: 0, "hello", "hi")));
        var notAdmitted = Context(share: 1, "hello", "hi");
        notAdmitted.App = null;
        Assert.Null(PromptSampler.Capture(notAdmitted));
    }

    [Fact]
    public void Capture_redacts_every_pii_class_in_prompt_and_response_and_names_the_classes()
    {
        var prompt = string.Join(" ", PiiExamples.Select(e => e.Text));
        var response = "Noted: " + string.Join(", ", PiiExamples.Select(e => e.Text));
        var context = Context(share: 1, prompt, response);

        var sample = PromptSampler.Capture(context);

        Assert.NotNull(sample);
        Assert.Equal("app-a", sample.AppId);
        Assert.Equal(context.RequestId, sample.RequestId);
        Assert.Equal("team-a", sample.Team);
        Assert.Equal("gpt-test", sample.Model);
        Assert.Equal(PiiClasses.All.Order(), sample.PiiClasses.Order());
        foreach (var (cls, value, _) in PiiExamples)
        {
            Assert.DoesNotContain(value, sample.RedactedPrompt);
            Assert.DoesNotContain(value, sample.RedactedResponse);
            Assert.Contains($"[REDACTED:{cls}]", sample.RedactedPrompt);
            Assert.Contains($"[REDACTED:{cls}]", sample.RedactedResponse);
        }

        // What is not PII stays searchable.
        Assert.StartsWith("system: You are terse.\nuser: Please contact [REDACTED:email] about the renewal.", sample.RedactedPrompt);
        Assert.Contains("after lunch", sample.RedactedPrompt);
        Assert.StartsWith("Noted: ", sample.RedactedResponse);
    }

    [Fact]
    public void Capture_keeps_the_prompt_as_the_caller_sent_it_not_as_a_policy_rewrote_it()
    {
        var context = Context(share: 1, "summarise the renewal", "ok");
        context.Messages = [new ChatTurn("user", "something else entirely")];

        var sample = PromptSampler.Capture(context);

        Assert.NotNull(sample);
        Assert.Contains("summarise the renewal", sample.RedactedPrompt);
        Assert.DoesNotContain("something else entirely", sample.RedactedPrompt);
    }

    [Fact]
    public void Capture_of_a_refused_call_keeps_the_redacted_prompt_and_an_empty_response()
    {
        var context = Context(share: 1, "my SSN: 078-05-1120", response: null);

        var sample = PromptSampler.Capture(context);

        Assert.NotNull(sample);
        Assert.Equal("system: You are terse.\nuser: my SSN: [REDACTED:ssn]", sample.RedactedPrompt);
        Assert.Equal("", sample.RedactedResponse);
        Assert.Equal([PiiClasses.Ssn], sample.PiiClasses);
    }

    [Fact]
    public void Long_texts_are_cut_after_redaction()
    {
        var prompt = "ann.lee@example.com " + new string('x', PromptSampler.MaxTextLength * 2);
        var sample = PromptSampler.Build("app-a", "r1", DateTimeOffset.UnixEpoch, [new ChatTurn("user", prompt)], null, "t", "m");

        Assert.Equal(PromptSampler.MaxTextLength, sample.RedactedPrompt.Length);
        Assert.EndsWith(PromptSampler.TruncatedMarker, sample.RedactedPrompt);
        Assert.StartsWith("user: [REDACTED:email] xxx", sample.RedactedPrompt);
    }

    private static List<string> Ids(int count) => Enumerable.Range(0, count).Select(i => $"req-{i}").ToList();

    private static GovernedCallContext Context(double share, string userText, string? response)
    {
        var request = new GovernedChatRequest("mak.app-a.k1.secret", "req-" + Guid.NewGuid().ToString("N"), "standard",
            [new ChatTurn("system", "You are terse."), new ChatTurn("user", userText)], ChatParameters.None);
        var context = new GovernedCallContext(request, request.RequestId, new FakeTimeProvider(DateTimeOffset.Parse("2026-11-29T12:00:00Z")), null, CancellationToken.None)
        {
            AppId = "app-a",
            App = new AppProfile("app-a", "team-a", Audience.Internal, [], ["standard"], "standard", "app:app-a", "v1", PromptSampleShare: share),
            ServedModel = "gpt-test",
        };
        if (response is not null)
        {
            context.Result = new GovernedChatResult(GovernedOutcome.Completed, request.RequestId, null, null, null, null, "gpt-test", "standard",
                response, "stop", TokenUsage.Zero, 0m, DateTimeOffset.UnixEpoch);
        }
        else
        {
            context.Fail(GovernedOutcome.Forbidden, "policy_blocked", "blocked");
        }

        return context;
    }
}
