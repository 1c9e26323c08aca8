using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Text.Json;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Remote.Transmission;

/// <summary>What a field needs beyond the torrent's snapshot.</summary>
[Flags]
internal enum FieldNeeds
{
    /// <summary>The snapshot alone (one pass over the session's list).</summary>
    Snapshot = 0,
    /// <summary>The torrent's <see cref="TorrentDetails"/> (files, peers, trackers, pieces).</summary>
    Details = 1,
    /// <summary>The torrent's <see cref="PieceAvailability"/>.</summary>
    Availability = 2,
    /// <summary>The engine's torrent (its metainfo).</summary>
    Torrent = 4,
}

/// <summary>One torrent as torrent-get writes it.</summary>
internal sealed class TorrentRow
{
    public required TorrentSnapshot Snapshot { get; set; }
    public int Id { get; set; }
    public TorrentDetails? Details { get; set; }
    public PieceAvailability? Availability { get; set; }
    public Torrent? Torrent { get; set; }
}

/// <summary>What every row of one request shares.</summary>
internal sealed class FieldScope
{
    public required DateTimeOffset Now { get; init; }

    /// <summary>The session's seed ratio limit in force (null: none).</summary>
    public double? SessionSeedRatio { get; init; }

    /// <summary>The session's seed ratio limit, on or off (what a torrent following it shows).</summary>
    public double SessionSeedRatioShown { get; init; }

    /// <summary>The session's idle limit in minutes, on or off (what a torrent without its own shows).</summary>
    public int SessionIdleShown { get; init; } = 30;

    /// <summary>The session's idle limit in force in minutes (null: off).</summary>
    public int? SessionIdleLimit { get; init; }

    /// <summary>The session's minimum seeding time in minutes.</summary>
    public int SessionMinSeedingTime { get; init; }

    /// <summary>The session's seeding time limit in minutes, on or off (what a torrent without its own shows).</summary>
    public int SessionSeedingTimeShown { get; init; } = 1440;

    /// <summary>The session folder, where the .torrent files are kept.</summary>
    public string? SessionDirectory { get; init; }
}

/// <summary>Writes one field's value.</summary>
internal delegate void FieldWriter(Utf8JsonWriter writer, TorrentRow row, FieldScope scope);

/// <summary>A torrent-get field: its name, what it needs, and how its value is written.</summary>
internal sealed class TorrentField(string name, FieldNeeds needs, FieldWriter write)
{
    public string Name { get; } = name;
    public JsonEncodedText EncodedName { get; } = JsonEncodedText.Encode(name);
    public FieldNeeds Needs { get; } = needs;
    public FieldWriter Write { get; } = write;
}

/// <summary>
/// Every torrent-get field Transmission 4.0 answers (its isSupportedTorrentGetField), one writer each, with
/// Transmission's units: dates in unix seconds (0 for never), rates in bytes/s, limits in kB/s (1000 bytes), ratios as
/// tr_getRatio, eta -1/-2, file indices without padding files. docs/RPC.md has the table of where each comes from.
/// </summary>
internal static class TorrentFields
{
    /// <summary>By name.</summary>
    public static FrozenDictionary<string, TorrentField> All { get; } = Build().ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);

    private static IEnumerable<TorrentField> Build()
    {
        const FieldNeeds S = FieldNeeds.Snapshot, D = FieldNeeds.Details, A = FieldNeeds.Availability, T = FieldNeeds.Torrent;
        static TorrentField F(string name, FieldNeeds needs, FieldWriter write) => new(name, needs, write);

        yield return F("activityDate", S, (w, r, _) => w.WriteNumberValue(Units.UnixSeconds(r.Snapshot.ActivityAt)));
        yield return F("addedDate", S, (w, r, _) => w.WriteNumberValue(Units.UnixSeconds(r.Snapshot.AddedAt)));
        yield return F("availability", A, (w, r, _) =>
        {
            w.WriteStartArray();
            foreach (int n in r.Availability!.Peers) w.WriteNumberValue(n);
            w.WriteEndArray();
        });
        yield return F("bandwidthPriority", S, (w, _, _) => w.WriteNumberValue(0)); // no bandwidth priorities: all normal
        yield return F("comment", S, (w, r, _) => w.WriteStringValue(r.Snapshot.Comment ?? ""));
        yield return F("corruptEver", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.HashFailures * r.Snapshot.PieceLength));
        yield return F("creator", S, (w, r, _) => w.WriteStringValue(r.Snapshot.CreatedBy ?? ""));
        yield return F("dateCreated", S, (w, r, _) => w.WriteNumberValue(Units.UnixSeconds(r.Snapshot.CreationDate)));
        yield return F("desiredAvailable", A, (w, r, _) => w.WriteNumberValue(r.Availability!.DesiredAvailable));
        yield return F("doneDate", S, (w, r, _) => w.WriteNumberValue(Units.UnixSeconds(r.Snapshot.CompletedAt)));
        yield return F("downloadDir", S, (w, r, _) => w.WriteStringValue(r.Snapshot.SavePath));
        yield return F("downloadedEver", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.Downloaded));
        yield return F("downloadLimit", S, (w, r, _) => w.WriteNumberValue(Units.ToKBps(r.Snapshot.DownloadLimit)));
        yield return F("downloadLimited", S, (w, r, _) => w.WriteBooleanValue(r.Snapshot.DownloadLimit > 0));
        yield return F("editDate", S, (w, _, _) => w.WriteNumberValue(0)); // not tracked
        yield return F("error", S, (w, r, _) => w.WriteNumberValue(Units.Error(r.Snapshot)));
        yield return F("errorString", S, (w, r, _) => w.WriteStringValue(Units.ErrorString(r.Snapshot)));
        yield return F("eta", S, (w, r, s) => w.WriteNumberValue(Units.Eta(r.Snapshot, s.SessionSeedRatio)));
        yield return F("etaIdle", S, (w, r, s) => w.WriteNumberValue(Units.EtaIdle(r.Snapshot, s)));
        yield return F("file-count", T, (w, r, _) => w.WriteNumberValue(r.Torrent?.Metainfo is { } m ? FileIndexMap.Of(m).Count : 0));
        yield return F("files", D, WriteFiles);
        yield return F("fileStats", D, WriteFileStats);
        yield return F("group", S, (w, r, _) => w.WriteStringValue(r.Snapshot.Category)); // the category (docs/CATEGORIES.md)
        yield return F("hashString", S, (w, r, _) => w.WriteStringValue(r.Snapshot.Id));
        yield return F("haveUnchecked", A, (w, r, _) => w.WriteNumberValue(r.Availability!.UncheckedBytes));
        yield return F("haveValid", D, (w, r, _) => w.WriteNumberValue(r.Details!.Files.Sum(f => f.Done)));
        yield return F("honorsSessionLimits", S, (w, _, _) => w.WriteBooleanValue(true)); // a torrent's limiter is a child of the session's
        yield return F("id", S, (w, r, _) => w.WriteNumberValue(r.Id));
        yield return F("isFinished", S, (w, r, _) => w.WriteBooleanValue(r.Snapshot.IsFinished));
        yield return F("isPrivate", S, (w, r, _) => w.WriteBooleanValue(r.Snapshot.IsPrivate));
        yield return F("isStalled", S, (w, r, _) => w.WriteBooleanValue(r.Snapshot.IsStalled)); // no payload for queue-stalled-minutes
        yield return F("labels", S, (w, r, _) => WriteStrings(w, r.Snapshot.Labels));
        yield return F("leftUntilDone", S, (w, r, _) => w.WriteNumberValue(Units.LeftUntilDone(r.Snapshot)));
        yield return F("magnetLink", S, (w, r, _) => w.WriteStringValue(MagnetOf(r.Snapshot)));
        yield return F("manualAnnounceTime", S, (w, _, _) => w.WriteNumberValue(0)); // a reannounce is always taken
        yield return F("maxConnectedPeers", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.MaxConnections));
        yield return F("metadataPercentComplete", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.MetadataProgress));
        yield return F("name", S, (w, r, _) => w.WriteStringValue(r.Snapshot.Name));
        yield return F("peer-limit", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.MaxConnections));
        yield return F("peers", D, WritePeers);
        yield return F("peersConnected", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.PeersConnected));
        yield return F("peersFrom", D, WritePeersFrom);
        yield return F("peersGettingFromUs", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.PeersGettingFromUs));
        yield return F("peersSendingToUs", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.PeersSendingToUs));
        yield return F("percentComplete", S, (w, r, _) => w.WriteNumberValue(
            r.Snapshot.PieceCount == 0 ? 0 : (double)r.Snapshot.PiecesHave / r.Snapshot.PieceCount));
        yield return F("percentDone", S, (w, r, _) => w.WriteNumberValue(PercentDone(r.Snapshot)));
        yield return F("pieceCount", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.PieceCount));
        yield return F("pieces", D, WritePieces);
        yield return F("pieceSize", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.PieceLength));
        yield return F("primary-mime-type", T, (w, r, _) => w.WriteStringValue(MimeTypes.PrimaryOf(r.Torrent?.Metainfo)));
        yield return F("priorities", D, (w, r, _) =>
        {
            w.WriteStartArray();
            foreach (var f in r.Details!.Files) w.WriteNumberValue(PriorityNumber(f.Priority));
            w.WriteEndArray();
        });
        yield return F("queuePosition", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.QueuePosition));
        yield return F("rateDownload", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.DownloadRate));
        yield return F("rateUpload", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.UploadRate));
        yield return F("recheckProgress", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.State == TorrentState.Checking ? r.Snapshot.Progress : 0));
        yield return F("secondsDownloading", S, (w, r, s) => w.WriteNumberValue((long)r.Snapshot.DownloadingTime(s.Now).TotalSeconds));
        yield return F("secondsSeeding", S, (w, r, s) => w.WriteNumberValue((long)r.Snapshot.SeedingTime(s.Now).TotalSeconds));
        yield return F("seedIdleLimit", S, (w, r, s) => w.WriteNumberValue(r.Snapshot.SeedIdleLimit ?? s.SessionIdleShown));
        yield return F("seedIdleMode", S, (w, r, _) => w.WriteNumberValue((int)r.Snapshot.SeedIdleMode));
        // RTorrent's own (qBittorrent's seeding_time_limit, in minutes): docs/SEEDING-RULES.md.
        yield return F("seedingTimeLimit", S, (w, r, s) => w.WriteNumberValue(r.Snapshot.SeedingTimeLimit ?? s.SessionSeedingTimeShown));
        yield return F("seedingTimeMode", S, (w, r, _) => w.WriteNumberValue((int)r.Snapshot.SeedingTimeMode));
        yield return F("minSeedingTime", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.MinSeedingTime ?? -1)); // -1: the session's
        yield return F("seedRatioLimit", S, (w, r, s) => w.WriteNumberValue(r.Snapshot.SeedRatioLimit ?? s.SessionSeedRatioShown));
        yield return F("seedRatioMode", S, (w, r, _) => w.WriteNumberValue((int)r.Snapshot.SeedRatioMode));
        yield return F("sizeWhenDone", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.Size));
        yield return F("source", T, (w, r, _) => w.WriteStringValue(r.Torrent?.Metainfo?.Source ?? ""));
        yield return F("startDate", S, (w, r, _) => w.WriteNumberValue(Units.UnixSeconds(r.Snapshot.StartedAt)));
        yield return F("status", S, (w, r, _) => w.WriteNumberValue(Units.Status(r.Snapshot)));
        yield return F("superSeeding", S, (w, r, _) => w.WriteBooleanValue(r.Snapshot.SuperSeeding)); // RTorrent's own (BEP 16)
        yield return F("torrentFile", S, (w, r, s) => w.WriteStringValue(TorrentFileOf(r.Snapshot, s)));
        yield return F("totalSize", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.TotalSize));
        yield return F("trackerList", S, (w, r, _) => w.WriteStringValue(Trackers.ToTrackerList(r.Snapshot.Trackers)));
        yield return F("trackers", S, (w, r, _) => Trackers.WriteTrackers(w, r.Snapshot.Trackers));
        yield return F("trackerStats", D, (w, r, _) => Trackers.WriteTrackerStats(w, r.Details!));
        yield return F("uploadedEver", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.Uploaded));
        yield return F("uploadLimit", S, (w, r, _) => w.WriteNumberValue(Units.ToKBps(r.Snapshot.UploadLimit)));
        yield return F("uploadLimited", S, (w, r, _) => w.WriteBooleanValue(r.Snapshot.UploadLimit > 0));
        yield return F("uploadRatio", S, (w, r, _) => w.WriteNumberValue(UploadRatio(r.Snapshot)));
        yield return F("wanted", D, (w, r, _) =>
        {
            // 0 and 1, not booleans: Transmission 3.00 wrote numbers and 4.0.2 went back to them (clients parse both ways).
            w.WriteStartArray();
            foreach (var f in r.Details!.Files) w.WriteNumberValue(f.Priority == Priority.Skip ? 0 : 1);
            w.WriteEndArray();
        });
        yield return F("webseeds", S, (w, r, _) => WriteStrings(w, r.Snapshot.WebSeeds));
        yield return F("webseedsSendingToUs", S, (w, r, _) => w.WriteNumberValue(r.Snapshot.WebSeedsSendingToUs));
    }

    /// <summary>(have of wanted) / wanted, as Transmission's percentDone; 0 before the metadata arrives.</summary>
    public static double PercentDone(TorrentSnapshot t) =>
        t.PieceCount == 0 ? 0 : t.Size == 0 ? 1 : (double)t.Done / t.Size;

    /// <summary>Transmission's uploadRatio: uploaded over downloaded (over the verified data when nothing was downloaded).</summary>
    public static double UploadRatio(TorrentSnapshot t) => Units.Ratio(t.Uploaded, t.Downloaded > 0 ? t.Downloaded : t.Done);

    /// <summary>tr_priority_t of a file: -1 low, 0 normal, 1 high (a skipped file shows normal: its wanted flag is 0).</summary>
    public static int PriorityNumber(Priority p) => p switch
    {
        Priority.Low => -1,
        Priority.High => 1,
        _ => 0,
    };

    private static void WriteStrings(Utf8JsonWriter w, IReadOnlyList<string> values)
    {
        w.WriteStartArray();
        foreach (var v in values) w.WriteStringValue(v);
        w.WriteEndArray();
    }

    private static readonly JsonEncodedText BytesCompleted = JsonEncodedText.Encode("bytesCompleted");
    private static readonly JsonEncodedText Length = JsonEncodedText.Encode("length");
    private static readonly JsonEncodedText NameKey = JsonEncodedText.Encode("name");
    private static readonly JsonEncodedText PriorityKey = JsonEncodedText.Encode("priority");
    private static readonly JsonEncodedText WantedKey = JsonEncodedText.Encode("wanted");

    private static void WriteFiles(Utf8JsonWriter w, TorrentRow r, FieldScope _)
    {
        w.WriteStartArray();
        foreach (var f in r.Details!.Files)
        {
            w.WriteStartObject();
            w.WriteNumber(BytesCompleted, f.Done);
            w.WriteNumber(Length, f.Length);
            w.WriteString(NameKey, f.Path);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteFileStats(Utf8JsonWriter w, TorrentRow r, FieldScope _)
    {
        w.WriteStartArray();
        foreach (var f in r.Details!.Files)
        {
            w.WriteStartObject();
            w.WriteNumber(BytesCompleted, f.Done);
            w.WriteNumber(PriorityKey, PriorityNumber(f.Priority));
            w.WriteBoolean(WantedKey, f.Priority != Priority.Skip);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WritePieces(Utf8JsonWriter w, TorrentRow r, FieldScope _)
    {
        var pieces = r.Details!.Pieces;
        if (pieces.Length == 0)
        {
            w.WriteStringValue("");
            return;
        }
        // Transmission's bitfield: piece 0 in the high bit of the first byte.
        var bytes = new byte[(pieces.Length + 7) / 8];
        for (int i = 0; i < pieces.Length; i++)
            if (pieces[i] == PieceDisplayState.Have) bytes[i >> 3] |= (byte)(0x80 >> (i & 7));
        w.WriteBase64StringValue(bytes);
    }

    private static void WritePeers(Utf8JsonWriter w, TorrentRow r, FieldScope _)
    {
        w.WriteStartArray();
        foreach (var p in r.Details!.Peers)
        {
            var (address, port) = SplitAddress(p.Address);
            bool incoming = p.Flags.Contains('I'), encrypted = p.Flags.Contains('E');
            bool downloadingFrom = p.AmInterested && !p.PeerChoking, uploadingTo = p.PeerInterested && !p.AmChoking;
            w.WriteStartObject();
            w.WriteString("address", address);
            w.WriteString("clientName", p.Client);
            w.WriteBoolean("clientIsChoked", p.PeerChoking);
            w.WriteBoolean("clientIsInterested", p.AmInterested);
            w.WriteString("flagStr", FlagString(p, downloadingFrom, uploadingTo, incoming, encrypted));
            w.WriteBoolean("isDownloadingFrom", downloadingFrom);
            w.WriteBoolean("isEncrypted", encrypted);
            w.WriteBoolean("isIncoming", incoming);
            w.WriteBoolean("isUploadingTo", uploadingTo);
            w.WriteBoolean("isUTP", p.Transport == Engine.Peers.PeerTransport.Utp);
            w.WriteBoolean("peerIsChoked", p.AmChoking);
            w.WriteBoolean("peerIsInterested", p.PeerInterested);
            w.WriteNumber("port", port);
            w.WriteNumber("progress", p.Progress);
            w.WriteNumber("rateToClient", p.DownloadRate);
            w.WriteNumber("rateToPeer", p.UploadRate);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    /// <summary>Transmission's flagStr letters (peer-mgr.cc), from the peer's state.</summary>
    private static string FlagString(PeerSnapshot p, bool downloadingFrom, bool uploadingTo, bool incoming, bool encrypted)
    {
        Span<char> s = stackalloc char[12];
        int n = 0;
        if (p.Flags.Contains('O')) s[n++] = 'O';
        if (downloadingFrom) s[n++] = 'D';
        else if (p.AmInterested) s[n++] = 'd';
        if (uploadingTo) s[n++] = 'U';
        else if (p.PeerInterested) s[n++] = 'u';
        if (!p.PeerChoking && !p.AmInterested) s[n++] = 'K';
        if (!p.AmChoking && !p.PeerInterested) s[n++] = '?';
        if (encrypted) s[n++] = 'E';
        if (p.Source == "dht") s[n++] = 'H';
        else if (p.Source == "pex") s[n++] = 'X';
        if (incoming) s[n++] = 'I';
        if (p.Transport == Engine.Peers.PeerTransport.Utp) s[n++] = 'T';
        return new string(s[..n]);
    }

    private static (string Address, int Port) SplitAddress(string endPoint) =>
        IPEndPoint.TryParse(endPoint, out var ep)
            ? ((ep.Address.IsIPv4MappedToIPv6 ? ep.Address.MapToIPv4() : ep.Address).ToString(), ep.Port)
            : (endPoint, 0);

    private static void WritePeersFrom(Utf8JsonWriter w, TorrentRow r, FieldScope _)
    {
        int cache = 0, dht = 0, incoming = 0, lpd = 0, ltep = 0, pex = 0, tracker = 0;
        foreach (var p in r.Details!.Peers)
        {
            if (p.Flags.Contains('I')) incoming++;
            else
                switch (p.Source)
                {
                    case "dht": dht++; break;
                    case "pex": pex++; break;
                    case "lsd": lpd++; break;
                    case "tracker": tracker++; break;
                    case "resume" or "cache": cache++; break;
                }
        }
        w.WriteStartObject();
        w.WriteNumber("fromCache", cache);
        w.WriteNumber("fromDht", dht);
        w.WriteNumber("fromIncoming", incoming);
        w.WriteNumber("fromLpd", lpd);
        w.WriteNumber("fromLtep", ltep);
        w.WriteNumber("fromPex", pex);
        w.WriteNumber("fromTracker", tracker);
        w.WriteEndObject();
    }

    private static string MagnetOf(TorrentSnapshot t)
    {
        InfoHash? v1 = t.InfoHashV1 is { } h1 && InfoHash.TryParseHex(h1, out var parsed) ? parsed : null;
        byte[]? v2 = t.InfoHashV2 is { Length: 64 } h2 ? Convert.FromHexString(h2) : null;
        if (v1 is null && v2 is null && InfoHash.TryParseHex(t.Id, out var wire)) v1 = wire;
        return new MagnetLink { InfoHashV1 = v1, InfoHashV2 = v2, Name = t.Name, Trackers = t.Trackers, WebSeeds = t.WebSeeds }.ToString();
    }

    private static string TorrentFileOf(TorrentSnapshot t, FieldScope scope)
    {
        if (scope.SessionDirectory is null) return "";
        string path = Path.Combine(scope.SessionDirectory, t.Id + ".torrent");
        return File.Exists(path) ? path : "";
    }

    /// <summary>A number for messages.</summary>
    public static string Format(double value) => value.ToString("0.###", CultureInfo.InvariantCulture);
}
