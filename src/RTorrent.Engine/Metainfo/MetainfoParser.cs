namespace RTorrent.Engine.Metainfo;

/// <summary>Reads and validates metainfo (to be written by the foundation work).</summary>
internal static class MetainfoParser
{
    public static TorrentMetainfo Parse(ReadOnlyMemory<byte> data) => throw new NotImplementedException();
    public static TorrentMetainfo Load(string path) => throw new NotImplementedException();
    public static TorrentMetainfo FromInfoDictionary(ReadOnlyMemory<byte> infoBytes, IReadOnlyList<IReadOnlyList<string>> trackers) => throw new NotImplementedException();
}
