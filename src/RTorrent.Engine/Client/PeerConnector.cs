using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Client;

/// <summary>The session's connection budget, shared by every torrent (<see cref="ClientEngine"/>; on the loop).</summary>
internal interface IConnectionBudget
{
    /// <summary>Whether a new connection (either direction) fits under the global limit.</summary>
    bool HasRoom { get; }

    /// <summary>Takes one outgoing connection attempt from the global half-open and rate budget.</summary>
    bool TryBeginConnect();

    /// <summary>Returns the half-open slot of an attempt that ended (either way).</summary>
    void EndConnect();

    /// <summary>A connection joined a torrent.</summary>
    void Opened();

    /// <summary>A connection left a torrent.</summary>
    void Closed();
}

/// <summary>What the connector reads and does on its torrent (on the loop).</summary>
internal interface IConnectorHost
{
    /// <summary>Downloading, seeding or fetching metadata: connected to the swarm.</summary>
    bool IsRunning { get; }

    /// <summary>The torrent's peer limit in force.</summary>
    int MaxConnections { get; }

    /// <summary>A seed dials no seeds.</summary>
    bool IsComplete { get; }

    IReadOnlyList<Peer> Peers { get; }
    DateTimeOffset Now { get; }

    /// <summary>Our peer id: a handshake with it is ourselves; comparing it settles duplicate connections.</summary>
    byte[] PeerId { get; }

    /// <summary>Cancelled when the torrent stops: attempts in flight end.</summary>
    CancellationToken RunToken { get; }

    ILogger Logger { get; }

    /// <summary>A line for the torrent's own log (what the user sees in its Log tab).</summary>
    void Log(RTorrent.Abstractions.PluginLogLevel level, string message) => Logger.LogWarning("{Message}", message);

    /// <summary>Puts the torrent on the engine's tick list.</summary>
    void Activate();

    /// <summary>Ticks the torrent at <paramref name="at"/> (the earliest asked wins).</summary>
    void WakeAt(DateTimeOffset at);

    /// <summary>Dials a peer and runs the handshake (off the loop).</summary>
    Task<HandshakeResult> DialAsync(IPEndPoint endPoint, CancellationToken ct);

    /// <summary>Answers an incoming peer's handshake.</summary>
    Task AnswerAsync(HandshakeResult handshake, CancellationToken ct);

    /// <summary>Makes an admitted connection a peer of the torrent.</summary>
    void Open(HandshakeResult handshake, KnownPeer? known);
}

/// <summary>
/// A torrent's connections: dialling known peers while the torrent and the session have room (peers that are backing
/// off are woken for on the engine's schedule), admitting incoming ones, keeping one connection per peer and none to
/// ourselves or a banned peer, keeping open connections alive and dropping idle ones, and backing off from a peer that
/// left. Made when a torrent first has a peer to dial or to admit.
/// </summary>
internal sealed class PeerConnector(IConnectorHost host, PeerPool pool, IConnectionBudget budget)
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan KeepAliveInterval = TimeSpan.FromSeconds(90);
    private static readonly TimeSpan QuickHangUp = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Redial = TimeSpan.FromSeconds(10);

    /// <summary>Outgoing attempts in flight.</summary>
    public int HalfOpen { get; private set; }

    /// <summary>
    /// Starts connection attempts to known peers while the torrent has room. Returns whether candidates are waiting
    /// for the session's connection budget (then the next tick tries again); peers that are backing off are woken
    /// for on the engine's schedule, so a torrent whose peers all failed costs nothing until one may be tried.
    /// </summary>
    public bool ConnectMore(DateTimeOffset now)
    {
        if (!host.IsRunning || pool.Count == 0) return false;
        int room = host.MaxConnections - host.Peers.Count - HalfOpen;
        if (room <= 0) return false; // a connection closing ticks the torrent again
        var candidates = pool.Candidates(now, room, skipSeeds: host.IsComplete, out var nextAttempt);
        if (nextAttempt is { } at) host.WakeAt(at);
        foreach (var known in candidates)
        {
            if (!budget.HasRoom || !budget.TryBeginConnect()) return true;
            known.Connecting = true;
            HalfOpen++;
            host.Activate();
            _ = DialAsync(known, host.RunToken);
        }
        return false;
    }

    private string? _lastProxyError;
    private DateTimeOffset _lastProxyErrorAt;

    private async Task DialAsync(KnownPeer known, CancellationToken ct)
    {
        HandshakeResult? result = null;
        try
        {
            result = await host.DialAsync(known.EndPoint, ct);
        }
        catch (Proxies.ProxyException e)
        {
            // The proxy's answer (down, login refused, or its refusal to reach this peer) is the user's to see, once
            // a minute per different reason; the peer backs off below like any that could not be reached.
            if (e.Message != _lastProxyError || host.Now - _lastProxyErrorAt >= TimeSpan.FromMinutes(1))
            {
                _lastProxyError = e.Message;
                _lastProxyErrorAt = host.Now;
                host.Log(RTorrent.Abstractions.PluginLogLevel.Warning, $"connecting to {known.EndPoint}: {e.Message}");
            }
        }
        catch (Exception e) when (e is SocketException or TimeoutException or PeerProtocolException or IOException or OperationCanceledException)
        {
            // The peer's or the network's doing: it backs off below.
        }
        catch (Exception e)
        {
            host.Logger.LogError(e, "connecting to {Peer} failed", known.EndPoint);
        }
        finally
        {
            budget.EndConnect();
        }
        // Back on the loop (the await resumed on it).
        HalfOpen--;
        known.Connecting = false;
        if (result is null)
        {
            PeerPool.Failed(known, host.Now);
            return;
        }
        if (!host.IsRunning || ct.IsCancellationRequested)
        {
            result.Stream.Dispose();
            return;
        }
        Admit(result, known);
    }

    /// <summary>An incoming connection for this torrent passed its handshake (on the loop).</summary>
    public async Task AcceptAsync(HandshakeResult handshake)
    {
        var known = pool.Get(handshake.RemoteEndPoint);
        if (!host.IsRunning || host.Peers.Count >= host.MaxConnections || !budget.HasRoom || known is { Banned: true })
        {
            handshake.Stream.Dispose();
            return;
        }
        try
        {
            await host.AnswerAsync(handshake, host.RunToken);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException or OperationCanceledException)
        {
            handshake.Stream.Dispose();
            return;
        }
        Admit(handshake, known);
    }

    /// <summary>One connection per peer, none to ourselves or a banned peer; the rest become peers.</summary>
    private void Admit(HandshakeResult hs, KnownPeer? known)
    {
        if (hs.PeerId.AsSpan().SequenceEqual(host.PeerId))
        {
            if (known is not null) known.IsSelf = true;
            hs.Stream.Dispose();
            return;
        }
        // The same peer id twice means we dialled each other at the same moment; both ends must keep the same
        // connection, so keep the one opened by the side with the smaller peer id.
        foreach (var p in host.Peers.ToArray())
        {
            if (p.EndPoint.Equals(hs.RemoteEndPoint))
            {
                hs.Stream.Dispose();
                return;
            }
            if (!p.PeerId.AsSpan().SequenceEqual(hs.PeerId)) continue;
            bool weAreSmaller = host.PeerId.AsSpan().SequenceCompareTo(hs.PeerId) < 0;
            bool keepNew = hs.Outgoing == weAreSmaller;
            bool keepOld = p.Connection.IsOutgoing == weAreSmaller;
            if (keepNew && !keepOld)
            {
                p.Connection.Close("duplicate connection");
                break;
            }
            hs.Stream.Dispose();
            return;
        }
        if (known is { Banned: true })
        {
            hs.Stream.Dispose();
            return;
        }
        if (known is not null)
        {
            known.Connected = true;
            known.Failures = 0;
        }
        host.Open(hs, known);
    }

    /// <summary>Once a tick for each peer: a peer silent for 3 minutes is dropped; one we have not written to for 90 s gets a keep-alive.</summary>
    public static void Upkeep(Peer peer, DateTimeOffset now)
    {
        if (now - peer.LastReceived > IdleTimeout)
        {
            peer.Connection.Close("idle for 3 minutes");
            return;
        }
        if (now - peer.LastSent > KeepAliveInterval && peer.Connection.QueuedBytes == 0)
        {
            peer.LastSent = now;
            peer.Connection.Enqueue(stackalloc byte[MessageWriter.KeepAliveLength]);
        }
    }

    /// <summary>A peer left: it may be dialled again later, much later if it hung up at once without giving anything.</summary>
    public void OnPeerLeft(Peer peer)
    {
        if (pool.Get(peer.EndPoint) is not { } known) return;
        known.Connected = false;
        var now = host.Now;
        if (now - peer.ConnectedAt < QuickHangUp && peer.Download.Total == 0) PeerPool.Failed(known, now);
        else known.NextAttempt = now + Redial;
    }
}
