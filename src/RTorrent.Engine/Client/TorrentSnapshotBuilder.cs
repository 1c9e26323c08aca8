using System.Text;
using RTorrent.Abstractions;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Pieces;

namespace RTorrent.Engine.Client;

/// <summary>
/// The immutable pictures of a torrent the interface and the RPC read (on the loop): its row (<see cref="TorrentSnapshot"/>)
/// and its details (files, peers, sources, pieces, log). It only reads the torrent; whether the last row can be reused
/// is the torrent's to say (<see cref="Torrent.BuildSnapshot"/>).
/// </summary>
internal static class TorrentSnapshotBuilder
{
    /// <summary>The torrent's row as of now; <paramref name="trackerProblem"/> is its trackers' (looked up by the caller).</summary>
    public static TorrentSnapshot Summary(Torrent t, TrackerProblem? trackerProblem)
    {
        var peers = t.ConnectedPeers;
        var pieces = t.PieceManager;
        var meta = t.Metainfo;
        var state = t.State;
        long size = t.WantedSize();
        long done = meta is null ? 0 : size - Math.Min(size, pieces.BytesLeft());
        double progress = state == TorrentState.Checking
            ? (double)t.CheckedPieces / Math.Max(1, meta?.PieceCount ?? 1)
            : meta is null ? 0 : size == 0 ? 1 : (double)done / size;
        long rate = t.DownloadRate;
        TimeSpan? eta = state == TorrentState.Downloading && rate > 0 ? TimeSpan.FromSeconds((size - done) / (double)rate) : null;
        int seeds = 0, sendingToUs = 0, gettingFromUs = 0;
        foreach (var p in peers)
        {
            if (p.IsSeed) seeds++;
            // Transmission's definitions: unchoked and interested.
            if (p.AmInterested && !p.PeerChoking) sendingToUs++;
            if (p.PeerInterested && !p.AmChoking) gettingFromUs++;
        }
        var activity = t.Activity;
        var lists = t.SnapshotLists;
        return new TorrentSnapshot
        {
            Id = t.InfoHash.ToHex(),
            Name = t.Name,
            State = state,
            Error = state == TorrentState.FetchingMetadata ? MetadataStatus(t) : t.Error,
            InfoHashV1 = meta is null ? t.Magnet?.InfoHashV1?.ToHex() : meta.InfoHashV1?.ToHex(),
            InfoHashV2 = (meta?.InfoHashV2 ?? t.Magnet?.InfoHashV2) is { } v2 ? Convert.ToHexStringLower(v2) : null,
            SavePath = t.SavePath,
            Size = size,
            TotalSize = meta?.TotalSize ?? size,
            Done = done,
            Progress = progress,
            DownloadRate = rate,
            UploadRate = t.UploadRate,
            Downloaded = t.DownloadedTotal,
            Uploaded = t.UploadedTotal,
            Ratio = size == 0 ? 0 : (double)t.UploadedTotal / size,
            PeersConnected = peers.Count,
            SeedsConnected = seeds,
            PeersKnown = t.KnownPeerCount,
            Eta = eta,
            PieceCount = meta?.PieceCount ?? 0,
            PieceLength = meta?.PieceLength ?? 0,
            PiecesHave = pieces.HaveField.TrueCount,
            AddedAt = t.AddedAt,
            CompletedAt = t.CompletedAt,
            DownloadLimit = t.DownloadLimit,
            UploadLimit = t.UploadLimit,
            IsPrivate = meta?.IsPrivate ?? false,
            Sequential = t.Sequential,
            SuperSeeding = t.SuperSeeding,
            Picker = t.Options.Picker,
            Storage = t.Options.Storage,
            Comment = meta?.Comment,
            CreationDate = meta?.CreationDate,
            Wasted = t.Wasted,
            HashFailures = t.HashFailures,
            Labels = lists.Labels(t.Labels),
            Category = t.Category ?? "",
            Trackers = lists.Trackers(t.Trackers),
            WebSeeds = lists.WebSeeds(t.WebSeedUrls),
            WebSeedsSendingToUs = t.WebSeedsSendingToUs,
            QueuePosition = t.QueuePosition,
            IsForced = t.Forced,
            IsStalled = t.QueueStalled,
            StartedAt = activity.StartedAt,
            ActivityAt = activity.ActivityAt,
            DownloadingTimeBefore = activity.DownloadingBefore,
            DownloadingSince = activity.DownloadingSince,
            SeedingTimeBefore = activity.SeedingBefore,
            SeedingSince = activity.SeedingSince,
            PeersSendingToUs = sendingToUs,
            PeersGettingFromUs = gettingFromUs,
            CreatedBy = meta?.CreatedBy,
            MetadataProgress = meta is not null ? 1 : t.MetadataExchange.Progress,
            MaxConnections = t.MaxConnectionsLimit,
            SeedRatioMode = t.SeedRatioMode,
            SeedRatioLimit = t.SeedRatioLimit,
            SeedIdleMode = t.SeedIdleMode,
            SeedIdleLimit = t.SeedIdleLimit,
            SeedingTimeMode = t.SeedingTimeMode,
            SeedingTimeLimit = t.SeedingTimeLimit,
            MinSeedingTime = t.MinSeedingTime,
            IsFinished = t.IsFinishedWith(size),
            TrackerProblem = trackerProblem,
        };
    }

    /// <summary>What a magnet link is waiting for, so it never sits silently.</summary>
    private static string MetadataStatus(Torrent t)
    {
        var sources = new List<string>();
        foreach (var s in t.PeerSources)
        {
            try
            {
                foreach (var st in s.GetStatus())
                    sources.Add($"{st.Source} {st.State}{(st.PeersReported > 0 ? $" ({st.PeersReported} peers)" : "")}");
            }
            catch (Exception) { /* a broken source shows nothing here; its own row says why */ }
        }
        return $"metadata: {t.MetadataExchange.Status}; {t.ConnectedPeers.Count} connected, {t.KnownPeerCount} known" +
               (sources.Count > 0 ? "; " + string.Join(", ", sources.Distinct()) : "; no peer sources");
    }

    /// <summary>Everything about the torrent, with <paramref name="summary"/> as its row.</summary>
    public static TorrentDetails Details(Torrent t, TorrentSnapshot summary)
    {
        var manager = t.PieceManager;
        var meta = t.Metainfo;
        var have = manager.HaveField;
        var pieces = new PieceDisplayState[meta?.PieceCount ?? 0];
        for (int i = 0; i < pieces.Length; i++)
            pieces[i] = have[i] ? PieceDisplayState.Have
                : manager.InProgress[i] || manager.IsVerifying(i) ? PieceDisplayState.Downloading
                : manager.GetPriority(i) == Priority.Skip ? PieceDisplayState.Skipped
                : PieceDisplayState.Missing;
        var files = meta is null ? [] : meta.Files.Where(f => !f.IsPadding).Select(f => new FileSnapshot
        {
            Index = f.Index,
            Path = FileRenames.PathOf(meta, t.Options.RenamedFiles, f.Index),
            Length = f.Length,
            Done = FileDone(meta, f, have),
            Priority = t.FilePriorities[f.Index],
            Attributes = f.Attributes,
            SymlinkTarget = f.SymlinkTarget,
        }).ToList();
        var peers = t.ConnectedPeers.Select(p => new PeerSnapshot
        {
            Address = p.EndPoint.ToString(),
            Client = p.Client,
            Flags = PeerFlags(p),
            DownloadRate = p.Download.Rate,
            UploadRate = p.Upload.Rate,
            Downloaded = p.Download.Total,
            Uploaded = p.Upload.Total,
            Progress = p.Progress,
            RequestsOut = p.Outstanding.Count,
            RequestsIn = p.Incoming.Count,
            Source = p.Source,
            AmChoking = p.AmChoking,
            AmInterested = p.AmInterested,
            PeerChoking = p.PeerChoking,
            PeerInterested = p.PeerInterested,
            Transport = p.Connection.Transport,
        }).ToList();
        var sources = new List<PeerSourceStatus>();
        foreach (var s in t.PeerSources)
        {
            try { sources.AddRange(s.GetStatus()); }
            catch (Exception e) { sources.Add(new PeerSourceStatus { Source = s.GetType().Name, Endpoint = "?", State = "error", Message = e.Message }); }
        }
        return new TorrentDetails
        {
            Summary = summary,
            Files = files,
            Peers = peers,
            Sources = sources,
            WebSeeds = t.WebSeedSnapshots(),
            Pieces = pieces,
            Log = t.LogEntries,
        };
    }

    /// <summary>Bytes of the file in verified pieces.</summary>
    private static long FileDone(TorrentMetainfo meta, TorrentFileEntry f, Bitfield have)
    {
        if (f.Length == 0) return 0;
        long done = 0;
        int first = (int)(f.Offset / meta.PieceLength);
        int last = (int)((f.Offset + f.Length - 1) / meta.PieceLength);
        for (int p = first; p <= last; p++)
        {
            if (!have[p]) continue;
            long ps = p * meta.PieceLength, pe = ps + meta.GetPieceSize(p);
            done += Math.Min(pe, f.Offset + f.Length) - Math.Max(ps, f.Offset);
        }
        return done;
    }

    /// <summary>
    /// A peer's state in the letters of rtorrent and Transmission: d/D we want from it (choked/unchoked), u/U it wants
    /// from us, I incoming, E RC4 (e: MSE handshake, then plaintext), F fast extension (BEP 6), S snubbed, O optimistic
    /// slot, and its source.
    /// </summary>
    internal static string PeerFlags(Peer p)
    {
        var s = new StringBuilder();
        if (p.AmInterested) s.Append(p.PeerChoking ? 'd' : 'D');
        if (p.PeerInterested) s.Append(p.AmChoking ? 'u' : 'U');
        if (!p.Connection.IsOutgoing) s.Append('I');
        if (p.Connection.Encryption.IsEncrypted) s.Append('E');
        else if (p.Connection.Encryption.ViaMse) s.Append('e');
        if (p.SupportsFast) s.Append('F');
        if (p.Snubbed) s.Append('S');
        if (p.OptimisticSince is not null) s.Append('O');
        s.Append(p.Source switch
        {
            "pex" => 'X',
            "dht" => 'H',
            "tracker" => 'T',
            "lsd" => 'L',
            _ => ' ',
        });
        return s.ToString().TrimEnd();
    }
}
