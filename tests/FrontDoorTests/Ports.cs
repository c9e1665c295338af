using System.Net;
using System.Net.Sockets;

namespace MicroApps.Orleans.FrontDoorTests;

internal static class Ports
{
    /// <summary>Ports the OS reports free now; Orleans needs fixed silo and gateway ports, unlike Kestrel.</summary>
    public static (int Silo, int Gateway) TwoFree()
    {
        var a = new TcpListener(IPAddress.Loopback, 0);
        var b = new TcpListener(IPAddress.Loopback, 0);
        a.Start();
        b.Start();
        try
        {
            return (((IPEndPoint)a.LocalEndpoint).Port, ((IPEndPoint)b.LocalEndpoint).Port);
        }
        finally
        {
            a.Stop();
            b.Stop();
        }
    }
}
