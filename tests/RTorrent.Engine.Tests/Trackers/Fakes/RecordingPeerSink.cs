using System.Collections.Concurrent;
using System.Net;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Tests.Trackers.Fakes;

internal sealed class RecordingPeerSink : IPeerSink
{
    public ConcurrentQueue<(IPEndPoint Peer, string Source)> Peers { get; } = new();

    public void AddPeers(IReadOnlyList<IPEndPoint> peers, string sourceName)
    {
        foreach (var p in peers) Peers.Enqueue((p, sourceName));
    }

    public bool Has(IPEndPoint peer) => Peers.Any(p => p.Peer.Equals(peer));
}
