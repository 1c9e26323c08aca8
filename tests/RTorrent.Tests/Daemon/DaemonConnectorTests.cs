using System.Net.Sockets;
using RTorrent.Cli;
using RTorrent.Daemon;
using RTorrent.Testing;

namespace RTorrent.Tests.Daemon;

public sealed class DaemonConnectorTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("rt-connect");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task No_socket_means_no_daemon()
    {
        Assert.Null(await DaemonConnector.TryLocalAsync(_dir, CancellationToken.None));
    }

    [Fact]
    public async Task A_socket_left_by_a_killed_daemon_is_not_a_daemon()
    {
        // A socket file nobody listens on any more: what kill -9 leaves. (.NET unlinks a socket's file when the socket
        // is closed, so the file is moved away from the name it was bound to first.) Connecting is refused at once.
        string path = Path.Combine(_dir, "rpc.sock");
        using (var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            socket.Bind(new UnixDomainSocketEndPoint(path + ".tmp"));
            socket.Listen();
            File.Move(path + ".tmp", path);
        }
        Assert.True(File.Exists(path));
        Assert.Null(await DaemonConnector.TryLocalAsync(_dir, CancellationToken.None));
    }

    [Fact]
    public void Systemd_notifications_go_to_the_socket_named_by_notify_socket()
    {
        string path = Path.Combine(_dir, "notify");
        using var listener = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        listener.Bind(new UnixDomainSocketEndPoint(path));
        var notifier = new SystemdNotifier(name => name == "NOTIFY_SOCKET" ? path : null);
        Assert.True(notifier.IsActive);
        notifier.Ready("RPC on x");
        var buffer = new byte[1024];
        int n = listener.Receive(buffer);
        Assert.StartsWith("READY=1\nSTATUS=RPC on x\nMAINPID=", System.Text.Encoding.UTF8.GetString(buffer, 0, n), StringComparison.Ordinal);
        Assert.False(new SystemdNotifier(_ => null).IsActive);
    }
}
