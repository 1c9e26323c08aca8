using System.Runtime.InteropServices;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>Signals to one process by PID (the tests never signal by name).</summary>
internal static class Posix
{
    /// <summary>Ctrl+C.</summary>
    public const int SIGINT = 2;

    /// <summary>Cannot be caught: the process dies at once, like a crash or a power cut for its in-memory state.</summary>
    public const int SIGKILL = 9;

    /// <summary>Freezes the process (cannot be caught): it stops answering without closing anything.</summary>
    public const int SIGSTOP = 19;

    /// <summary>Thaws a process stopped by <see cref="SIGSTOP"/>.</summary>
    public const int SIGCONT = 18;

    /// <summary>A polite stop request (systemd, kill).</summary>
    public const int SIGTERM = 15;

    /// <summary>Sends <paramref name="signal"/> to the process <paramref name="pid"/>.</summary>
    /// <exception cref="IOException">The signal could not be sent (the process is gone, or not ours).</exception>
    public static void Kill(int pid, int signal)
    {
        if (pid <= 0) throw new ArgumentOutOfRangeException(nameof(pid), "Refusing to signal a process group or every process.");
        if (NativeMethods.kill(pid, signal) != 0)
            throw new IOException($"kill({pid}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which the repository keeps off.
        public static extern int kill(int pid, int sig);
#pragma warning restore SYSLIB1054
    }
}
