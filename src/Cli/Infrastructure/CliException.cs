namespace MicroApps.Orleans.Cli.Infrastructure;

/// <summary>
/// A failure the CLI reports as one line per problem (never a stack trace) and an exit code:
/// <see cref="ExitCodes.Refused"/>, <see cref="ExitCodes.Usage"/> or <see cref="ExitCodes.Unreachable"/>.
/// </summary>
public sealed class CliException(int exitCode, IReadOnlyList<string> lines) : Exception(string.Join(Environment.NewLine, lines))
{
    public CliException(int exitCode, string line)
        : this(exitCode, [line])
    {
    }

    public int ExitCode { get; } = exitCode;

    /// <summary>The lines to print, each already starting with <c>error:</c> where that applies.</summary>
    public IReadOnlyList<string> Lines { get; } = lines;

    public static CliException Usage(string message) => new(ExitCodes.Usage, "error: " + message);

    public static CliException Refused(string message) => new(ExitCodes.Refused, "error: " + message);
}

/// <summary>Exit codes of the <c>microapps</c> command.</summary>
public static class ExitCodes
{
    public const int Ok = 0;

    /// <summary>The front door refused (4xx/5xx problem), validation failed, or a test failed.</summary>
    public const int Refused = 1;

    /// <summary>The command line is wrong: unknown command or option, missing argument, unreadable file, no token.</summary>
    public const int Usage = 2;

    /// <summary>The front door could not be reached (connection refused, DNS, timeout).</summary>
    public const int Unreachable = 3;
}
