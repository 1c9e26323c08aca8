namespace RTorrent.Engine.Client;

/// <summary>
/// The torrent's side of moving its data and renaming its files: only the state changes, on the loop. The work is done
/// by <see cref="Storage.DataMover"/>, <see cref="FileRenames"/> and <see cref="Session.TorrentRelocator"/>.
/// </summary>
public sealed partial class Torrent
{
    /// <summary>The torrent's data is now in <paramref name="savePath"/> (its storage already switched there).</summary>
    internal void SetSavePathOnLoop(string savePath)
    {
        _host.Loop.AssertOnLoop();
        Options = Options with { SavePath = savePath };
        _host.OnTorrentChanged(this);
    }

    /// <summary>
    /// Waits until the pieces handed to the disk before the torrent stopped are written (or have failed): a stopped
    /// torrent starts no new writes, but the last verified pieces may still be on their way.
    /// </summary>
    internal async Task WaitForPendingWritesAsync(CancellationToken cancellationToken)
    {
        while ((_completion?.PendingDiskBytes ?? 0) != 0) await Task.Delay(10, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The torrent's files now have these paths (its storage already uses them); empty when none is renamed.</summary>
    internal void SetRenamedFilesOnLoop(IReadOnlyDictionary<int, string> renamed)
    {
        _host.Loop.AssertOnLoop();
        Options = Options with { RenamedFiles = renamed.Count == 0 ? null : renamed };
        _host.OnTorrentChanged(this);
    }
}
