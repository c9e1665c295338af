using Spectre.Console;

namespace MicroApps.Orleans.Cli.Infrastructure;

/// <summary>What one run of the CLI writes to and talks through: the console, where errors go, the HTTP handler and the environment.</summary>
internal sealed class CliEnvironment(IAnsiConsole console, IAnsiConsole errors, HttpMessageHandler? handler, Func<string, string?> variables)
{
    public IAnsiConsole Console { get; } = console;

    public IAnsiConsole Errors { get; } = errors;

    /// <summary>The handler HTTP calls go through; null means a plain <see cref="SocketsHttpHandler"/>.</summary>
    public HttpMessageHandler? Handler { get; } = handler;

    public string? Variable(string name) => variables(name) is { Length: > 0 } value ? value : null;

    /// <summary>Writes text as it is: no markup, no wrapping at the console width (JSON, YAML and keys stay copyable).</summary>
    public void WriteRaw(string text)
    {
        var writer = Console.Profile.Out.Writer;
        writer.Write(text);
        if (!text.EndsWith('\n'))
        {
            writer.WriteLine();
        }

        writer.Flush();
    }
}
