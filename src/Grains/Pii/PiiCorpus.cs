using System.Globalization;
using System.Text;

namespace MicroApps.Orleans.Pii;

/// <summary>One annotated corpus line: the PII values it holds (class and exact text) and the text.</summary>
public sealed record PiiCorpusLine(int LineNumber, IReadOnlyList<(string Class, string Value)> Expected, string Text);

/// <summary>Precision and recall for one class (or overall) over a corpus.</summary>
public sealed record PiiClassScore(string Class, int Expected, int TruePositives, int FalsePositives, int FalseNegatives)
{
    public double Precision => TruePositives + FalsePositives == 0 ? 1 : (double)TruePositives / (TruePositives + FalsePositives);

    public double Recall => TruePositives + FalseNegatives == 0 ? 1 : (double)TruePositives / (TruePositives + FalseNegatives);
}

/// <summary>A scanner's score over a corpus, with every miss and false alarm so they can be read.</summary>
public sealed record PiiCorpusScore(
    IReadOnlyList<PiiClassScore> Classes,
    PiiClassScore Overall,
    int Lines,
    int PositiveLines,
    int NegativeLines,
    IReadOnlyList<string> Errors,
    IReadOnlyList<string> NegativeLineFalsePositives)
{
    /// <summary>A Markdown table: class, expected, TP, FP, FN, precision, recall.</summary>
    public string ToTable()
    {
        var table = new StringBuilder()
            .AppendLine("| class | expected | TP | FP | FN | precision | recall |")
            .AppendLine("|-------|---------:|---:|---:|---:|----------:|-------:|");
        foreach (var score in Classes.Append(Overall))
        {
            table.AppendLine(CultureInfo.InvariantCulture,
                $"| {score.Class} | {score.Expected} | {score.TruePositives} | {score.FalsePositives} | {score.FalseNegatives} | {score.Precision:0.000} | {score.Recall:0.000} |");
        }

        return table.ToString();
    }
}

/// <summary>
/// The annotated PII corpus format and its scoring. One example a line: <c>expected&lt;TAB&gt;text</c> where expected
/// is <c>-</c> (no PII) or <c>class=value|class=value</c> with the exact PII text as it appears in the line
/// (e.g. <c>email=ann@example.com|phone=+44 20 7946 0958</c>). Blank lines and lines starting with <c>#</c> are skipped.
/// </summary>
/// <remarks>
/// A finding is a true positive when its class is annotated on its line with exactly the finding's text (each
/// annotation counts once); any other finding is a false positive; an annotation no finding matched is a false
/// negative. Matching on the text, not only the class, keeps the measure honest: finding the wrong span of the right
/// class is a false positive and a false negative.
/// </remarks>
public static class PiiCorpus
{
    public static IReadOnlyList<PiiCorpusLine> Parse(IEnumerable<string> lines)
    {
        var result = new List<PiiCorpusLine>();
        var number = 0;
        foreach (var raw in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(raw) || raw.StartsWith('#'))
            {
                continue;
            }

            var tab = raw.IndexOf('\t');
            if (tab < 0)
            {
                throw new FormatException($"line {number}: expected 'annotations<TAB>text'");
            }

            var annotations = raw[..tab].Trim();
            var expected = new List<(string, string)>();
            if (annotations != "-")
            {
                foreach (var item in annotations.Split('|'))
                {
                    var eq = item.IndexOf('=');
                    if (eq <= 0 || eq == item.Length - 1)
                    {
                        throw new FormatException($"line {number}: annotation '{item}' is not class=value");
                    }

                    var cls = item[..eq];
                    if (!PiiClasses.All.Contains(cls))
                    {
                        throw new FormatException($"line {number}: unknown class '{cls}' (classes: {string.Join(", ", PiiClasses.All)})");
                    }

                    var value = item[(eq + 1)..];
                    if (!raw.AsSpan(tab + 1).Contains(value, StringComparison.Ordinal))
                    {
                        throw new FormatException($"line {number}: annotated value '{value}' does not occur in the text");
                    }

                    expected.Add((cls, value));
                }
            }

            result.Add(new PiiCorpusLine(number, expected, raw[(tab + 1)..]));
        }

        return result;
    }

    public static IReadOnlyList<PiiCorpusLine> Load(string path) => Parse(File.ReadLines(path));

    public static PiiCorpusScore Score(IReadOnlyList<PiiCorpusLine> corpus, PiiScanner scanner)
    {
        var tp = PiiClasses.All.ToDictionary(c => c, _ => 0);
        var fp = PiiClasses.All.ToDictionary(c => c, _ => 0);
        var fn = PiiClasses.All.ToDictionary(c => c, _ => 0);
        var expectedCount = PiiClasses.All.ToDictionary(c => c, _ => 0);
        var errors = new List<string>();
        var negativeFalsePositives = new List<string>();
        foreach (var line in corpus)
        {
            var remaining = line.Expected.ToList();
            foreach (var (cls, _) in line.Expected)
            {
                expectedCount[cls]++;
            }

            foreach (var finding in scanner.Scan(line.Text))
            {
                var value = line.Text.Substring(finding.Start, finding.Length);
                var index = remaining.FindIndex(e => e.Class == finding.Class && e.Value == value);
                if (index >= 0)
                {
                    tp[finding.Class]++;
                    remaining.RemoveAt(index);
                }
                else
                {
                    fp[finding.Class]++;
                    var error = $"line {line.LineNumber}: false positive {finding.Class} '{value}' in: {line.Text}";
                    errors.Add(error);
                    if (line.Expected.Count == 0)
                    {
                        negativeFalsePositives.Add(error);
                    }
                }
            }

            foreach (var (cls, value) in remaining)
            {
                fn[cls]++;
                errors.Add($"line {line.LineNumber}: missed {cls} '{value}' in: {line.Text}");
            }
        }

        var classes = PiiClasses.All.Select(c => new PiiClassScore(c, expectedCount[c], tp[c], fp[c], fn[c])).ToList();
        var overall = new PiiClassScore("overall", classes.Sum(c => c.Expected), classes.Sum(c => c.TruePositives),
            classes.Sum(c => c.FalsePositives), classes.Sum(c => c.FalseNegatives));
        var positives = corpus.Count(l => l.Expected.Count > 0);
        return new PiiCorpusScore(classes, overall, corpus.Count, positives, corpus.Count - positives, errors, negativeFalsePositives);
    }
}
