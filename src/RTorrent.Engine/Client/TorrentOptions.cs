using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>How a torrent is set up when it is added.</summary>
public sealed record TorrentOptions
{
    /// <summary>The download folder.</summary>
    public required string SavePath { get; init; }
    /// <summary>Picker name ("rarest-first" by default).</summary>
    public string Picker { get; init; } = RarestFirstPickerFactory.PickerName;
    /// <summary>Storage name ("file" by default).</summary>
    public string Storage { get; init; } = "file";
    /// <summary>
    /// Files the user renamed (<see cref="Session.ClientSession.RenamePathAsync"/>): file index to its relative path,
    /// '/'-separated, for the files whose path differs from the metainfo's; null or empty when none is renamed.
    /// </summary>
    public IReadOnlyDictionary<int, string>? RenamedFiles { get; init; }
    /// <summary>Per-file priorities (missing entries are Normal).</summary>
    public IReadOnlyList<Priority>? FilePriorities { get; init; }
    /// <summary>Peers to connect to directly.</summary>
    public IReadOnlyList<IPEndPoint> Peers { get; init; } = [];
    /// <summary>Per-torrent download limit, bytes/s (0 = none).</summary>
    public long DownloadLimit { get; init; }
    /// <summary>Per-torrent upload limit, bytes/s (0 = none).</summary>
    public long UploadLimit { get; init; }
    /// <summary>Download in order with a window ahead of the playback position.</summary>
    public bool Sequential { get; init; }
    /// <summary>Peer sources disabled for this torrent (by name).</summary>
    public IReadOnlyList<string> DisabledPeerSources { get; init; } = [];
    /// <summary>Labels (see <see cref="TorrentLabels.Normalize"/>); the torrent's current ones are <see cref="Torrent.Labels"/>.</summary>
    public IReadOnlyList<string> Labels { get; init; } = [];
    /// <summary>
    /// The torrent's category (docs/CATEGORIES.md), or null. Adding through <c>ClientSession.AddAsync</c>: an unknown
    /// category is created with its default folders, and unless <see cref="UseCategoryFolder"/> is false the torrent's
    /// folder is the category's (its incomplete folder while the download is not complete) instead of <see cref="SavePath"/>.
    /// </summary>
    public string? Category { get; init; }
    /// <summary>With a <see cref="Category"/>: place the data in the category's folders (true, the default) or keep <see cref="SavePath"/>.</summary>
    public bool UseCategoryFolder { get; init; } = true;
    /// <summary>The category's seeding limits (set by the session from its categories).</summary>
    internal CategoryLimits? CategoryLimits { get; init; }
    /// <summary>The torrent's own peer limit (at least 1), or null to follow the session's per-torrent limit.</summary>
    public int? MaxConnections { get; init; }
    /// <summary>The tracker list by tier when it was edited (see <see cref="TrackerList.Normalize"/>); null: the metainfo's or magnet's.</summary>
    public IReadOnlyList<IReadOnlyList<string>>? Trackers { get; init; }
    /// <summary>Which seed ratio limit the torrent follows.</summary>
    public SeedRatioMode SeedRatioMode { get; init; } = SeedRatioMode.Global;
    /// <summary>The torrent's own seed ratio limit (needed for <see cref="SeedRatioMode.Custom"/>).</summary>
    public double? SeedRatioLimit { get; init; }
    /// <summary>Which idle limit the torrent follows (Transmission's seedIdleMode: the session's, its own, none).</summary>
    public SeedRatioMode SeedIdleMode { get; init; } = SeedRatioMode.Global;
    /// <summary>The torrent's own idle limit in minutes (needed for <see cref="SeedRatioMode.Custom"/>).</summary>
    public int? SeedIdleLimit { get; init; }
    /// <summary>Which seeding time limit the torrent follows (the session's, its own, none).</summary>
    public SeedRatioMode SeedingTimeMode { get; init; } = SeedRatioMode.Global;
    /// <summary>The torrent's own seeding time limit in minutes (needed for <see cref="SeedRatioMode.Custom"/>).</summary>
    public int? SeedingTimeLimit { get; init; }
    /// <summary>The torrent's own minimum seeding time in minutes, or null to follow the session's.</summary>
    public int? MinSeedingTime { get; init; }
    /// <summary>
    /// BEP 16 super-seeding while the torrent seeds with every piece (<see cref="SuperSeeder"/>); it turns itself off
    /// once every piece has been seen in the swarm.
    /// </summary>
    public bool SuperSeeding { get; init; }
}
