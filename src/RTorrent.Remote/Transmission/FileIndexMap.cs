using System.Runtime.CompilerServices;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// File indices as a Transmission client counts them. The engine keeps BEP 47 padding files in its file list (their
/// bytes sit between real files inside pieces); Transmission's clients must never see them, so their file
/// <c>i</c> is the i-th file that is not padding, everywhere: <c>files</c>, <c>fileStats</c>, <c>priorities</c>,
/// <c>wanted</c>, <c>files-wanted</c>, <c>priority-high</c>, <c>file-count</c>.
/// </summary>
internal sealed class FileIndexMap
{
    private static readonly ConditionalWeakTable<TorrentMetainfo, FileIndexMap> Cache = new();

    private readonly int[] _engineIndex;

    private FileIndexMap(TorrentMetainfo meta)
    {
        _engineIndex = meta.Files.Where(f => !f.IsPadding).Select(f => f.Index).ToArray();
    }

    /// <summary>The map of <paramref name="meta"/> (made once per metainfo).</summary>
    public static FileIndexMap Of(TorrentMetainfo meta) => Cache.GetValue(meta, m => new FileIndexMap(m));

    /// <summary>Files a client sees.</summary>
    public int Count => _engineIndex.Length;

    /// <summary>The engine's index of the client's file <paramref name="index"/>, if there is such a file.</summary>
    public bool TryGetEngineIndex(long index, out int engineIndex)
    {
        if (index >= 0 && index < _engineIndex.Length)
        {
            engineIndex = _engineIndex[index];
            return true;
        }
        engineIndex = -1;
        return false;
    }

    /// <summary>The engine's index of every file a client sees, in the client's order.</summary>
    public IReadOnlyList<int> EngineIndices => _engineIndex;
}
