using YamlDotNet.Core;

namespace MicroApps.Orleans;

/// <summary>
/// Where YamlDotNet says a node or an error is, counted from 1 as editors count, and an error's message without the
/// mark prefix it carries: the YAML documents we read (policies, manifests) report line and column separately.
/// </summary>
public static class YamlMarks
{
    public static int Line(Mark mark) => (int)Math.Max(1, mark.Line);

    public static int Column(Mark mark) => (int)Math.Max(1, mark.Column);

    /// <summary>The message of a YAML error without YamlDotNet's <c>(Line: 3, Col: 5, …): </c> prefix.</summary>
    public static string Message(YamlException ex)
    {
        var message = ex.InnerException is YamlException inner ? inner.Message : ex.Message;
        var close = message.IndexOf("): ", StringComparison.Ordinal);
        return message.StartsWith('(') && close > 0 ? message[(close + 3)..] : message;
    }
}
