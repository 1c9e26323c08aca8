using System.Net.Sockets;
using System.Text;

namespace RTorrent.Daemon;

/// <summary>
/// Tells systemd how the daemon is doing (<c>sd_notify</c>): <c>READY=1</c> once the RPC answers, so
/// <c>systemctl start</c> returns when the service can be used and units ordered after it (a web interface, Sonarr)
/// start only then; <c>STOPPING=1</c> when it begins to shut down; <c>STATUS=...</c> lines for <c>systemctl status</c>.
/// Does nothing when not started by systemd (<c>NOTIFY_SOCKET</c> unset). The protocol is one datagram per message
/// on a Unix socket, which is all this does (no libsystemd needed).
/// </summary>
public sealed class SystemdNotifier
{
    private readonly string? _socketPath;

    /// <summary>Uses <c>NOTIFY_SOCKET</c> from <paramref name="environment"/> (the process environment by default).</summary>
    public SystemdNotifier(Func<string, string?>? environment = null)
    {
        string? path = (environment ?? Environment.GetEnvironmentVariable)("NOTIFY_SOCKET");
        if (string.IsNullOrEmpty(path)) return;
        // '@' starts an abstract socket name (Linux): its first byte is NUL.
        _socketPath = path[0] == '@' ? "\0" + path[1..] : path;
    }

    /// <summary>Whether systemd listens.</summary>
    public bool IsActive => _socketPath is not null;

    /// <summary>The service is up.</summary>
    public void Ready(string status) => Send($"READY=1\nSTATUS={status}\nMAINPID={Environment.ProcessId}");

    /// <summary>What the service is doing now.</summary>
    public void Status(string status) => Send($"STATUS={status}");

    /// <summary>The service is shutting down.</summary>
    public void Stopping() => Send("STOPPING=1\nSTATUS=saving and stopping");

    private void Send(string message)
    {
        if (_socketPath is null) return;
        try
        {
            using var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
            socket.Connect(new UnixDomainSocketEndPoint(_socketPath));
            socket.Send(Encoding.UTF8.GetBytes(message));
        }
        catch (SocketException)
        {
            // systemd went away or the variable is stale: the daemon runs the same without it.
        }
    }
}
