using Microsoft.Extensions.Logging;

namespace MicroApps.Orleans.IntegrationTests.Infrastructure;

/// <summary>A logger provider that completes a task when a message containing some text is logged.</summary>
internal sealed class LogSignal(string text) : ILoggerProvider
{
    private readonly string _text = text;
    private readonly TaskCompletionSource<string> _seen = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task<string> Seen => _seen.Task;

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose()
    {
    }

    private sealed class Logger(LogSignal owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var message = formatter(state, exception);
            if (message.Contains(owner._text, StringComparison.Ordinal))
            {
                owner._seen.TrySetResult(message);
            }
        }
    }
}
