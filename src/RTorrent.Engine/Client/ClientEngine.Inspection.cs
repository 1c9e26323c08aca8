namespace RTorrent.Engine.Client;

/// <summary>
/// Reading several torrents in one trip to the engine loop: a remote client asks for the files, peers or pieces of
/// many torrents in one request, and one loop call per torrent would queue behind every tick.
/// </summary>
public sealed partial class ClientEngine
{
    /// <summary>Everything about each of <paramref name="torrents"/>, in their order, built in one call on the loop.</summary>
    public Task<IReadOnlyList<TorrentDetails>> GetDetailsAsync(IReadOnlyList<Torrent> torrents)
    {
        ArgumentNullException.ThrowIfNull(torrents);
        var copy = torrents.ToArray();
        return Loop.InvokeAsync<IReadOnlyList<TorrentDetails>>(() => Array.ConvertAll(copy, t => t.BuildDetails()));
    }

    /// <summary>
    /// Which pieces the connected peers have, what is still wanted from them and what is held unverified, for each of
    /// <paramref name="torrents"/> in their order (see <see cref="PieceAvailability"/>), built in one call on the loop.
    /// </summary>
    public Task<IReadOnlyList<PieceAvailability>> GetPieceAvailabilityAsync(IReadOnlyList<Torrent> torrents)
    {
        ArgumentNullException.ThrowIfNull(torrents);
        var copy = torrents.ToArray();
        return Loop.InvokeAsync<IReadOnlyList<PieceAvailability>>(() => Array.ConvertAll(copy, t =>
            t.Metainfo is null ? PieceAvailability.None : PieceAvailability.From(t.PieceManager, t.IsRunning)));
    }
}
