namespace RTorrent.Abstractions;

/// <summary>
/// Creates torrent sources: readers of a feed of torrents (an RSS or Atom feed, an indexer's API, a mailbox...).
/// Registered by a plugin with <see cref="IPluginRegistry.AddTorrentSource"/>, or built into the engine (<c>rss</c>,
/// which reads RSS 2.0, Atom and torznab feeds over HTTP).
/// </summary>
/// <remarks>
/// <para>
/// Added in contracts 1.1. A source only <em>reads</em>: it turns the feed at <see cref="TorrentSourceContext.Address"/>
/// into a list of items. Everything else is the engine's, the same for every source: the schedule (each feed's poll
/// interval), the download rules (include and exclude patterns, smart episode matching), the history of items already
/// taken (so a restart adds nothing twice), and adding the torrents (downloading a .torrent link, or a magnet link).
/// </para>
/// <para>
/// A user names the source of each feed in the feed's configuration (<c>"source": "my-source"</c>; <c>rss</c> when
/// not given). One <see cref="ITorrentSource"/> is created per feed and lives until the feed is removed or changed, or
/// the program stops.
/// </para>
/// </remarks>
public interface ITorrentSourceFactory : IPluginComponent
{
    /// <summary>Creates the reader of one feed. It must not touch the network yet: that happens in <see cref="ITorrentSource.ReadAsync"/>.</summary>
    ITorrentSource Create(TorrentSourceContext context);
}

/// <summary>What a torrent source is asked to read. The host creates it; it grows only by init-only properties.</summary>
public sealed record TorrentSourceContext
{
    /// <summary>The feed's name as the user configured it (unique in the session).</summary>
    public required string FeedName { get; init; }

    /// <summary>The feed's address as the user wrote it (a URL for <c>rss</c>; a source may accept any text it understands).</summary>
    public required string Address { get; init; }

    /// <summary>The most items the host keeps from one read; a source may stop reading there.</summary>
    public int MaxItems { get; init; } = 1000;

    /// <summary>The most bytes a source should download for one read (the built-in <c>rss</c> refuses a larger feed).</summary>
    public long MaxBytes { get; init; } = 8 * 1024 * 1024;
}

/// <summary>One feed's reader.</summary>
/// <remarks>
/// Calls never overlap for one source. <see cref="ReadAsync"/> must honour its token; the host also bounds it with a
/// timeout (2 minutes by default). A read that fails for a reason the user can act on (the server is down, the feed is
/// not XML) throws <see cref="TorrentSourceException"/> with a message for people: it is shown as the feed's error and
/// the feed is read again at its next poll. Any other exception, a null result, or a read that does not finish in time
/// is a fault of the source: it is disabled for that feed (shown with the reason) until the feed is edited or the
/// program restarts.
/// </remarks>
public interface ITorrentSource : IAsyncDisposable
{
    /// <summary>Reads the feed once and returns its items, newest first as the feed lists them.</summary>
    ValueTask<TorrentSourceResult> ReadAsync(CancellationToken cancellationToken);
}

/// <summary>What one read of a feed gave.</summary>
public sealed record TorrentSourceResult
{
    /// <summary>The feed's own title, if it has one.</summary>
    public string? Title { get; init; }

    /// <summary>The items, in the feed's order (usually newest first).</summary>
    public required IReadOnlyList<TorrentSourceItem> Items { get; init; }
}

/// <summary>
/// One item of a feed: a torrent on offer. It needs an <see cref="Id"/>, a <see cref="Title"/> and something to add
/// (<see cref="TorrentUrl"/>, <see cref="MagnetUri"/>, or an <see cref="InfoHash"/> that becomes a magnet link);
/// the host drops items without them and cuts text longer than 2048 characters.
/// </summary>
public sealed record TorrentSourceItem
{
    /// <summary>What identifies the item in its feed for good (RSS <c>guid</c>, Atom <c>id</c>, else its link): the history remembers it.</summary>
    public required string Id { get; init; }

    /// <summary>The item's title: what download rules match against.</summary>
    public required string Title { get; init; }

    /// <summary>An http or https address of the .torrent file, or null.</summary>
    public string? TorrentUrl { get; init; }

    /// <summary>A magnet link, or null. When both are given the magnet link is used only if the .torrent cannot be fetched.</summary>
    public string? MagnetUri { get; init; }

    /// <summary>The info-hash in hex (40 characters, v1) or base32, if the feed says it.</summary>
    public string? InfoHash { get; init; }

    /// <summary>The payload's size in bytes, if known.</summary>
    public long? Size { get; init; }

    /// <summary>Seeders according to the indexer, if known.</summary>
    public int? Seeders { get; init; }

    /// <summary>When the item was published, if known.</summary>
    public DateTimeOffset? Published { get; init; }

    /// <summary>The indexer's category text, if any (shown only; rules do not match it).</summary>
    public string? Category { get; init; }
}

/// <summary>
/// A read failed for a reason the user can act on (unreachable server, HTTP error, a document that is not a feed, a
/// feed over the size limit). Its message is shown to the user as the feed's error.
/// </summary>
public class TorrentSourceException : Exception
{
    /// <summary>Creates the exception with a message for people.</summary>
    public TorrentSourceException(string message) : base(message) { }

    /// <summary>Creates the exception with a message for people and the cause.</summary>
    public TorrentSourceException(string message, Exception? innerException) : base(message, innerException) { }
}
