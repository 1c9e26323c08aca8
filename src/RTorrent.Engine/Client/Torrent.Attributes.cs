using RTorrent.Abstractions;
using RTorrent.Engine.Storage;

namespace RTorrent.Engine.Client;

/// <summary>BEP 47 attributes on disk: symlinks made at start, the executable bit set on complete files.</summary>
public sealed partial class Torrent
{
    /// <summary>
    /// Makes the torrent's symlinks (when <paramref name="links"/>: at start, like its empty files) and sets the
    /// executable bit on its complete 'x' files. Only the built-in file storage has a file system to do it on; a
    /// plugin storage gets the data only. A link or mode that cannot be made is logged and the rest goes on: the data
    /// is what the torrent is for. Links refused by the parser (target outside the folder) are logged, never made.
    /// </summary>
    private async Task ApplyFileAttributesAsync(bool links, CancellationToken ct)
    {
        if (Storage is not FileStorage fs || _metainfo is not { } meta) return;
        var jobs = new List<(string Path, string? Target)>();
        var problems = new List<string>();
        var have = _pieces.HaveField;
        Dictionary<string, string>? renamed = null;
        if (Options.RenamedFiles is { Count: > 0 } r)
        {
            renamed = new(StringComparer.Ordinal);
            foreach (var index in r.Keys) renamed[meta.Files[index].Path] = FileRenames.PathOf(meta, r, index);
        }
        foreach (var f in meta.Files)
        {
            if (f.IsPadding || FilePriorities[f.Index] == Priority.Skip || fs.GetFullPath(f.Index) is not { } path) continue;
            if (f.IsSymlink)
            {
                if (!links) continue;
                if (f.SymlinkTarget is not { } target)
                {
                    problems.Add($"symlink {f.Path} not made: {f.SymlinkProblem}");
                    continue;
                }
                var relative = renamed is not null && renamed.TryGetValue(target, out var moved) ? moved : target;
                try
                {
                    jobs.Add((path, PathGuard.Combine(fs.SaveDirectory, relative)));
                }
                catch (StorageIOException e)
                {
                    problems.Add($"symlink {f.Path} not made: {e.Message}");
                }
            }
            else if (f.IsExecutable && IsFileComplete(f, have))
            {
                jobs.Add((path, null));
            }
        }
        if (jobs.Count > 0)
        {
            var root = fs.SaveDirectory;
            void Run()
            {
                foreach (var (path, target) in jobs)
                {
                    try
                    {
                        if (target is null) FileAttributesWriter.MakeExecutable(root, path);
                        else FileAttributesWriter.CreateSymlink(root, path, target);
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        lock (problems) problems.Add(target is null ? $"cannot make {path} executable: {e.Message}" : $"symlink not made: {e.Message}");
                    }
                }
            }
            // At start, off the loop with the files' preparation. At completion, on the loop and at once: a chmod per
            // 'x' file is cheap, and a program that exits when the download completes (rtorrent download) must find
            // the bits set.
            if (links) await Task.Run(Run, ct);
            else Run();
        }
        foreach (var p in problems) Log(PluginLogLevel.Warning, p);
    }

    private bool IsFileComplete(Metainfo.TorrentFileEntry f, Pieces.Bitfield have)
    {
        if (f.Length == 0) return true;
        long pl = Meta.PieceLength;
        for (int p = (int)(f.Offset / pl), last = (int)((f.Offset + f.Length - 1) / pl); p <= last; p++)
            if (!have[p]) return false;
        return true;
    }

    /// <summary>After the download completed: the executable bits, at once (files become complete only now or at a check).</summary>
    private void ApplyModesAfterCompletion()
    {
        var done = ApplyFileAttributesAsync(links: false, CancellationToken.None);
        System.Diagnostics.Debug.Assert(done.IsCompleted, "without links the work is synchronous");
    }
}
