using System.Diagnostics;
using MicroApps.Orleans.Client;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace MicroApps.Orleans.FrontDoorTests;

/// <summary>A bad <c>FrontDoor:Principals</c> entry stops the front door at start, naming the setting.</summary>
public sealed class AdminPrincipalsValidationTests
{
    // The fixture's settings already hold principals 0–3; these add or override entries.
    [Theory]
    [InlineData("FrontDoor:Principals:4:Role", "--FrontDoor:Principals:4:Name=eve", "--FrontDoor:Principals:4:Role=boss", "--FrontDoor:Principals:4:Token=eve-token-0123456789")]
    [InlineData("FrontDoor:Principals:4:Role", "--FrontDoor:Principals:4:Name=eve", "--FrontDoor:Principals:4:Role=3", "--FrontDoor:Principals:4:Token=eve-token-0123456789")]
    [InlineData("FrontDoor:Principals:4:Name", "--FrontDoor:Principals:4:Name=eve smith!", "--FrontDoor:Principals:4:Role=viewer", "--FrontDoor:Principals:4:Token=eve-token-0123456789")]
    [InlineData("FrontDoor:Principals:4:Name", "--FrontDoor:Principals:4:Role=viewer", "--FrontDoor:Principals:4:Token=eve-token-0123456789")]
    [InlineData("FrontDoor:Principals:4:Name", "--FrontDoor:Principals:4:Name=author-alice", "--FrontDoor:Principals:4:Role=viewer", "--FrontDoor:Principals:4:Token=eve-token-0123456789")]
    [InlineData("FrontDoor:Principals:4:Name", "--FrontDoor:Principals:4:Name=admin", "--FrontDoor:Principals:4:Role=viewer", "--FrontDoor:Principals:4:Token=eve-token-0123456789")]
    [InlineData("FrontDoor:Principals:4:Token", "--FrontDoor:Principals:4:Name=eve", "--FrontDoor:Principals:4:Role=viewer", "--FrontDoor:Principals:4:Token=short")]
    [InlineData("FrontDoor:Principals:4:Token", "--FrontDoor:Principals:4:Name=eve", "--FrontDoor:Principals:4:Role=viewer")]
    [InlineData("FrontDoor:Principals:4:Token", "--FrontDoor:Principals:4:Name=eve", "--FrontDoor:Principals:4:Role=viewer", $"--FrontDoor:Principals:4:Token={FrontDoorFixture.AdminToken}")]
    [InlineData("FrontDoor:Principals:4:Token", "--FrontDoor:Principals:4:Name=eve", "--FrontDoor:Principals:4:Role=viewer", $"--FrontDoor:Principals:4:Token={FrontDoorFixture.ViewerToken}")]
    [InlineData("FrontDoor:Principals:1:Role", "--FrontDoor:Principals:1:Role=")]
    public async Task A_bad_principal_stops_the_front_door_at_start_naming_the_setting(string named, params string[] settings)
    {
        var (siloPort, gatewayPort) = Ports.TwoFree();
        await using var app = FrontDoorApplication.Create(FrontDoorFixture.Settings("http://127.0.0.1:9/v1", settings), builder =>
            builder.UseOrleans(s => s.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "principal-tests", clusterId: Guid.NewGuid().ToString("N"))
                .AddMemoryGrainStorage("store")));

        var failure = await Assert.ThrowsAsync<OptionsValidationException>(() => app.StartAsync());

        Assert.Contains(named, failure.Message);
        Assert.DoesNotContain(FrontDoorFixture.AdminToken, failure.Message);
        Assert.DoesNotContain(FrontDoorFixture.ViewerToken, failure.Message);
        Assert.DoesNotContain("eve-token-0123456789", failure.Message);
    }

    [Fact]
    public async Task A_bad_principal_role_exits_2_with_one_line_naming_the_setting()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MicroApps.Orleans.Client.dll"));
        foreach (var argument in new[]
                 {
                     "--urls=http://127.0.0.1:0", "--Orleans:Provider=Localhost", "--Telemetry:Exporter=none",
                     "--FrontDoor:AdminToken=an-admin-token-long-enough",
                     "--FrontDoor:Principals:0:Name=eve", "--FrontDoor:Principals:0:Role=superuser", "--FrontDoor:Principals:0:Token=eve-token-0123456789",
                 })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);

        Assert.True(process.ExitCode == 2, $"exit {process.ExitCode}; stderr: {await stderr}; stdout: {await stdout}");
        var line = Assert.Single((await stderr).Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("FrontDoor:Principals:0:Role", line);
        Assert.DoesNotContain("eve-token-0123456789", line);
    }

    [Fact]
    public async Task Valid_principals_start_the_front_door()
    {
        var (siloPort, gatewayPort) = Ports.TwoFree();
        await using var app = FrontDoorApplication.Create(FrontDoorFixture.Settings("http://127.0.0.1:9/v1"), builder =>
            builder.UseOrleans(s => s.UseLocalhostClustering(siloPort, gatewayPort, serviceId: "principal-tests", clusterId: Guid.NewGuid().ToString("N"))
                .AddMemoryGrainStorage("store")));

        await app.StartAsync();
        await app.StopAsync();
    }
}
