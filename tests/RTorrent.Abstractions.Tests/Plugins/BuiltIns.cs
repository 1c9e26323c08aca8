using RTorrent.Plugins.Conformance;

namespace RTorrent.Abstractions.Tests.Plugins;

/// <summary>Stand-ins for the engine's built-in components, registered first as the engine will.</summary>
internal sealed class BuiltIns : IRTorrentPlugin
{
    public void Register(IPluginRegistry registry)
    {
        registry.AddPiecePicker(new FirstWantedPickerFactory());
        registry.AddStorage(new NamedStorage("file"));
        registry.AddPeerSource(new NamedSource("tracker", allowedForPrivate: true));
        registry.AddPeerSource(new NamedSource("dht", allowedForPrivate: false));
        registry.AddPeerSource(new NamedSource("pex", allowedForPrivate: false));
        registry.AddTorrentSource(new RTorrent.Engine.Feeds.RssTorrentSourceFactory());
    }

    /// <summary>A simple correct picker ("rarest-first" by name): the wanted pieces the peer has, in index order.</summary>
    public sealed class FirstWantedPickerFactory : IPiecePickerFactory
    {
        public string Name => "rarest-first";
        public string Version => "1.0";
        public string Description => "Built-in default.";
        public IPiecePicker Create(PiecePickerContext context) => new FirstWantedPicker();
    }

    public sealed class FirstWantedPicker : IPiecePicker
    {
        public int Calls { get; private set; }

        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
        {
            Calls++;
            var n = 0;
            for (var p = swarm.Wanted.NextSet(0); p >= 0 && n < ranked.Length; p = swarm.Wanted.NextSet(p + 1))
                if (peer.Pieces[p]) ranked[n++] = p;
            return n;
        }
    }

    private sealed class NamedStorage(string name) : IStorageFactory
    {
        public string Name => name;
        public string Version => "1.0";
        public string Description => "Built-in.";
        public ITorrentStorage Open(StorageContext context) => throw new NotSupportedException();
    }

    private sealed class NamedSource(string name, bool allowedForPrivate) : IPeerSourceFactory
    {
        public string Name => name;
        public string Version => "1.0";
        public string Description => "Built-in.";
        public bool AllowedForPrivateTorrents => allowedForPrivate;
        public IPeerSource Create(PeerSourceContext context) => throw new NotSupportedException();
    }
}

/// <summary>Small swarm fixtures for guard tests.</summary>
internal static class Swarms
{
    /// <summary>10 pieces; we have 0 and 1, 9 is skipped; the peer has all but 5.</summary>
    public static (FakeSwarm Swarm, FakePeer Peer) Small()
    {
        var swarm = new FakeSwarm(10);
        swarm.Have[0] = true;
        swarm.Have[1] = true;
        swarm.SetPriority(9, Priority.Skip);
        var peer = new FakePeer(FakeBitfield.Of(10, Enumerable.Range(0, 10).Where(p => p != 5)));
        return (swarm, peer);
    }

    public static PiecePickerContext Context(int pieces = 10) =>
        new(pieces, 16384, pieces * 16384L, [new PickerFileSpan("f", 0, pieces * 16384L, 0, pieces - 1, false)]);
}
