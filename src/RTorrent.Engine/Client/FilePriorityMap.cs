using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Client;

/// <summary>How files' priorities start and how they become pieces' priorities.</summary>
internal static class FilePriorityMap
{
    /// <summary>
    /// Each file's priority when the metainfo becomes known: as given (saved or chosen when adding), else as the magnet
    /// link selected (BEP 53 'so': the others are skipped), else normal.
    /// </summary>
    public static Priority[] Initial(TorrentMetainfo meta, IReadOnlyList<Priority>? given, IReadOnlyList<int>? selected)
    {
        var priorities = new Priority[meta.Files.Count];
        for (int i = 0; i < priorities.Length; i++)
        {
            priorities[i] = given is not null && i < given.Count ? given[i]
                : selected is not null ? (selected.Contains(i) ? Priority.Normal : Priority.Skip)
                : Priority.Normal;
        }
        return priorities;
    }

    /// <summary>A piece gets the highest priority of the files it touches; it is skipped only if all its files are.</summary>
    public static Priority[] ForPieces(TorrentMetainfo meta, IReadOnlyList<Priority> filePriorities)
    {
        var pieces = new Priority[meta.PieceCount];
        foreach (var f in meta.Files)
        {
            if (f.IsPadding || f.Length == 0) continue;
            int first = (int)(f.Offset / meta.PieceLength);
            int last = (int)((f.Offset + f.Length - 1) / meta.PieceLength);
            var priority = filePriorities[f.Index];
            for (int p = first; p <= last; p++) if (priority > pieces[p]) pieces[p] = priority;
        }
        return pieces;
    }
}
