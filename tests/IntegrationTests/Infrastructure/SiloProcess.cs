using System.Diagnostics;

namespace MicroApps.Orleans.IntegrationTests.Infrastructure;

/// <summary>
/// One real silo process (<c>dotnet MicroApps.Orleans.Silo.dll</c>) configured through environment
/// variables, ready when it prints <c>SILO READY &lt;address&gt;</c>.
/// </summary>
internal sealed class SiloProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyDeadline = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan StopDeadline = TimeSpan.FromSeconds(45);

    private readonly Process _process;
    private readonly ProcessOutput _output = new();
    private readonly TaskCompletionSource<string> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private SiloProcess(Process process, int siloPort, int gatewayPort)
    {
        _process = process;
        SiloPort = siloPort;
        GatewayPort = gatewayPort;
    }

    public int SiloPort { get; }

    public int GatewayPort { get; }

    /// <summary>The address from the readiness line, e.g. <c>S127.0.0.1:11111:123456</c>.</summary>
    public string Address => _ready.Task.IsCompletedSuccessfully ? _ready.Task.Result : "(not ready)";

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    public string OutputTail => _output.Tail();

    /// <summary>Starts a silo and waits for its readiness line.</summary>
    public static async Task<SiloProcess> StartAsync(string connectionString, string clusterId, string serviceId,
        IReadOnlyDictionary<string, string>? settings = null)
    {
        var silo = Launch(new Dictionary<string, string>(settings ?? new Dictionary<string, string>())
        {
            ["Storage__ConnectionString"] = connectionString,
            ["Orleans__ClusterId"] = clusterId,
            ["Orleans__ServiceId"] = serviceId,
        });
        await silo.WaitUntilReadyAsync();
        return silo;
    }

    /// <summary>Starts a silo with exactly these settings (plus free ports) without waiting for it.</summary>
    public static SiloProcess Launch(IReadOnlyDictionary<string, string> settings)
    {
        var siloPort = TestEnvironment.FreePort();
        var gatewayPort = TestEnvironment.FreePort();
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetDirectoryName(TestEnvironment.SiloAssembly)!,
        };
        start.ArgumentList.Add(TestEnvironment.SiloAssembly);
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        start.Environment["Orleans__Provider"] = "AzureStorage";
        start.Environment["Orleans__SiloPort"] = siloPort.ToString();
        start.Environment["Orleans__GatewayPort"] = gatewayPort.ToString();
        start.Environment["Orleans__AdvertisedIp"] = "127.0.0.1";
        start.Environment["Orleans__ShutdownTimeout"] = "00:00:30";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Microsoft.Hosting.Lifetime"] = "Warning";
        foreach (var (key, value) in settings)
        {
            start.Environment[key] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("dotnet did not start.");
        var silo = new SiloProcess(process, siloPort, gatewayPort);
        silo._output.Line += silo.OnLine;
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => silo._ready.TrySetException(
            new InvalidOperationException($"The silo exited with {process.ExitCode} before it was ready.\n{silo._output.Tail()}"));
        silo._output.Attach(process);
        return silo;
    }

    public async Task WaitUntilReadyAsync()
    {
        try
        {
            await _ready.Task.WaitAsync(ReadyDeadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The silo printed no SILO READY line within {ReadyDeadline}.\n{_output.Tail()}");
        }
    }

    /// <summary>Waits for the process to end on its own (a configuration error, say).</summary>
    public async Task<int> WaitForExitAsync(TimeSpan deadline)
    {
        await _process.WaitForExitAsync().WaitAsync(deadline);
        // The exit event fires before the redirected streams are drained; this waits for them.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the silo dies without leaving the cluster, as in a crash.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }
    }

    /// <summary>SIGTERM: the silo leaves the cluster gracefully; waits for it to exit.</summary>
    public async Task StopAsync()
    {
        if (_process.HasExited)
        {
            return;
        }

        Signals.Terminate(_process.Id);
        try
        {
            await _process.WaitForExitAsync().WaitAsync(StopDeadline);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"The silo did not exit within {StopDeadline} of SIGTERM.\n{_output.Tail()}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (TimeoutException)
        {
            Kill();
        }

        _process.Dispose();
    }

    private void OnLine(string line)
    {
        if (line.StartsWith("SILO READY ", StringComparison.Ordinal))
        {
            _ready.TrySetResult(line["SILO READY ".Length..].Trim());
        }
    }
}
