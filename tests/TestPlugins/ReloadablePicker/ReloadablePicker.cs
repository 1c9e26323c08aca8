using RTorrent.Abstractions;

namespace RTorrent.TestPlugins;

public sealed class ReloadablePickerPlugin : IRTorrentPlugin
{
#if V2
    private const string Generation = "version 2";
#else
    private const string Generation = "version 1";
#endif

    public void Register(IPluginRegistry registry) => registry.AddPiecePicker(new Factory());

    private sealed class Factory : IPiecePickerFactory
    {
        public string Name => "reloadable";
        public string Version => Generation;
        public string Description => "Picks in order; " + Generation + ".";
        public IPiecePicker Create(PiecePickerContext context) => new Picker();
    }

    private sealed class Picker : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
        {
            var n = 0;
            for (var p = swarm.Wanted.NextSet(0); p >= 0 && n < ranked.Length; p = swarm.Wanted.NextSet(p + 1))
                if (peer.Pieces[p]) ranked[n++] = p;
            return n;
        }
    }
}
