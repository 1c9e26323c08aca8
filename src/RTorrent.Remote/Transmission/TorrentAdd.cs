using System.Text.Json;
using System.Text.RegularExpressions;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// <c>torrent-add</c>: <c>metainfo</c> (base64 .torrent) or <c>filename</c> (a path on the daemon's machine, an http(s)
/// URL fetched by <see cref="TorrentDownloader"/>, a magnet link or a bare info-hash), with <c>download-dir</c>,
/// <c>paused</c>, <c>labels</c>, <c>peer-limit</c>, <c>files-wanted</c>/<c>files-unwanted</c> and
/// <c>priority-*</c>. Every argument is checked before anything is added, so a refusal leaves the session as it was.
/// Answers <c>torrent-added</c>, or <c>torrent-duplicate</c> (still "success") for a torrent the session has.
/// </summary>
internal sealed partial class TorrentAdd(TransmissionContext context, TorrentIds ids, TorrentDownloader downloader)
{
    private sealed record FileChoices(List<long> Wanted, List<long> Unwanted, List<long> Low, List<long> Normal, List<long> High)
    {
        public bool Any => Wanted.Count + Unwanted.Count + Low.Count + Normal.Count + High.Count > 0;
    }

    public async Task RunAsync(Arguments args, Utf8JsonWriter w, CancellationToken cancellationToken)
    {
        args.TryGetString("filename", out var filename);
        args.TryGetString("metainfo", out var metainfoBase64);
        filename = filename.Trim();
        if (filename.Length == 0 && metainfoBase64.Length == 0) throw new RpcException("no filename or metainfo specified");
        string? downloadDir = null;
        if (args.TryGetString("download-dir", out var dir) && dir.Length > 0)
        {
            if (!Path.IsPathFullyQualified(dir)) throw new RpcException("download directory path is not absolute");
            downloadDir = dir;
        }
        bool? paused = args.TryGetBool("paused", out bool p) ? p : null;
        int? peerLimit = null;
        if (args.TryGetLong("peer-limit", out long limit))
        {
            if (limit is < 1 or > int.MaxValue) throw new RpcException($"peer-limit must be 1 or more, not {limit}");
            peerLimit = (int)limit;
        }
        if (args.TryGetLong("bandwidthPriority", out long bandwidth) && bandwidth != 0)
            throw new RpcException(TorrentSet.BandwidthPriorityRefusal(bandwidth));
        IReadOnlyList<string> labels = args.TryGetStringList("labels", out var labelList) ? TorrentSet.CheckLabels(labelList) : [];
        // Transmission 4's bandwidth group is RTorrent's category (docs/CATEGORIES.md): the torrent goes to the category's
        // folders unless download-dir names one.
        string? category = args.TryGetString("group", out var group) && group.Trim().Length > 0 ? CheckCategory(group) : null;
        var files = new FileChoices(List(args, "files-wanted"), List(args, "files-unwanted"), List(args, "priority-low"),
            List(args, "priority-normal"), List(args, "priority-high"));
        args.TryGetString("cookies", out var cookies);

        // What is added: a .torrent or a magnet link.
        TorrentMetainfo? meta = null;
        MagnetLink? magnet = null;
        if (filename.Length == 0) meta = Parse(DecodeBase64(metainfoBase64));
        else if (TorrentDownloader.IsUrl(filename))
        {
            var fetched = await downloader.FetchAsync(filename, cookies, cancellationToken).ConfigureAwait(false);
            if (fetched.Magnet is { } redirected) magnet = ParseMagnet(redirected);
            else meta = Parse(fetched.TorrentFile!);
        }
        else if (MagnetLink.LooksLikeMagnet(filename)) magnet = ParseMagnet(filename);
        else if (BareHash().IsMatch(filename)) magnet = ParseMagnet("magnet:?xt=urn:btih:" + filename);
        else if (File.Exists(filename))
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(filename, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new RpcException($"cannot read {filename}: {e.Message}");
            }
            meta = Parse(bytes);
        }
        else throw new RpcException($"unrecognized info: '{filename}' is not a file on the daemon's machine, an http(s) URL or a magnet link");

        var hash = (meta?.WireHash ?? magnet!.WireHash).ToHex();
        if (context.Session.Engine.Find(hash) is { } existing)
        {
            WriteAnswer(w, "torrent-duplicate", existing);
            return;
        }
        var settings = context.Settings.Current;
        var options = new TorrentOptions
        {
            SavePath = downloadDir ?? settings.DownloadDirectory,
            Picker = settings.DefaultPicker,
            Storage = settings.DefaultStorage,
            DownloadLimit = settings.DefaultTorrentDownloadRateLimit,
            UploadLimit = settings.DefaultTorrentUploadRateLimit,
            Labels = labels,
            MaxConnections = peerLimit,
            Category = category,
            UseCategoryFolder = downloadDir is null,
        };
        if (files.Any)
        {
            if (meta is null)
                throw new RpcException("files-wanted, files-unwanted and priority-* cannot be applied to a magnet link: its files are not known " +
                                       "until its metadata arrives; add it without them and use torrent-set then");
            options = options with { FilePriorities = FilePriorities(meta, files) };
        }
        bool start = !(paused ?? !settings.StartAddedTorrents);
        Torrent torrent;
        try
        {
            Directory.CreateDirectory(options.SavePath);
            torrent = meta is not null
                ? await context.Session.AddAsync(meta, options, start).ConfigureAwait(false)
                : await context.Session.AddAsync(magnet!, options, start).ConfigureAwait(false);
        }
        catch (InvalidOperationException) when (context.Session.Engine.Find(hash) is { } raced)
        {
            // Added by someone else between the check and the add.
            WriteAnswer(w, "torrent-duplicate", raced);
            return;
        }
        context.Journal.Invalidate();
        WriteAnswer(w, "torrent-added", torrent);
    }

    private static string CheckCategory(string name)
    {
        try { return CategoryNames.Normalize(name); }
        catch (ArgumentException e) { throw new RpcException($"group: {e.Message}"); }
    }

    private void WriteAnswer(Utf8JsonWriter w, string key, Torrent torrent)
    {
        string hash = torrent.InfoHash.ToHex();
        w.WriteStartObject();
        w.WritePropertyName(key);
        w.WriteStartObject();
        w.WriteNumber("id", ids.GetOrAssign(hash));
        w.WriteString("name", torrent.Name);
        w.WriteString("hashString", hash);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static List<long> List(Arguments args, string key) => args.TryGetLongList(key, out var list) ? list : [];

    /// <summary>
    /// The engine's priority of every file (padding files included): wanted or not, then low/normal/high, in
    /// Transmission's order (unwanted, wanted, then priorities). A low or high priority for a file that is not wanted
    /// is refused: the engine keeps one value per file, so it would be lost.
    /// </summary>
    private static Priority[] FilePriorities(TorrentMetainfo meta, FileChoices files)
    {
        var map = FileIndexMap.Of(meta);
        var wanted = Enumerable.Repeat(true, map.Count).ToArray();
        var priority = Enumerable.Repeat(Priority.Normal, map.Count).ToArray();
        void Each(List<long> list, Action<int> apply)
        {
            foreach (long i in list)
            {
                if (i < 0 || i >= map.Count) throw new RpcException($"file index out of range: {i} (the torrent has {map.Count} files, 0 to {map.Count - 1})");
                apply((int)i);
            }
        }
        Each(files.Unwanted, i => wanted[i] = false);
        Each(files.Wanted, i => wanted[i] = true);
        Each(files.Low, i => priority[i] = Priority.Low);
        Each(files.Normal, i => priority[i] = Priority.Normal);
        Each(files.High, i => priority[i] = Priority.High);
        var lost = Enumerable.Range(0, map.Count).Where(i => !wanted[i] && priority[i] != Priority.Normal).ToList();
        if (lost.Count > 0) throw new RpcException(TorrentSet.UnwantedPriorityRefusal(lost));
        var result = Enumerable.Repeat(Priority.Normal, meta.Files.Count).ToArray();
        for (int i = 0; i < map.Count; i++)
        {
            map.TryGetEngineIndex(i, out int e);
            result[e] = wanted[i] ? priority[i] : Priority.Skip;
        }
        return result;
    }

    private static byte[] DecodeBase64(string text)
    {
        try
        {
            return Convert.FromBase64String(text.Trim());
        }
        catch (FormatException)
        {
            throw new RpcException("invalid or corrupt torrent file (metainfo is not base64)");
        }
    }

    private static TorrentMetainfo Parse(byte[] bytes)
    {
        try
        {
            return TorrentMetainfo.Parse(bytes);
        }
        catch (TorrentFormatException e)
        {
            throw new RpcException($"invalid or corrupt torrent file ({e.Message})");
        }
    }

    private static MagnetLink ParseMagnet(string text)
    {
        try
        {
            return MagnetLink.Parse(text);
        }
        catch (MagnetFormatException e)
        {
            throw new RpcException($"unrecognized info: not a usable magnet link ({e.Message})");
        }
    }

    [GeneratedRegex("^[0-9a-fA-F]{40}$")]
    private static partial Regex BareHash();
}
