using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Storage;

/// <summary>Builds the storage contract's types from a parsed torrent.</summary>
public static class StorageFiles
{
    /// <summary>The torrent's files as storage sees them (pad files included, indexes kept).</summary>
    public static StorageFile[] FromMetainfo(TorrentMetainfo metainfo)
    {
        ArgumentNullException.ThrowIfNull(metainfo);
        var files = new StorageFile[metainfo.Files.Count];
        for (int i = 0; i < files.Length; i++)
        {
            var f = metainfo.Files[i];
            files[i] = new StorageFile(f.Index, f.Path, f.Length, f.IsPadding);
        }
        return files;
    }

    /// <summary>The context to open a torrent's storage with, under <paramref name="saveDirectory"/>.</summary>
    public static StorageContext CreateContext(TorrentMetainfo metainfo, string saveDirectory) =>
        new(saveDirectory, FromMetainfo(metainfo), metainfo.WireHash.ToHex());

    /// <summary>The torrent's piece-to-file layout (its piece count checked against the files).</summary>
    public static FileLayout CreateLayout(TorrentMetainfo metainfo) =>
        new(FromMetainfo(metainfo), metainfo.PieceLength, metainfo.PieceCount);
}
