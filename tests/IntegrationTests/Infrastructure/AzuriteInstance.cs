using System.Diagnostics;
using System.Net.Sockets;

namespace MicroApps.Orleans.IntegrationTests.Infrastructure;

/// <summary>
/// The npm Azurite emulator as a child process on free ports with a temporary data folder.
/// Stopped with SIGTERM only: Azurite keeps tables in memory and saves them on a timer and on exit.
/// </summary>
internal sealed class AzuriteInstance : IAsyncDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(30);
    private const string Account = "devstoreaccount1";
    // The emulator's well-known, public development key.
    private const string AccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    private readonly ProcessOutput _output = new();
    private Process? _process;

    private AzuriteInstance(string dataFolder)
    {
        DataFolder = dataFolder;
        BlobPort = TestEnvironment.FreePort();
        QueuePort = TestEnvironment.FreePort();
        TablePort = TestEnvironment.FreePort();
    }

    public string DataFolder { get; }

    public int BlobPort { get; }

    public int QueuePort { get; }

    public int TablePort { get; }

    public bool IsRunning => _process is { HasExited: false };

    public string ConnectionString =>
        $"DefaultEndpointsProtocol=http;AccountName={Account};AccountKey={AccountKey};" +
        $"BlobEndpoint=http://127.0.0.1:{BlobPort}/{Account};QueueEndpoint=http://127.0.0.1:{QueuePort}/{Account};" +
        $"TableEndpoint=http://127.0.0.1:{TablePort}/{Account};";

    public static async Task<AzuriteInstance> StartAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), "microapps-azurite-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(folder);
        var azurite = new AzuriteInstance(folder);
        await azurite.LaunchAsync();
        return azurite;
    }

    /// <summary>Stops with SIGTERM and waits for the process to exit (its data is flushed by then).</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            Signals.Terminate(_process.Id);
            using var cts = new CancellationTokenSource(StopDeadline);
            try
            {
                await _process.WaitForExitAsync(cts.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"Azurite did not exit within {StopDeadline} of SIGTERM.\n{_output.Tail()}");
            }
        }

        _process.Dispose();
        _process = null;
    }

    /// <summary>Starts again on the same data folder and ports, as after a machine restart.</summary>
    public async Task RestartAsync()
    {
        await StopAsync();
        await LaunchAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            // Last resort only when SIGTERM did not work; the data is thrown away anyway.
            if (_process is { HasExited: false })
            {
                _process.Kill();
            }

            try
            {
                Directory.Delete(DataFolder, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private async Task LaunchAsync()
    {
        var start = new ProcessStartInfo(TestEnvironment.AzuriteBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--silent", "--disableTelemetry", "--skipApiVersionCheck", "--loose",
            "--location", DataFolder,
            "--blobHost", "127.0.0.1", "--blobPort", BlobPort.ToString(),
            "--queueHost", "127.0.0.1", "--queuePort", QueuePort.ToString(),
            "--tableHost", "127.0.0.1", "--tablePort", TablePort.ToString(),
        })
        {
            start.ArgumentList.Add(arg);
        }

        _process = Process.Start(start) ?? throw new InvalidOperationException("Azurite did not start.");
        _output.Attach(_process);

        var deadline = Stopwatch.StartNew();
        while (!await PortAnswersAsync(TablePort))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"Azurite exited with {_process.ExitCode} during start.\n{_output.Tail()}");
            }

            if (deadline.Elapsed > StartDeadline)
            {
                throw new TimeoutException($"Azurite's table port {TablePort} did not open within {StartDeadline}.\n{_output.Tail()}");
            }

            await Task.Delay(100);
        }
    }

    private static async Task<bool> PortAnswersAsync(int port)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
