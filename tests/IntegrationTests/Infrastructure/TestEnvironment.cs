using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace MicroApps.Orleans.IntegrationTests.Infrastructure;

/// <summary>Where the repository, the Azurite install and the built silo are.</summary>
internal static class TestEnvironment
{
    public const string AzuriteVariable = "MICROAPPS_AZURITE";

    private static readonly Lazy<string> Root = new(FindRepositoryRoot);

    public static string RepositoryRoot => Root.Value;

    /// <summary>The npm Azurite binary: <c>MICROAPPS_AZURITE</c>, else the repo-local install that test.sh makes.</summary>
    public static string AzuriteBinary
    {
        get
        {
            var configured = Environment.GetEnvironmentVariable(AzuriteVariable);
            var path = string.IsNullOrWhiteSpace(configured)
                ? Path.Combine(RepositoryRoot, ".tools", "azurite", "node_modules", ".bin", "azurite")
                : configured;
            if (!File.Exists(path))
            {
                throw new InvalidOperationException(
                    $"Azurite was not found at '{path}'. Run ./test.sh or `scripts/azurite.sh install`, or set {AzuriteVariable}.");
            }

            return path;
        }
    }

    /// <summary>The silo built with the same configuration as this test assembly (see the csproj).</summary>
    public static string SiloAssembly
    {
        get
        {
            var path = typeof(TestEnvironment).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
                .Single(a => a.Key == "SiloAssemblyPath").Value!;
            if (!File.Exists(path))
            {
                throw new InvalidOperationException($"The silo is not built at '{path}'. Build tests/IntegrationTests (it builds src/Silo).");
            }

            return path;
        }
    }

    /// <summary>A TCP port nobody listens on right now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid().ToString("N")[..12]}";

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MicroApps.Orleans.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"MicroApps.Orleans.sln not found above {AppContext.BaseDirectory}.");
    }
}
