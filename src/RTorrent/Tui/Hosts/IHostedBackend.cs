using RTorrent.Engine.Session;

namespace RTorrent.Tui.Hosts;

/// <summary>
/// A backend that shows several sessions (hosts) as one list. What belongs to one host and not to the list as a
/// whole (its settings, its daemon, where a torrent is added) is reached through <see cref="Host"/>; everything about
/// a torrent goes through the backend itself, which knows the host of every id it hands out.
/// </summary>
public interface IHostedBackend
{
    /// <summary>The hosts' names, in the order they were given (unique).</summary>
    IReadOnlyList<string> HostNames { get; }

    /// <summary>The host a torrent id (as this backend gives ids) belongs to, or null for an id it never gave.</summary>
    string? HostOf(string id);

    /// <summary>
    /// One host's own backend. Torrent ids in and out are the merged ones (what <see cref="HostOf"/> understands), so
    /// the id a host's <see cref="ITorrentBackend.AddTorrentAsync"/> returns can be looked for in the merged list.
    /// </summary>
    /// <exception cref="ArgumentException">No host has that name.</exception>
    ITorrentBackend Host(string name);
}
