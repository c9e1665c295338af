using System.Runtime.InteropServices;

namespace MicroApps.Orleans.IntegrationTests.Infrastructure;

/// <summary>POSIX signals: .NET can SIGKILL a process but has no API to send SIGTERM to another one.</summary>
internal static class Signals
{
    private const int SigTerm = 15;

    public static void Terminate(int pid)
    {
        if (kill(pid, SigTerm) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            // ESRCH: it is already gone, which is what we wanted.
            if (errno != 3)
            {
                throw new InvalidOperationException($"kill({pid}, SIGTERM) failed with errno {errno}.");
            }
        }
    }

    [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport would need unsafe code enabled for one call in tests.
    private static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
}
