using System.Globalization;
using System.Text;

namespace MicroApps.Orleans.Caching;

/// <summary>
/// Turns request text into a <see cref="NearDuplicateSketch"/>: normalises it (case, width, punctuation, contractions,
/// a few spelling variants, plurals), drops filler words, then builds
/// <list type="bullet">
/// <item>a <em>content key</em>: a hash of the ordered sequence of content words (every word that is neither filler
/// nor one of a few minor function words, so numbers, negations, names, question words and prepositions of direction
/// all count). Two texts can only be near duplicates when their content keys are equal, so a different number, entity,
/// negation or any other content word is always a miss; and the lookup is a dictionary probe, not a scan;</item>
/// <item>a MinHash signature over the word 1- and 2-shingles of the remaining tokens (content and minor words), whose
/// agreement estimates their Jaccard similarity: it measures what the key leaves out (minor words, their order).</item>
/// </list>
/// Thread-safe and stateless.
/// </summary>
public static class NearDuplicateSketcher
{
    /// <summary>Slots of the MinHash signature: the standard error of the Jaccard estimate is about √(J(1−J)/128), 0.027 at J = 0.9.</summary>
    public const int SignatureLength = 128;

    // Separates the turns of a conversation; a content word, so turn boundaries must line up.
    private const string TurnBoundary = "\u241e";

    // Words that carry no meaning in a request to a model: politeness, pronouns of the asker, articles and determiners,
    // auxiliaries that only make a question polite. Negations, question words, tense and modality are NOT here.
    private static readonly HashSet<string> Filler = new(StringComparer.Ordinal)
    {
        "please", "pls", "plz", "kindly", "hi", "hello", "hey", "thanks", "thank", "thx", "cheers", "dear",
        "just", "quick", "quickly", "question", "really", "actually", "basically", "simply", "briefly",
        "ok", "okay", "so", "well", "um", "uh", "hmm", "oh",
        "i", "me", "my", "mine", "myself", "we", "us", "our", "you", "your", "yours", "yourself",
        "a", "an", "the", "this", "that", "these", "those", "some",
        "can", "could", "would", "will", "do", "does", "did", "may", "might",
        "tell", "know", "let", "want", "wanted", "wonder", "wondering", "need", "like", "love", "help", "am",
    };

    // Function words that stay in the shingles (so their order and presence move the similarity) but not in the key:
    // changing one of them rarely changes the question. The words whose change does are content words: "from" (so the
    // direction of "from A to B" is in the key through the order of A and B), "without", "and"/"or", "than",
    // "before"/"after".
    private static readonly HashSet<string> Minor = new(StringComparer.Ordinal)
    {
        "of", "in", "on", "at", "by", "about", "as", "it", "its", "there", "here", "also", "then", "any", "all",
        "to", "for", "with",
        "give", "show", "provide", "explain", "describe", "write",
    };

    // Contractions and spelling variants folded onto one form before anything else. "n't" becomes " not" so a
    // negation always survives normalisation as its own content word.
    private static readonly (string From, string To)[] Phrases =
    [
        ("can't", "can not"), ("cannot", "can not"), ("won't", "will not"), ("shan't", "shall not"), ("n't", " not"),
        ("'re", " are"), ("'ve", " have"), ("'ll", " will"), ("'d", " would"), ("'m", " am"),
        ("what's", "what is"), ("where's", "where is"), ("who's", "who is"), ("how's", "how is"), ("when's", "when is"),
        ("it's", "it is"), ("that's", "that is"), ("there's", "there is"), ("here's", "here is"), ("let's", "let us"),
        ("e-mail", "email"), ("log-in", "login"), ("sign-in", "signin"), ("wi-fi", "wifi"), (" whats ", " what is "),
    ];

    private static readonly Dictionary<string, string> Variants = new(StringComparer.Ordinal)
    {
        ["summarize"] = "summarise", ["summarizing"] = "summarising", ["summarized"] = "summarised", ["summary"] = "summarise",
        ["summarise"] = "summarise", ["summarisation"] = "summarise", ["summarization"] = "summarise",
        ["organize"] = "organise", ["organization"] = "organisation", ["optimize"] = "optimise", ["analyze"] = "analyse",
        ["categorize"] = "categorise", ["prioritize"] = "prioritise", ["customize"] = "customise", ["recognize"] = "recognise",
        ["color"] = "colour", ["behavior"] = "behaviour", ["favorite"] = "favourite", ["center"] = "centre", ["cancelled"] = "canceled",
        ["are"] = "is", ["were"] = "was",

        // Small numbers written as words are numbers: "three risks" is "3 risks" (and never "4 risks").
        ["zero"] = "0", ["one"] = "1", ["two"] = "2", ["three"] = "3", ["four"] = "4", ["five"] = "5", ["six"] = "6",
        ["seven"] = "7", ["eight"] = "8", ["nine"] = "9", ["ten"] = "10", ["eleven"] = "11", ["twelve"] = "12",
    };

    private static readonly (ulong A, ulong B)[] Permutations = CreatePermutations();

    /// <summary>The sketch of a conversation's non-system turns, in order.</summary>
    public static NearDuplicateSketch Sketch(IReadOnlyList<string> turns)
    {
        ArgumentNullException.ThrowIfNull(turns);
        var tokens = new List<Token>();
        for (var i = 0; i < turns.Count; i++)
        {
            if (i > 0)
            {
                tokens.Add(new Token(TurnBoundary, IsContent: true));
            }

            Tokenise(turns[i], tokens);
        }

        return new NearDuplicateSketch(ContentKey(tokens), Signature(tokens), tokens.Count(t => t.IsContent && t.Text != TurnBoundary));
    }

    /// <summary>The sketch of one text (a one-turn conversation).</summary>
    public static NearDuplicateSketch Sketch(string text) => Sketch([text]);

    /// <summary>
    /// Estimated Jaccard similarity of the two texts' shingle sets (0 to 1), or 0 when their content keys differ: texts
    /// with different content words are never near duplicates, however much else they share.
    /// </summary>
    public static double Similarity(NearDuplicateSketch a, NearDuplicateSketch b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (!a.IsComparable || a.ContentKey != b.ContentKey || a.Signature.Length != b.Signature.Length || a.Signature.Length == 0)
        {
            return 0;
        }

        var equal = 0;
        for (var i = 0; i < a.Signature.Length; i++)
        {
            if (a.Signature[i] == b.Signature[i])
            {
                equal++;
            }
        }

        return (double)equal / a.Signature.Length;
    }

    /// <summary>The normalised words of <paramref name="text"/> that the sketch is made of (filler removed), for tests and docs.</summary>
    public static IReadOnlyList<string> Normalise(string text)
    {
        var tokens = new List<Token>();
        Tokenise(text, tokens);
        return tokens.Select(t => t.Text).ToArray();
    }

    private static void Tokenise(string? text, List<Token> tokens)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return;
        }

        // Width and compatibility forms fold (full-width digits, ligatures); typographic apostrophes become ASCII.
        // Padded with spaces so phrases can match whole words at either end.
        var folded = " " + text.Normalize(NormalizationForm.FormKC).ToLowerInvariant().Replace('\u2019', '\'').Replace('\u2018', '\'') + " ";
        foreach (var (from, to) in Phrases)
        {
            folded = folded.Replace(from, to, StringComparison.Ordinal);
        }

        var word = new StringBuilder();
        for (var i = 0; i <= folded.Length; i++)
        {
            var c = i < folded.Length ? folded[i] : ' ';

            // A decimal point or thousands separator between digits stays inside the number: 3.5 is not 35 or "3 5".
            var insideNumber = word.Length > 0 && char.IsDigit(word[^1]) && (c == '.' ? NextIsDigit(folded, i + 1) : c == ',' && IsThousandsGroup(folded, i + 1));
            if (char.IsLetterOrDigit(c) || insideNumber || (c == '\'' && word.Length > 0 && i + 1 < folded.Length && folded[i + 1] == 's'))
            {
                word.Append(c == ',' ? "" : c.ToString());
                continue;
            }

            // Symbols that change meaning are words of their own: "5 + 3" is not "5 - 3", "$5" is not "€5".
            if (c is '+' or '-' or '*' or '/' or '=' or '<' or '>' or '%' or '$' or '€' or '£' or '¥' or '#' or '@' or '&')
            {
                Flush(word, tokens);
                if (c != '-' || IsMinus(folded, i))
                {
                    tokens.Add(new Token(c.ToString(), IsContent: true));
                }

                continue;
            }

            Flush(word, tokens);
        }
    }

    // A minus sign ("-5", "5 - 3", "5-3"), not a dash ("ticket - my invoice", "two-factor").
    private static bool IsMinus(string text, int index)
    {
        var next = index + 1;
        while (next < text.Length && text[next] == ' ')
        {
            next++;
        }

        var previous = index - 1;
        while (previous >= 0 && text[previous] == ' ')
        {
            previous--;
        }

        var beforeIsNumber = previous >= 0 && (char.IsDigit(text[previous]) || text[previous] == ')');
        var afterIsNumber = next < text.Length && (char.IsDigit(text[next]) || text[next] == '(');
        var signOfNumber = NextIsDigit(text, index + 1) && (previous < 0 || !char.IsLetterOrDigit(text[previous]));
        return (beforeIsNumber && afterIsNumber) || signOfNumber;
    }

    private static bool NextIsDigit(string text, int index) => index < text.Length && char.IsDigit(text[index]);

    // "1,000" is one thousand; "1,2" is a list of two numbers.
    private static bool IsThousandsGroup(string text, int index) =>
        NextIsDigit(text, index) && NextIsDigit(text, index + 1) && NextIsDigit(text, index + 2) && !NextIsDigit(text, index + 3);

    private static void Flush(StringBuilder word, List<Token> tokens)
    {
        if (word.Length == 0)
        {
            return;
        }

        var text = word.ToString();
        word.Clear();
        if (text.EndsWith("'s", StringComparison.Ordinal))
        {
            text = text[..^2];
        }

        text = Variants.GetValueOrDefault(text) ?? Stem(text);
        if (Filler.Contains(text))
        {
            return;
        }

        tokens.Add(new Token(text, IsContent: !Minor.Contains(text)));
    }

    // Plurals fold onto the singular; nothing more aggressive, so "cancel" and "cancellation" stay apart.
    private static string Stem(string word)
    {
        if (word.Length <= 3 || word.Any(char.IsDigit))
        {
            return word;
        }

        if (word.EndsWith("ies", StringComparison.Ordinal) && word.Length > 4)
        {
            return word[..^3] + "y";
        }

        if (word.EndsWith("ss", StringComparison.Ordinal) || word.EndsWith("us", StringComparison.Ordinal) || word.EndsWith("is", StringComparison.Ordinal))
        {
            return word;
        }

        if (word.EndsWith("ches", StringComparison.Ordinal) || word.EndsWith("shes", StringComparison.Ordinal) || word.EndsWith("xes", StringComparison.Ordinal) || word.EndsWith("sses", StringComparison.Ordinal))
        {
            return word[..^2];
        }

        return word.EndsWith('s') ? word[..^1] : word;
    }

    private static long ContentKey(List<Token> tokens)
    {
        var hash = FnvOffset;
        foreach (var token in tokens)
        {
            if (token.IsContent)
            {
                // Length-prefixed, so "ab c" and "a bc" differ.
                hash = Fnv(hash, (char)token.Text.Length);
                foreach (var c in token.Text)
                {
                    hash = Fnv(hash, c);
                }
            }
        }

        return (long)Mix(hash);
    }

    private static uint[] Signature(List<Token> tokens)
    {
        var signature = new uint[SignatureLength];
        Array.Fill(signature, uint.MaxValue);
        if (tokens.Count == 0)
        {
            return signature;
        }

        for (var i = 0; i < tokens.Count; i++)
        {
            Add(signature, Hash("1|" + tokens[i].Text));
            if (i + 1 < tokens.Count)
            {
                Add(signature, Hash("2|" + tokens[i].Text + "|" + tokens[i + 1].Text));
            }
        }

        return signature;
    }

    private static void Add(uint[] signature, ulong shingle)
    {
        for (var k = 0; k < signature.Length; k++)
        {
            var (a, b) = Permutations[k];

            // Universal hashing a·x + b, taking the high 32 bits: one pass per slot instead of one hash function each.
            var value = (uint)((a * shingle + b) >> 32);
            if (value < signature[k])
            {
                signature[k] = value;
            }
        }
    }

    private const ulong FnvOffset = 14695981039346656037UL;

    private static ulong Fnv(ulong hash, char c) => (hash ^ c) * 1099511628211UL;

    private static ulong Hash(string shingle)
    {
        var hash = FnvOffset;
        foreach (var c in shingle)
        {
            hash = Fnv(hash, c);
        }

        return Mix(hash);
    }

    // SplitMix64's finaliser: spreads FNV's weak low bits over the whole word.
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static (ulong, ulong)[] CreatePermutations()
    {
        // A fixed SplitMix64 sequence, not System.Random: sketches made on different silos and by different releases
        // must compare equal.
        var state = 0x51_6E_44_75UL;
        ulong Next() => Mix(state += 0x9E3779B97F4A7C15UL);
        var permutations = new (ulong, ulong)[SignatureLength];
        for (var i = 0; i < permutations.Length; i++)
        {
            permutations[i] = (Next() | 1UL, Next());
        }

        return permutations;
    }

    private readonly record struct Token(string Text, bool IsContent);
}

/// <summary>Culture-invariant formatting of similarities in decisions and reports.</summary>
public static class Similarities
{
    public static string Format(double similarity) => similarity.ToString("0.00", CultureInfo.InvariantCulture);
}
