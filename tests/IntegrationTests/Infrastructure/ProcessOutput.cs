using System.Collections.Concurrent;
using System.Diagnostics;

namespace MicroApps.Orleans.IntegrationTests.Infrastructure;

/// <summary>Keeps the last lines a child process wrote, for failure messages.</summary>
internal sealed class ProcessOutput
{
    private const int Kept = 80;
    private readonly ConcurrentQueue<string> _lines = new();

    public event Action<string>? Line;

    public void Attach(Process process)
    {
        process.OutputDataReceived += (_, e) => Add(e.Data);
        process.ErrorDataReceived += (_, e) => Add(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public string Tail() => string.Join(Environment.NewLine, _lines);

    private void Add(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        while (_lines.Count > Kept && _lines.TryDequeue(out _))
        {
        }

        Line?.Invoke(line);
    }
}
