using MicroApps.Orleans.Gateway;
using MicroApps.Orleans.Savings;

namespace MicroApps.Orleans.UnitTests.Savings;

public sealed class QueryClassifierTests
{
    private static readonly QueryClassifier Classifier = QueryClassifier.Default;

    private static string Classify(string user, string? system = null, string? task = null)
    {
        var messages = new List<ChatTurn>();
        if (system is not null)
        {
            messages.Add(new ChatTurn("system", system));
        }

        messages.Add(new ChatTurn("user", user));
        return Classifier.Classify(task, messages);
    }

    /// <summary>A small labelled corpus of requests as micro apps send them (last user message, optional system prompt).</summary>
    public static readonly (string Expected, string User, string? System)[] Corpus =
    [
        (QueryTypes.Summarise, "Summarise this meeting transcript for the team: Anna opened the meeting, the Q3 numbers were reviewed, and the launch moved to May.", null),
        (QueryTypes.Summarise, "Can you give me a short summary of the attached incident report?", null),
        (QueryTypes.Summarise, "TL;DR of this thread please", null),
        (QueryTypes.Summarise, "What are the key points of the following article? The council voted to expand the bike lanes...", null),
        (QueryTypes.Summarise, "Condense the following into three bullet points: our revenue grew, costs fell, hiring paused.", null),
        (QueryTypes.Summarise, "Please summarize the customer's complaint in one sentence.", null),
        (QueryTypes.Summarise, "Here is the weekly status report. Sales closed 12 deals; support backlog down 30%.", "You write brief executive summaries of reports for busy managers."),
        (QueryTypes.Summarise, "Give me a brief overview of this policy document.", null),
        (QueryTypes.Classify, "Classify this support ticket as billing, technical or account: 'I was charged twice this month.'", null),
        (QueryTypes.Classify, "Is this email spam? 'You won a free cruise, click here'", null),
        (QueryTypes.Classify, "What is the sentiment of this review: 'The food was cold and the waiter rude.'", null),
        (QueryTypes.Classify, "Categorize the following expense: Uber ride to the airport, 42 EUR.", null),
        (QueryTypes.Classify, "Answer with one word: positive or negative. 'I love the new update!'", null),
        (QueryTypes.Classify, "I can't log into my account since yesterday.", "You triage incoming support messages. Reply with exactly one label from: billing, login, bug, other."),
        (QueryTypes.Classify, "Which category does this product belong to: wireless noise-cancelling headphones?", null),
        (QueryTypes.Classify, "Label each of these tweets by intent (complaint, praise, question).", null),
        (QueryTypes.Extract, "Extract the invoice number, date and total amount from this text: Invoice INV-2291 dated 3 March, total 1,250.00 EUR.", null),
        (QueryTypes.Extract, "Pull out all the names and phone numbers mentioned in these notes.", null),
        (QueryTypes.Extract, "Return a JSON object with the fields name, company and role from this email signature: Jane Roe, Acme Corp, CTO", null),
        (QueryTypes.Extract, "What is the tracking number in this shipping confirmation? Your parcel 1Z999AA10123456784 is on its way.", null),
        (QueryTypes.Extract, "List all the dates mentioned in the contract below.", null),
        (QueryTypes.Extract, "Parse this address into street, city and postcode: 10 Downing St, London SW1A 2AA", null),
        (QueryTypes.Extract, "Contract text: the supplier shall deliver by 1 June ...", "You extract structured fields from contracts and answer as JSON with keys party, date, amount."),
        (QueryTypes.Extract, "Find all the email addresses and company names in this text.", null),
        (QueryTypes.Code, "Write a Python function that checks whether a string is a palindrome.", null),
        (QueryTypes.Code, "Why does this throw a NullReferenceException?\n```csharp\nvar x = items.First().Name;\n```", null),
        (QueryTypes.Code, "Refactor this method to use LINQ: foreach (var i in items) { if (i.Ok) result.Add(i); }", null),
        (QueryTypes.Code, "Write a SQL query that returns the top 5 customers by revenue.", null),
        (QueryTypes.Code, "Traceback (most recent call last):\n  File \"app.py\", line 3, in <module>\nKeyError: 'id'", null),
        (QueryTypes.Code, "Implement binary search in TypeScript.", null),
        (QueryTypes.Code, "Can you write a regex that matches UK postcodes?", null),
        (QueryTypes.Code, "def add(a, b):\n    return a - b\n\nwhat's wrong here?", null),
        (QueryTypes.Chat, "Hi! How are you today?", null),
        (QueryTypes.Chat, "What should I cook for dinner tonight with chickpeas and spinach?", null),
        (QueryTypes.Chat, "Tell me a joke about cats.", null),
        (QueryTypes.Chat, "Thanks, that helps a lot.", "You are a friendly assistant for the HR team."),
        (QueryTypes.Chat, "What's the difference between a Roth IRA and a traditional IRA?", null),
        (QueryTypes.Chat, "Can you help me plan a three-day trip to Lisbon?", null),
        (QueryTypes.Chat, "Who won the football world cup in 2014?", null),
        (QueryTypes.Chat, "I feel stuck on my career, any advice?", null),
    ];

    [Fact]
    public void The_classifier_labels_the_corpus_with_at_least_85_percent_accuracy_and_every_type_is_recognised()
    {
        var wrong = Corpus.Where(c => Classify(c.User, c.System) != c.Expected)
            .Select(c => $"expected {c.Expected}, got {Classify(c.User, c.System)}: {c.User}")
            .ToList();
        var accuracy = 1.0 - (double)wrong.Count / Corpus.Length;

        Assert.True(accuracy >= 0.85, $"accuracy {accuracy:P0}; misses:\n{string.Join("\n", wrong)}");
        foreach (var type in QueryTypes.All)
        {
            var ofType = Corpus.Where(c => c.Expected == type).ToArray();
            var right = ofType.Count(c => Classify(c.User, c.System) == type);
            Assert.True(right * 4 >= ofType.Length * 3, $"{type}: only {right} of {ofType.Length} recognised");
        }
    }

    [Theory]
    [InlineData("summarise", "Write a Python function that sorts a list.")]
    [InlineData("Extract", "Hi there")]
    [InlineData(" code ", "Summarise this article.")]
    public void The_apps_declared_task_wins_over_the_text(string task, string user)
    {
        Assert.Equal(QueryTypes.Parse(task), Classify(user, task: task));
    }

    [Fact]
    public void An_unknown_declared_task_falls_back_to_classifying_the_text()
    {
        Assert.Equal(QueryTypes.Summarise, Classify("Summarise this report please.", task: "poetry"));
    }

    [Fact]
    public void Asking_to_summarise_code_is_a_summary_not_code()
    {
        Assert.Equal(QueryTypes.Summarise, Classify("Summarise what this code does:\n```python\ndef f(x):\n    return x * 2\n```"));
    }

    [Fact]
    public void The_last_user_message_decides_not_earlier_turns()
    {
        var messages = new[]
        {
            new ChatTurn("user", "Write a Python function that reverses a list."),
            new ChatTurn("assistant", "def rev(xs): return xs[::-1]"),
            new ChatTurn("user", "Thanks! Now summarise our conversation in one sentence."),
        };

        Assert.Equal(QueryTypes.Summarise, Classifier.Classify(null, messages));
    }

    [Fact]
    public void The_system_prompt_sets_the_type_when_the_user_text_carries_no_signal()
    {
        Assert.Equal(QueryTypes.Classify, Classify("My package never arrived.", system: "Classify each message into one of: shipping, billing, other."));
        Assert.Equal(QueryTypes.Chat, Classify("My package never arrived."));
    }

    [Fact]
    public void No_messages_or_empty_text_is_chat()
    {
        Assert.Equal(QueryTypes.Chat, Classifier.Classify(null, []));
        Assert.Equal(QueryTypes.Chat, Classify(""));
    }

    [Fact]
    public void A_long_pasted_document_is_classified_by_its_instruction_at_the_end()
    {
        var document = string.Concat(Enumerable.Repeat("The committee met and discussed budgets, schedules and staffing. ", 400));
        Assert.Equal(QueryTypes.Summarise, Classify(document + "\n\nSummarise the above in three bullet points."));
    }
}
