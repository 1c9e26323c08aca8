using RTorrent.Abstractions;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Resume;

/// <summary>Which of the pieces resume data claims can still be trusted.</summary>
public sealed class ResumeValidation
{
    internal ResumeValidation(byte[] trusted, int trustedCount, int[] recheck, string[] reasons)
    {
        TrustedPieces = trusted;
        TrustedCount = trustedCount;
        PiecesToRecheck = recheck;
        Reasons = reasons;
    }

    /// <summary>The pieces that can be marked done without hashing (BEP 3 bitfield layout).</summary>
    public byte[] TrustedPieces { get; }

    /// <summary>Number of trusted pieces.</summary>
    public int TrustedCount { get; }

    /// <summary>
    /// Pieces the resume data claimed but that lie in a file that changed: hash them
    /// (<see cref="RecheckOptions.Pieces"/>) before using them. Sorted.
    /// </summary>
    public IReadOnlyList<int> PiecesToRecheck { get; }

    /// <summary>One line per changed file, for the torrent's log ("t/a: size changed from 10 to 4").</summary>
    public IReadOnlyList<string> Reasons { get; }

    /// <summary>Whether every claimed piece is trusted.</summary>
    public bool IsIntact => PiecesToRecheck.Count == 0;
}

/// <summary>
/// Decides whether the files still look as they did when resume data was saved, per file, so that only the pieces
/// in changed files are rehashed.
/// </summary>
/// <remarks>
/// The file states come from <see cref="ITorrentStorage.ProbeAsync"/>. Only files holding bytes of a claimed piece
/// matter. A file is judged by what it was when saved:
/// <list type="bullet">
/// <item><b>complete</b> (every piece touching it was verified): nothing of ours writes it again, so any change of
/// size or modification time means someone else changed it;</item>
/// <item><b>incomplete</b>: the download went on after the save (a kill -9 leaves the last periodic save behind), so
/// the file may have grown and its time moved forward through our own writes. It must still exist, be no shorter
/// than at the save, and not be older than at the save (an older time means it was replaced by another copy).</item>
/// </list>
/// Media that keep no modification times are judged by size alone.
/// </remarks>
public static class ResumeValidator
{
    /// <summary>Checks <paramref name="data"/> against the files' current <paramref name="states"/> (one per file, pad files included).</summary>
    /// <exception cref="ArgumentException">The data, layout and states do not describe the same torrent.</exception>
    public static ResumeValidation Validate(ResumeData data, FileLayout layout, IReadOnlyList<StorageFileState> states) =>
        Validate(data, layout, states, []);

    /// <summary>
    /// As <see cref="Validate(ResumeData, FileLayout, IReadOnlyList{StorageFileState})"/>, with the pieces the torrent's
    /// <see cref="PieceJournal"/> adds to the claimed ones. A journaled piece was written after the save, so a file is
    /// judged by what the resume file claimed (a file the journal completed is still judged as one that was downloading:
    /// it grew and got newer through our own writes); a journaled piece is trusted, or rechecked, like a claimed one.
    /// </summary>
    public static ResumeValidation Validate(ResumeData data, FileLayout layout, IReadOnlyList<StorageFileState> states, IReadOnlyList<int> journaled)
    {
        ArgumentNullException.ThrowIfNull(journaled);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(layout);
        ArgumentNullException.ThrowIfNull(states);
        if (data.PieceCount != layout.PieceCount || data.Files.Count != layout.Files.Count || states.Count != layout.Files.Count)
            throw new ArgumentException("Resume data, layout and file states must describe the same torrent.");

        var atSave = PieceBits.FromBytes(data.VerifiedPieces, data.PieceCount);
        var claimed = PieceBits.FromBytes(data.VerifiedPieces, data.PieceCount);
        foreach (int p in journaled) if ((uint)p < (uint)data.PieceCount) claimed.Set(p);
        var trusted = PieceBits.FromBytes(claimed.ToBytes(), data.PieceCount);
        var recheck = new SortedSet<int>();
        var reasons = new List<string>();

        foreach (var file in layout.Files)
        {
            if (file.IsPadding || file.Length == 0) continue;
            var (first, last) = layout.GetPieceRange(file.Index);
            bool complete = true, anyAtSave = false;
            int lastClaimed = -1;
            for (int p = first; p <= last; p++)
            {
                if (claimed[p]) lastClaimed = p;
                if (!atSave[p]) complete = false;
                else anyAtSave = true;
            }
            if (lastClaimed < 0) continue;
            // The file must hold every byte of its claimed pieces, whatever it looked like at the save.
            long needed = Math.Min(file.Length,
                layout.GetPieceOffset(lastClaimed) + layout.GetPieceSize(lastClaimed) - layout.GetFileOffset(file.Index));

            var now = states[file.Index];
            var why = now.Exists && now.Length < needed
                ? $"is {now.Length} bytes, too short for its verified pieces ({needed} needed)"
                // Only journaled pieces in a file that was not there at the save: our own writes created it.
                : !anyAtSave && !data.Files[file.Index].Exists && now.Exists ? null
                : Judge(data.Files[file.Index], now, complete);
            if (why is null) continue;
            reasons.Add($"{file.Path}: {why}");
            for (int p = first; p <= last; p++)
            {
                if (claimed[p])
                {
                    trusted.Clear(p);
                    recheck.Add(p);
                }
            }
        }
        return new ResumeValidation(trusted.ToBytes(), trusted.Count, [.. recheck], [.. reasons]);
    }

    private static string? Judge(StorageFileState saved, StorageFileState now, bool complete)
    {
        if (!now.Exists) return "missing";
        if (!saved.Exists) return "did not exist when the resume data was saved";
        if (complete)
        {
            if (now.Length != saved.Length) return $"size changed from {saved.Length} to {now.Length}";
            if (saved.LastWriteUtc is { } t && now.LastWriteUtc is { } n && n != t)
                return $"modified since the resume data was saved ({t:u} -> {n:u})";
            return null;
        }
        if (now.Length < saved.Length) return $"shrank from {saved.Length} to {now.Length} bytes";
        if (saved.LastWriteUtc is { } ts && now.LastWriteUtc is { } ns && ns < ts)
            return $"is older than when the resume data was saved ({ts:u} -> {ns:u}): replaced";
        return null;
    }
}
