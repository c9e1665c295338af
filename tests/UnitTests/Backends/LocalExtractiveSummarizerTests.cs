using MicroApps.Orleans.Backends;
using MicroApps.Orleans.Tokens;
using Microsoft.Extensions.AI;

namespace MicroApps.Orleans.UnitTests.Backends;

public sealed class LocalExtractiveSummarizerTests
{
    private const string Article =
        "The invoice backlog grew in March. Invoices from the Berlin office were paid late. " +
        "The weather was pleasant. Late invoices cost the company interest on every invoice. " +
        "The finance team will automate invoice approval to clear the invoice backlog. Lunch was served at noon.";

    private readonly LocalExtractiveSummarizer _summarizer = new(TokenEstimator.Default);

    private static string[] Sentences(string text) =>
        text.Split(". ", StringSplitOptions.RemoveEmptyEntries).Select(s => s.TrimEnd('.')).ToArray();

    [Fact]
    public async Task The_summary_is_the_most_topical_sentences_in_their_original_order()
    {
        var response = await _summarizer.GetResponseAsync([new ChatMessage(ChatRole.System, "Summarise."), new ChatMessage(ChatRole.User, Article)]);

        var summary = Sentences(response.Text);
        var original = Sentences(Article).ToList();
        Assert.Equal(2, summary.Length);
        Assert.All(summary, s => Assert.Contains(s, original));
        Assert.True(original.IndexOf(summary[0]) < original.IndexOf(summary[1]));
        Assert.DoesNotContain("weather", response.Text);
        Assert.DoesNotContain("Lunch", response.Text);
        Assert.Contains("invoice backlog", response.Text);
    }

    [Fact]
    public async Task The_response_names_the_model_and_reports_usage()
    {
        List<ChatMessage> messages = [new(ChatRole.User, Article)];

        var response = await _summarizer.GetResponseAsync(messages);

        Assert.Equal("local-extractive-summarizer", response.ModelId);
        Assert.Equal(TokenEstimator.Default.CountMessages([new("user", Article)]), response.Usage!.InputTokenCount);
        Assert.Equal(TokenEstimator.Default.CountText(response.Text), response.Usage.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Stop, response.FinishReason);
    }

    [Fact]
    public async Task Output_never_exceeds_the_max_output_tokens()
    {
        var unbounded = await _summarizer.GetResponseAsync([new ChatMessage(ChatRole.User, Article)]);
        foreach (var limit in new[] { 3, 10, (int)unbounded.Usage!.OutputTokenCount!.Value - 1 })
        {
            var response = await _summarizer.GetResponseAsync([new ChatMessage(ChatRole.User, Article)], new ChatOptions { MaxOutputTokens = limit });

            Assert.InRange(response.Usage!.OutputTokenCount!.Value, 1, limit);
            Assert.Equal(ChatFinishReason.Length, response.FinishReason);
        }
    }

    [Fact]
    public async Task Streaming_yields_pieces_that_add_up_to_the_answer_then_usage()
    {
        List<ChatMessage> messages = [new(ChatRole.User, Article)];
        var whole = await _summarizer.GetResponseAsync(messages);

        var updates = new List<ChatResponseUpdate>();
        await foreach (var update in _summarizer.GetStreamingResponseAsync(messages))
        {
            updates.Add(update);
        }

        Assert.True(updates.Count > 2);
        Assert.Equal(whole.Text, string.Concat(updates.Select(u => u.Text)));
        var usage = Assert.Single(updates[^1].Contents.OfType<UsageContent>());
        Assert.Equal(whole.Usage!.OutputTokenCount, usage.Details.OutputTokenCount);
        Assert.Equal(ChatFinishReason.Stop, updates[^1].FinishReason);
        Assert.All(updates, u => Assert.Equal("local-extractive-summarizer", u.ModelId));
    }

    [Fact]
    public async Task Empty_user_text_gives_an_empty_answer()
    {
        var response = await _summarizer.GetResponseAsync([new ChatMessage(ChatRole.User, "   ")]);

        Assert.Equal("", response.Text);
        Assert.Equal(0, response.Usage!.OutputTokenCount);
    }
}
