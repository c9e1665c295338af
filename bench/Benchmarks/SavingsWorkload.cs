using System.Globalization;
using System.Text;

namespace MicroApps.Orleans.Benchmarks;

/// <summary>
/// One question with a known correct answer. <see cref="Variants"/>[0] is the canonical wording; the others are
/// paraphrases (a different instruction, or the question put differently) with the same correct answer.
/// </summary>
/// <para>
/// Variants 1 and 2 are light rewordings (politeness, greetings, case, spelling variants: the same content words, as
/// when someone retypes a question); the rest are real paraphrases (other words for the instruction or question).
/// </para>
internal sealed record WorkItem(string Id, string AppId, string Type, IReadOnlyList<string> Variants, string Answer, IReadOnlyList<string> WrongAnswers, int MaxTokens)
{
    public const int LightVariants = 2;

    /// <summary>The plausible wrong answer <paramref name="model"/> gives (a fixed pick per model and item).</summary>
    public string WrongAnswer(string model) => WrongAnswers[(int)(SimModels.Unit($"wrong|{model}|{Id}") * WrongAnswers.Count)];
}

/// <summary>A simulated micro app of the workload.</summary>
/// <param name="Task">The app's declared query type, or null when it asks mixed questions and the platform classifies each.</param>
/// <param name="Tight">Its budget is already ahead of the day's pace when the replay starts, and would run out on premium alone.</param>
internal sealed record SimApp(string AppId, string Team, string Audience, IReadOnlyList<string> DataClasses, string? Task, bool Tight, double Weight);

/// <summary>One request of the replay, in order.</summary>
/// <param name="Kind"><c>first</c> (the item's first ask), <c>repeat</c> (same text as an earlier request of the app), <c>reworded</c> (asked before, now lightly reworded) or <c>paraphrase</c> (asked before in other words).</param>
internal sealed record WorkRequest(int Index, SimApp App, WorkItem Item, int Variant, string Kind, bool SendsFeedback)
{
    public string Text => Item.Variants[Variant];
}

/// <summary>The seeded workload: apps, their items and the request sequence. The same seed gives the same workload.</summary>
internal sealed record SavingsWorkload(int Seed, IReadOnlyList<SimApp> Apps, IReadOnlyList<WorkItem> Items, IReadOnlyList<WorkRequest> Requests)
{
    public static readonly string[] Types = ["summarise", "classify", "extract", "chat", "code"];

    public static SavingsWorkload Generate(int seed, int requests, int apps = 40)
    {
        var random = new Random(seed);
        var g = new TextGen(random);
        var teams = Enumerable.Range(1, 8).Select(i => $"team-{i}").ToArray();
        var typeWeights = new[] { 0.25, 0.2, 0.2, 0.2, 0.15 };
        var appList = new List<SimApp>();
        for (var a = 0; a < apps; a++)
        {
            var pii = random.NextDouble() < 0.3;
            var mixed = random.NextDouble() < 0.25;
            appList.Add(new SimApp(
                $"sim-app-{a:00}",
                teams[random.Next(teams.Length)],
                random.NextDouble() < 0.6 ? "internal" : "external",
                pii ? (random.NextDouble() < 0.5 ? ["email"] : ["email", "phone"]) : [],
                mixed ? null : Types[Pick(random, typeWeights)],
                random.NextDouble() < 0.35,
                1.0 / Math.Pow(a + 1, 0.6)));
        }

        // Requests per app follow the app weights; each app has a pool of items asked with Zipf-like popularity, so
        // some questions come back word for word, some in other words, and many are asked once.
        var totalWeight = appList.Sum(a => a.Weight);
        var items = new List<WorkItem>();
        var pools = new Dictionary<string, List<WorkItem>>();

        // Every wording of every question is distinct across the workload: the simulated models recognise a question
        // by its text, and two apps asking the very same text would make one of them get the other's answer.
        var texts = new HashSet<string>(StringComparer.Ordinal);
        foreach (var app in appList)
        {
            var share = (int)Math.Ceiling(requests * app.Weight / totalWeight);
            var pool = new List<WorkItem>();
            var poolSize = Math.Max(4, (int)(share * 1.2));
            for (var i = 0; i < poolSize; i++)
            {
                var type = app.Task ?? Types[Pick(random, typeWeights)];
                WorkItem item;
                do
                {
                    item = g.Item($"{app.AppId}/{i}", app.AppId, type, app.DataClasses);
                }
                while (item.Variants.Any(texts.Contains) || item.Variants.Distinct(StringComparer.Ordinal).Count() != item.Variants.Count);

                texts.UnionWith(item.Variants);
                pool.Add(item);
            }

            pools[app.AppId] = pool;
            items.AddRange(pool);
        }

        var cumulative = appList.Select(a => a.Weight / totalWeight).ToArray();
        var seen = new HashSet<(string, int)>();
        var seenItems = new HashSet<string>();
        var list = new List<WorkRequest>(requests);
        for (var n = 0; n < requests; n++)
        {
            var app = appList[Pick(random, cumulative)];
            var pool = pools[app.AppId];
            var item = pool[Zipf(random, pool.Count, 0.8)];
            var draw = random.NextDouble();
            var variant = draw < 0.6 ? 0 : draw < 0.8 ? 1 + random.Next(WorkItem.LightVariants) : 1 + WorkItem.LightVariants + random.Next(item.Variants.Count - 1 - WorkItem.LightVariants);
            var kind = seen.Contains((item.Id, variant)) ? "repeat" : !seenItems.Contains(item.Id) ? "first" : variant is > 0 and <= WorkItem.LightVariants ? "reworded" : "paraphrase";
            seen.Add((item.Id, variant));
            seenItems.Add(item.Id);
            list.Add(new WorkRequest(n, app, item, variant, kind, random.NextDouble() < 0.3));
        }

        return new SavingsWorkload(seed, appList, items, list);
    }

    private static int Pick(Random random, double[] weights)
    {
        var x = random.NextDouble() * weights.Sum();
        for (var i = 0; i < weights.Length; i++)
        {
            x -= weights[i];
            if (x < 0)
            {
                return i;
            }
        }

        return weights.Length - 1;
    }

    private static int Zipf(Random random, int n, double s)
    {
        var weights = Enumerable.Range(1, n).Select(k => 1.0 / Math.Pow(k, s)).ToArray();
        return Pick(random, weights);
    }
}

/// <summary>Seeded text for the workload items: documents, tickets, invoices, questions, code tasks, and their answers.</summary>
internal sealed class TextGen(Random random)
{
    private static readonly string[] First = ["Alice", "Bruno", "Chen", "Dana", "Emeka", "Fatima", "Gustav", "Hana", "Ivan", "Jasmin", "Kofi", "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tariq", "Ulla", "Viktor", "Wen", "Ximena", "Yusuf", "Zoe"];
    private static readonly string[] Last = ["Andersen", "Baptiste", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Horvat", "Ito", "Jansen", "Kowalski", "Lindqvist", "Moreau", "Novak", "Okafor", "Petrov", "Quinn", "Rossi", "Schmidt", "Tanaka", "Uddin", "Varga", "Weber", "Yilmaz"];
    private static readonly string[] Companies = ["Northwind", "Contoso", "Fabrikam", "Tailspin", "Woodgrove", "Litware", "Adatum", "Proseware", "Wingtip", "Lucerne", "Margie", "Humongous", "Coho", "Alpine", "Trey", "Blue Yonder", "Fourth Coffee", "Graphic Design", "Relecloud", "Southridge"];
    private static readonly string[] Products = ["invoicing portal", "mobile app", "data warehouse", "booking system", "payroll module", "CRM", "inventory tracker", "support desk", "analytics dashboard", "expense tool", "VPN client", "shared drive", "build pipeline", "customer portal", "HR system"];
    private static readonly string[] Cities = ["Lisbon", "Oslo", "Nairobi", "Osaka", "Lyon", "Austin", "Krakow", "Porto", "Seoul", "Denver", "Leeds", "Bergen", "Turin", "Perth", "Quito"];
    private static readonly string[] Topics = ["quarterly revenue", "the migration project", "customer churn", "the hiring plan", "supplier delays", "the security audit", "office relocation", "the pricing change", "warehouse capacity", "the product launch", "energy costs", "the support backlog"];
    private static readonly string[] Verbs = ["rose", "fell", "stalled", "recovered", "doubled", "slipped", "held steady", "improved", "worsened", "tripled"];
    private static readonly string[] Labels = ["billing", "shipping", "technical", "account", "refund", "complaint", "sales", "security"];
    private static readonly string[] Langs = ["C#", "Python", "TypeScript", "Go", "SQL", "Java"];
    private static readonly string[] CodeTasks = ["parses a CSV line into fields", "retries an HTTP call with exponential backoff", "deduplicates a list of orders by id", "computes the median of a list of numbers", "validates an IBAN", "paginates a query result", "merges two sorted arrays", "rate-limits calls per user", "formats a duration as text", "groups invoices by customer and month", "reads a config file with defaults", "checks whether a date is a business day"];
    private static readonly string[] ChatTasks = ["reset my password", "export a report to Excel", "share a folder with a contractor", "set up two-factor authentication", "book a meeting room", "change my notification settings", "add a new cost centre", "restore a deleted file", "request a new laptop", "connect to the VPN from home", "approve a purchase order", "update my bank details"];
    private static readonly string[] Steps = ["open the settings page", "choose the security tab", "select the item from the list", "click the export button", "confirm with the code sent to your phone", "wait for the confirmation email", "sign out and sign in again", "ask your manager to approve the request", "pick the date range you need", "save your changes", "check the audit log for the entry", "contact the service desk if the option is greyed out", "enter the reference number", "attach the receipt", "restart the application"];

    private string Name => $"{First[random.Next(First.Length)]} {Last[random.Next(Last.Length)]}";
    private string Company => Companies[random.Next(Companies.Length)];
    private T One<T>(T[] values) => values[random.Next(values.Length)];

    private string Sentence() => random.Next(8) switch
    {
        0 => $"{Company} said {One(Topics)} {One(Verbs)} by {random.Next(2, 40)} percent in {One(Cities)} over the last {random.Next(2, 12)} weeks.",
        1 => $"{Name} from the {One(Cities)} office presented the {One(Products)} figures and flagged {One(Topics)} as the main risk.",
        2 => $"The team agreed to revisit {One(Topics)} on {One(["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"])} after {Name} collects numbers from {Company}.",
        3 => $"Spending on the {One(Products)} reached {random.Next(10, 900)} thousand euros, {random.Next(2, 30)} percent above the plan for {One(Topics)}.",
        4 => $"{Name} noted that {random.Next(3, 60)} customers in {One(Cities)} reported problems with the {One(Products)} this month.",
        5 => $"A decision on {One(Topics)} was postponed until {Company} confirms the contract terms.",
        6 => $"Headcount in {One(Cities)} {One(Verbs)} to {random.Next(12, 400)} people while {One(Topics)} remained unresolved.",
        _ => $"{Company} and {Company} will share the cost of the {One(Products)} rollout, led by {Name}.",
    };

    private string Pii(IReadOnlyList<string> classes)
    {
        var parts = new List<string>();
        var person = $"{First[random.Next(First.Length)].ToLowerInvariant()}.{Last[random.Next(Last.Length)].ToLowerInvariant()}";
        if (classes.Contains("email"))
        {
            parts.Add($"Contact: {person}@{One(Companies).ToLowerInvariant().Replace(" ", "")}.example.com.");
        }

        if (classes.Contains("phone"))
        {
            parts.Add($"Phone: +1 415 555 {random.Next(1000, 9999)}.");
        }

        return parts.Count == 0 ? "" : " " + string.Join(' ', parts);
    }

    private string Words(int count, Func<string> sentence)
    {
        var text = new StringBuilder();
        while (text.Length < count * 6)
        {
            text.Append(sentence()).Append(' ');
        }

        return text.ToString().Trim();
    }

    /// <summary>The canonical text, two light rewordings of it, then the paraphrases.</summary>
    private List<string> Vary(string canonical, IEnumerable<string> paraphrases)
    {
        var lower = char.ToLowerInvariant(canonical[0]) + canonical[1..];
        string[] openers = ["Please ", "Hi, please ", "Hello! Could you please "];
        var light1 = openers[random.Next(openers.Length)] + lower;
        var newline = canonical.IndexOf('\n', StringComparison.Ordinal);
        var light2 = (newline < 0 ? canonical.ToLowerInvariant() : canonical[..newline].ToLowerInvariant() + canonical[newline..])
            .Replace("summarise", "summarize", StringComparison.Ordinal) + " Thanks!";
        return [canonical, light1, light2, .. paraphrases];
    }

    public WorkItem Item(string id, string appId, string type, IReadOnlyList<string> dataClasses)
    {
        // Only a share of a PII app's requests carry PII, as in practice.
        var pii = dataClasses.Count > 0 && random.NextDouble() < 0.5 ? Pii(dataClasses) : "";
        switch (type)
        {
            case "summarise":
            {
                var document = Words(random.Next(220, 380), Sentence) + pii;
                var answer = Words(random.Next(60, 100), Sentence);
                string[] asks = ["Summarise the following report in a few sentences:", "Please give me a short summary of this report:", "TL;DR of the text below, please:", "Write a brief summary of these meeting notes:"];
                return new WorkItem(id, appId, type, Vary($"{asks[0]}\n\n{document}", asks.Skip(1).Select(a => $"{a}\n\n{document}")), answer,
                    [Words(random.Next(60, 100), Sentence), Words(random.Next(60, 100), Sentence), Words(random.Next(30, 50), Sentence)], 300);
            }

            case "classify":
            {
                var label = One(Labels);
                var ticket = $"Ticket from {Name} at {Company}: " + Words(random.Next(40, 90), Sentence) + pii + $"\n(reference {random.Next(100000, 999999)})";
                var list = string.Join(", ", Labels);
                string[] asks = [$"Classify this support ticket as one of: {list}. Answer with the label only.", $"Which category fits this ticket best ({list})? Reply with one word.", $"Label the ticket below with one of {list}."];
                return new WorkItem(id, appId, type, Vary($"{asks[0]}\n\n{ticket}", asks.Skip(1).Select(a => $"{a}\n\n{ticket}")), label,
                    Labels.Where(l => l != label).OrderBy(_ => random.Next()).Take(3).ToList(), 20);
            }

            case "extract":
            {
                var customer = Name;
                var invoice = $"INV-{random.Next(10000, 99999)}";
                var date = new DateTime(2026, 1, 1).AddDays(random.Next(0, 330)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                var total = $"{random.Next(100, 99999)}.{random.Next(0, 99):00} EUR";
                var text = $"Invoice {invoice} issued on {date} to {customer} of {Company}. " + Words(random.Next(50, 110), Sentence) + $" Amount due: {total}." + pii;
                string Json(string c, string i, string d, string t) => $"{{\"customer\": \"{c}\", \"invoice\": \"{i}\", \"date\": \"{d}\", \"total\": \"{t}\"}}";
                string[] asks = ["Extract the customer name, invoice number, date and total as JSON.", "Return JSON with fields customer, invoice, date and total from this invoice.", "Pull out who was billed, the invoice id, its date and the amount due, as JSON."];
                var otherDate = new DateTime(2026, 1, 1).AddDays(random.Next(0, 330)).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
                return new WorkItem(id, appId, type, Vary($"{asks[0]}\n\n{text}", asks.Skip(1).Select(a => $"{a}\n\n{text}")), Json(customer, invoice, date, total),
                    [Json(Name, invoice, otherDate, total), Json(customer, $"INV-{random.Next(10000, 99999)}", date, $"{random.Next(100, 99999)}.00 EUR"), Json(Name, $"INV-{random.Next(10000, 99999)}", otherDate, total)], 120);
            }

            case "chat":
            {
                var task = One(ChatTasks);
                var product = One(Products);
                var context = random.Next(3) switch
                {
                    0 => $" I work in the {One(Cities)} office on the {Company} account.",
                    1 => $" It is for {Name}, who joined the {One(Cities)} team this week.",
                    _ => $" We are a team of {random.Next(3, 60)} and use it daily.",
                };
                string Answer() => $"To {task} in the {product}: " + string.Join(" ", Enumerable.Range(1, random.Next(6, 11)).Select(i => $"Step {i}: {One(Steps)}.")) + " " + Words(random.Next(30, 70), Sentence);
                return new WorkItem(id, appId, type,
                    Vary($"How do I {task} in the {product}?{context}{pii}", [$"What's the way to {task} using the {product}?{context}{pii}", $"In the {product}, how can I {task}?{context}{pii}"]),
                    Answer(), [Answer(), Answer()], 400);
            }

            default:
            {
                var lang = One(Langs);
                var task = One(CodeTasks);
                var detail = $" It is used by the {One(Products)} at {Company}; keep it dependency-free and handle empty input.";
                string Code() => $"```{lang.ToLowerInvariant()}\n" + string.Join("\n", Enumerable.Range(0, random.Next(18, 40)).Select(_ => One([
                    $"var {One(["items", "total", "result", "buffer", "count", "next"])} = {One(["input", "values", "rows", "parts"])}.{One(["Where", "Select", "Sum", "Take", "Skip"])}(x => x.{One(["Id", "Amount", "Date", "Name"])} {One([">", "<", "==", "!="])} {random.Next(0, 100)});",
                    $"if ({One(["input", "values", "rows"])} is null || {One(["input", "values", "rows"])}.Count == 0) return {One(["0", "null", "[]", "string.Empty"])};",
                    $"for (var i = 0; i < {One(["n", "rows.Count", "parts.Length"])}; i++) {{ {One(["sum", "acc", "state"])} += {One(["rows", "parts", "values"])}[i]; }}",
                    $"// {One(["guard against", "handle", "normalise", "skip"])} {One(["empty lines", "duplicates", "negative values", "time zones", "whitespace"])}",
                    $"return {One(["result", "total", "buffer", "acc"])};",
                ]))) + "\n```\n" + Words(random.Next(20, 40), Sentence);
                return new WorkItem(id, appId, type,
                    Vary($"Write a {lang} function that {task}.{detail}", [$"I need {lang} code that {task}.{detail}", $"Can you implement, in {lang}, a function which {task}?{detail}"]),
                    Code(), [Code(), Code()], 600);
            }
        }
    }
}
