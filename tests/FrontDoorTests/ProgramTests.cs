using System.Diagnostics;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>The front door executable itself: a bad setting stops it with one clear line and exit code 2.</summary>
public sealed class ProgramTests
{
    [Fact]
    public async Task Missing_admin_token_exits_2_with_one_line_naming_the_setting()
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "MicroApps.Orleans.Client.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        start.ArgumentList.Add("--urls=http://127.0.0.1:0");
        start.ArgumentList.Add("--Orleans:Provider=Localhost");
        start.ArgumentList.Add("--Telemetry:Exporter=none");
        start.ArgumentList.Add("--FrontDoor:AdminToken=");
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        var errorLines = (await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}; stderr: {await stderr}; stdout: {await stdout}");
        var line = Assert.Single(errorLines);
        Assert.Contains("FrontDoor:AdminToken", line);
    }
}
