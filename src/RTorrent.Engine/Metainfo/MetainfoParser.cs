using System.Security.Cryptography;
using System.Text;
using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Metainfo;

/// <summary>Reads and validates metainfo (BEP 3, 12, 19, 27, 47, 52) into a <see cref="TorrentMetainfo"/>.</summary>
internal static class MetainfoParser
{
    /// <summary>
    /// Largest .torrent accepted: 64 MiB. That holds the most pieces we accept (<see cref="MaxPieces"/> x 20 bytes =
    /// 40 MiB) plus a large file list; real torrents are far smaller (a 100 GiB torrent with 4 MiB pieces has 500 KiB
    /// of hashes). The limit keeps a hostile file from costing more memory than that.
    /// </summary>
    public const int MaxTorrentFileSize = 64 * 1024 * 1024;

    /// <summary>Most pieces a torrent may have (libtorrent's default, 2^21).</summary>
    public const int MaxPieces = 1 << 21;

    /// <summary>Largest piece length: 1 GiB (pieces are held in memory while they are checked).</summary>
    public const long MaxPieceLength = 1L << 30;

    /// <summary>Largest single file: 2^50 bytes (1 PiB); sums of lengths then cannot overflow 64 bits.</summary>
    public const long MaxFileLength = 1L << 50;

    /// <summary>Most file entries (pad files included) in one torrent.</summary>
    public const int MaxFiles = 1_000_000;

    /// <summary>
    /// Most elements in one file's path (folders and the file's name), and in a symlink's target. A path deeper than
    /// 2048 elements cannot even be opened on Linux (PATH_MAX is 4096 bytes, and each element takes a byte and a
    /// '/'), and real torrents nest a few dozen folders at most; 1000 leaves room for the download folder.
    /// </summary>
    public const int MaxPathDepth = 1000;

    private static readonly BencodeReaderOptions ReaderOptions = BencodeReaderOptions.Default with { MaxInputLength = MaxTorrentFileSize };

    public static TorrentMetainfo Parse(ReadOnlyMemory<byte> data, PathSanitizerOptions? pathOptions = null)
    {
        if (data.IsEmpty) throw new TorrentFormatException("The torrent file is empty.");
        if (data.Length > MaxTorrentFileSize)
            throw new TorrentFormatException(
                $"The torrent file is {data.Length} bytes; the limit is {MaxTorrentFileSize} bytes.");
        var top = Decode(data, exact: false) as BDictionary
            ?? throw new TorrentFormatException("The top level is not a dictionary.");
        if (top["info"] is not BDictionary info)
            throw new TorrentFormatException("The 'info' dictionary is missing or not a dictionary.");
        var meta = Build(info, top, null, pathOptions);
        meta.RawBytes = data;
        return meta;
    }

    public static TorrentMetainfo Load(string path, PathSanitizerOptions? pathOptions = null)
    {
        // Read at most one byte past the limit: the length a file reports cannot be trusted (/dev/zero reports 0).
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        long reported = stream.CanSeek ? stream.Length : 0;
        if (reported > MaxTorrentFileSize)
            throw new TorrentFormatException($"The torrent file is {reported} bytes; the limit is {MaxTorrentFileSize} bytes.");
        var buffer = new byte[Math.Min(Math.Max(reported, 4096) + 1, MaxTorrentFileSize + 1L)];
        int filled = 0;
        while (true)
        {
            if (filled == buffer.Length)
            {
                if (buffer.Length > MaxTorrentFileSize)
                    throw new TorrentFormatException($"The torrent file is larger than the limit of {MaxTorrentFileSize} bytes.");
                Array.Resize(ref buffer, (int)Math.Min(buffer.Length * 2L, MaxTorrentFileSize + 1L));
            }
            int read = stream.Read(buffer, filled, buffer.Length - filled);
            if (read == 0) break;
            filled += read;
        }
        // The metainfo keeps slices of these bytes for as long as the torrent lives: a buffer read with room to spare
        // (at least 4 KiB) held 4.8 KB for each small torrent of a 10,000-torrent session (48 MB), so keep the exact bytes.
        if (filled != buffer.Length) buffer = buffer.AsSpan(0, filled).ToArray();
        return Parse(buffer, pathOptions);
    }

    public static TorrentMetainfo FromInfoDictionary(
        ReadOnlyMemory<byte> infoBytes, IReadOnlyList<IReadOnlyList<string>> trackers, PathSanitizerOptions? pathOptions = null)
    {
        if (infoBytes.Length > MaxTorrentFileSize)
            throw new TorrentFormatException($"The metadata is {infoBytes.Length} bytes; the limit is {MaxTorrentFileSize} bytes.");
        var info = Decode(infoBytes, exact: true) as BDictionary
            ?? throw new TorrentFormatException("The metadata is not a dictionary.");
        return Build(info, null, trackers, pathOptions);
    }

    private static BValue Decode(ReadOnlyMemory<byte> data, bool exact)
    {
        try
        {
            var value = BencodeReader.Decode(data, out int consumed, ReaderOptions);
            // Bytes after a .torrent's top-level dictionary are ignored (libtorrent does; several real files have a
            // trailing newline). Metadata from peers is hashed whole, so it must be exactly one value.
            if (exact && consumed != data.Length)
                throw new TorrentFormatException($"The metadata has {data.Length - consumed} bytes after the info dictionary.");
            return value;
        }
        catch (BencodeException e)
        {
            throw new TorrentFormatException($"Bad bencoding: {e.Message}.", e);
        }
    }

    private sealed record V1Entry(
        IReadOnlyList<ReadOnlyMemory<byte>> Path, long Length, string Attributes, IReadOnlyList<ReadOnlyMemory<byte>>? SymlinkTarget, bool IsPadding);

    private static TorrentMetainfo Build(
        BDictionary info, BDictionary? top, IReadOnlyList<IReadOnlyList<string>>? trackers, PathSanitizerOptions? pathOptions)
    {
        var warnings = new List<string>();
        var infoBytes = info.RawBytes;

        bool hasV2 = false;
        if (info["meta version"] is { } mv)
        {
            if (mv is not BInteger version) throw new TorrentFormatException("'meta version' is not an integer.");
            if (version.Value == 2) hasV2 = true;
            else if (version.Value != 1)
                throw new TorrentFormatException($"Unsupported 'meta version' {version.Value} (1 and 2 are known).");
        }
        bool hasV1 = !hasV2 || info.ContainsKey("pieces");
        // BEP 52: a v2 info dictionary must be canonical bencoding; v1 torrents with unsorted keys exist and load.
        if (hasV2 && !IsCanonical(info))
            throw new TorrentFormatException("The v2 info dictionary is not canonical bencoding (unsorted or repeated keys).");

        long pieceLength = ReadPieceLength(info, hasV2);
        var rawName = ((BValue?)(info["name.utf-8"] as BString) ?? info["name"]) switch
        {
            BString s => s.Bytes,
            null => throw new TorrentFormatException("The torrent has no 'name'."),
            _ => throw new TorrentFormatException("The torrent's 'name' is not a string."),
        };
        var options = pathOptions ?? PathSanitizerOptions.Default;

        List<V1Entry>? v1 = null;
        bool v1MultiFile = false;
        ReadOnlyMemory<byte> pieces = default;
        if (hasV1)
        {
            (v1, v1MultiFile) = ReadV1Files(info, rawName, warnings);
            if (info["pieces"] is not BString p) throw new TorrentFormatException("'pieces' is missing or not a string.");
            if (p.Bytes.Length % 20 != 0)
                throw new TorrentFormatException($"'pieces' is {p.Bytes.Length} bytes, not a multiple of 20.");
            pieces = p.Bytes;
        }

        List<V2File>? v2 = null;
        var layersByRoot = new Dictionary<string, ReadOnlyMemory<byte>>();
        if (hasV2)
        {
            v2 = V2FileTree.Parse(info["file tree"]);
            if (top is not null)
            {
                int missing = V2FileTree.CheckPieceLayers(top["piece layers"], v2, pieceLength, layersByRoot);
                if (missing > 0) warnings.Add($"{missing} file(s) have no v2 piece layer; peers would have to supply them.");
            }
            if (v1 is not null) CheckHybrid(v1, v2, pieceLength);
        }

        byte[] sha1 = SHA1.HashData(infoBytes.Span);
        byte[]? sha256 = hasV2 ? SHA256.HashData(infoBytes.Span) : null;
        InfoHash? v1Hash = hasV1 ? new InfoHash(sha1) : null;

        bool multiFile = v1 is not null ? v1MultiFile : v2!.Count != 1 || v2[0].Path.Count != 1;
        var name = SanitizeName(rawName.Span, options, out bool degenerate);
        if (degenerate)
        {
            if (!multiFile) throw new TorrentFormatException("The torrent's file name is empty once unsafe characters are removed.");
            name = v1Hash?.ToHex() ?? Convert.ToHexStringLower(sha256!);
            warnings.Add($"The torrent's name is empty once unsafe characters are removed; its folder is named '{name}' after the info-hash.");
        }
        else if (!rawName.Span.SequenceEqual(Encoding.UTF8.GetBytes(name)))
        {
            warnings.Add($"The torrent's name '{Printable(rawName.Span)}' is stored as '{name}'.");
        }

        var sanitizer = new PathSanitizer(options);
        var root = multiFile ? name : null;
        var files = new List<TorrentFileEntry>();
        long totalLength, totalSize = 0;
        int pieceCount;
        if (v1 is not null)
        {
            long offset = 0;
            int real = 0;
            foreach (var e in v1)
            {
                // In a hybrid the v1 files other than pads are the v2 files in the same order (CheckHybrid made sure).
                var piecesRoot = v2 is not null && !e.IsPadding ? v2[real++].PiecesRoot : default;
                files.Add(MakeEntry(files.Count, e.Path, e.Length, offset, e.Attributes, e.SymlinkTarget, e.IsPadding, multiFile, name, root, sanitizer, piecesRoot));
                offset += e.Length;
                if (!e.IsPadding) totalSize += e.Length;
            }
            totalLength = offset;
            long needed = (totalLength + pieceLength - 1) / pieceLength;
            if (needed > MaxPieces)
                throw new TorrentFormatException($"The torrent has {needed} pieces; the limit is {MaxPieces}.");
            if (pieces.Length / 20 != needed)
                throw new TorrentFormatException(
                    $"'pieces' holds {pieces.Length / 20} hashes but {totalLength} bytes in pieces of {pieceLength} need {needed}.");
            pieceCount = (int)needed;
        }
        else
        {
            long offset = 0, count = 0;
            for (int i = 0; i < v2!.Count; i++)
            {
                var f = v2[i];
                files.Add(MakeEntry(files.Count, f.Path, f.Length, offset, f.Attributes, f.SymlinkTarget, false, multiFile, name, root, sanitizer, f.PiecesRoot));
                offset += f.Length;
                // Each file is at most 2^50 bytes, so checking the running total keeps every sum far from overflowing.
                if (offset > MaxFileLength) throw new TorrentFormatException("The files' total length is too large.");
                totalSize += f.Length;
                count += (f.Length + pieceLength - 1) / pieceLength;
                long pad = (pieceLength - offset % pieceLength) % pieceLength;
                // After every file, the last one too: libtorrent lays v2 torrents so (every piece is whole), and its peers
                // request blocks in the last piece's pad space.
                if (pad > 0)
                {
                    files.Add(PadEntry(files.Count, pad, offset));
                    offset += pad;
                }
            }
            if (count > MaxPieces) throw new TorrentFormatException($"The torrent has {count} pieces; the limit is {MaxPieces}.");
            totalLength = offset;
            pieceCount = (int)count;
        }
        if (totalSize == 0) throw new TorrentFormatException("The torrent's files are all empty: there is nothing to download.");
        ResolveSymlinks(files, root, options,
            v1 is not null ? [.. v1.Select(e => e.SymlinkTarget)] : [.. v2!.Select(f => f.SymlinkTarget)], padsInSource: v1 is not null, warnings);
        warnings.AddRange(sanitizer.Changes);
        var meta = new TorrentMetainfo
        {
            InfoHashV1 = v1Hash,
            InfoHashV2 = sha256,
            Versions = (hasV1 ? TorrentVersions.V1 : 0) | (hasV2 ? TorrentVersions.V2 : 0),
            Name = name,
            IsMultiFile = multiFile,
            PieceLength = pieceLength,
            PieceCount = pieceCount,
            PieceHashes = pieces,
            Files = files,
            TotalSize = totalSize,
            TotalLength = totalLength,
            AnnounceTiers = trackers is not null ? CleanTiers(trackers, warnings) : ReadTrackers(top!, warnings),
            WebSeeds = top is null ? [] : ReadWebSeeds(top, multiFile, warnings),
            HttpSeeds = top is null ? [] : ReadHttpSeeds(top, warnings),
            OriginalName = Encoding.UTF8.GetString(rawName.Span),
            DhtNodes = top is null ? [] : ReadNodes(top),
            IsPrivate = info.GetInteger("private") == 1,
            CreationDate = top?.GetInteger("creation date") is long date && date > 0 && date <= 253402300799
                ? DateTimeOffset.FromUnixTimeSeconds(date) : null,
            Comment = top is null ? null : Text(top, "comment"),
            CreatedBy = top is null ? null : Text(top, "created by"),
            Source = Text(info, "source"),
            InfoBytes = infoBytes,
            Warnings = warnings,
        };
        if (hasV2)
        {
            var layers = new Dictionary<int, ReadOnlyMemory<byte>>();
            foreach (var f in files)
                if (!f.IsPadding && !f.PiecesRoot.IsEmpty && layersByRoot.TryGetValue(Convert.ToHexString(f.PiecesRoot.Span), out var layer))
                    layers[f.Index] = layer;
            meta.V2 = new V2PieceHashes(meta, layers);
        }
        return meta;
    }

    private static long ReadPieceLength(BDictionary info, bool hasV2)
    {
        long pieceLength = info["piece length"] switch
        {
            BInteger i => i.Value,
            null => throw new TorrentFormatException("The torrent has no 'piece length'."),
            _ => throw new TorrentFormatException("'piece length' is not an integer."),
        };
        if (pieceLength <= 0) throw new TorrentFormatException($"'piece length' is {pieceLength}; it must be positive.");
        if (pieceLength > MaxPieceLength)
            throw new TorrentFormatException($"'piece length' is {pieceLength}; the limit is {MaxPieceLength}.");
        if (hasV2 && (pieceLength < V2FileTree.BlockSize || (pieceLength & (pieceLength - 1)) != 0))
            throw new TorrentFormatException($"'piece length' is {pieceLength}; v2 torrents need a power of two of at least 16 KiB.");
        return pieceLength;
    }

    private static (List<V1Entry>, bool) ReadV1Files(BDictionary info, ReadOnlyMemory<byte> rawName, List<string> warnings)
    {
        var list = new List<V1Entry>();
        if (info["files"] is { } filesValue)
        {
            if (filesValue is not BList files) throw new TorrentFormatException("'files' is not a list.");
            if (files.Count == 0) throw new TorrentFormatException("'files' is empty: the torrent has no files.");
            if (files.Count > MaxFiles) throw new TorrentFormatException($"The torrent lists {files.Count} files; the limit is {MaxFiles}.");
            long total = 0;
            for (int i = 0; i < files.Count; i++)
            {
                if (files[i] is not BDictionary f) throw new TorrentFormatException($"File entry {i} is not a dictionary.");
                long length = ReadLength(f, $"File entry {i}");
                var attr = f.GetText("attr") ?? "";
                bool pad = attr.Contains('p');
                List<ReadOnlyMemory<byte>> path;
                switch ((BValue?)(f["path.utf-8"] as BList) ?? f["path"])
                {
                    case null when pad:
                        path = [];
                        break;
                    case null:
                        throw new TorrentFormatException($"File entry {i} has no 'path'.");
                    case BList elements:
                        if (elements.Count > MaxPathDepth)
                            throw new TorrentFormatException(
                                $"File entry {i} has a path of {elements.Count} elements; the limit is {MaxPathDepth} (MaxPathDepth).");
                        path = new List<ReadOnlyMemory<byte>>(elements.Count);
                        foreach (var e in elements)
                        {
                            if (e is not BString s) throw new TorrentFormatException($"File entry {i} has a path element that is not a string.");
                            path.Add(s.Bytes);
                            if (s.Bytes.Span.IndexOf("_____padding_file_"u8) >= 0) pad = true;
                        }
                        if (path.Count == 0 && !pad) throw new TorrentFormatException($"File entry {i} has an empty 'path'.");
                        break;
                    default:
                        throw new TorrentFormatException($"File entry {i} has a 'path' that is not a list.");
                }
                IReadOnlyList<ReadOnlyMemory<byte>>? target = null;
                if (attr.Contains('l') && !pad)
                {
                    if (f["symlink path"] is BList { Count: > MaxPathDepth } deep)
                        throw new TorrentFormatException(
                            $"File entry {i} has a symlink target of {deep.Count} elements; the limit is {MaxPathDepth} (MaxPathDepth).");
                    if (f["symlink path"] is BList t && t.All(e => e is BString))
                    {
                        target = [.. t.Cast<BString>().Select(s => s.Bytes)];
                        length = 0; // a symlink has no data, whatever length the file claims
                    }
                    else
                    {
                        warnings.Add($"File entry {i} is marked as a symlink but has no valid 'symlink path'; it is treated as a plain file.");
                    }
                }
                total += length;
                if (total > MaxFileLength) throw new TorrentFormatException("The files' total length is too large.");
                list.Add(new V1Entry(path, length, attr, target, pad));
            }
            return (list, true);
        }

        if (info["length"] is null) throw new TorrentFormatException("The info dictionary has neither 'length' nor 'files'.");
        long single = ReadLength(info, "The torrent's file");
        list.Add(new V1Entry([rawName], single, info.GetText("attr") ?? "", null, false));
        return (list, false);
    }

    private static long ReadLength(BDictionary d, string what)
    {
        long length = d["length"] switch
        {
            BInteger i => i.Value,
            null => throw new TorrentFormatException($"{what} has no 'length'."),
            _ => throw new TorrentFormatException($"{what} has a 'length' that is not an integer."),
        };
        if (length < 0) throw new TorrentFormatException($"{what} has a negative length ({length}).");
        if (length > MaxFileLength) throw new TorrentFormatException($"{what} is too large ({length} bytes).");
        return length;
    }

    /// <summary>A hybrid's v1 and v2 halves must describe the same files at the same offsets (BEP 52 pad files align v1).</summary>
    private static void CheckHybrid(List<V1Entry> v1, List<V2File> v2, long pieceLength)
    {
        var real = new List<(V1Entry e, long offset)>(v1.Count);
        long running = 0;
        foreach (var e in v1)
        {
            if (!e.IsPadding) real.Add((e, running));
            running += e.Length;
        }
        if (real.Count != v2.Count)
            throw new TorrentFormatException($"The hybrid torrent's v1 part has {real.Count} files and its v2 part {v2.Count}.");
        long v2Offset = 0;
        for (int i = 0; i < v2.Count; i++)
        {
            var (e, offset) = real[i];
            var f = v2[i];
            bool samePath = e.Path.Count == f.Path.Count && e.Path.Zip(f.Path).All(p => p.First.Span.SequenceEqual(p.Second.Span));
            if (!samePath || e.Length != f.Length || (f.Length > 0 && offset != v2Offset))
                throw new TorrentFormatException($"The hybrid torrent's v1 and v2 file lists do not match at file {i}.");
            v2Offset += f.Length;
            v2Offset += (pieceLength - v2Offset % pieceLength) % pieceLength;
        }
    }

    private static TorrentFileEntry MakeEntry(
        int index, IReadOnlyList<ReadOnlyMemory<byte>> rawPath, long length, long offset, string attr,
        IReadOnlyList<ReadOnlyMemory<byte>>? target, bool pad, bool multiFile, string name, string? root,
        PathSanitizer sanitizer, ReadOnlyMemory<byte> piecesRoot)
    {
        if (pad) return PadEntry(index, length, offset);
        var original = string.Join('/', rawPath.Select(p => Encoding.UTF8.GetString(p.Span)));
        return new TorrentFileEntry
        {
            Index = index,
            Path = multiFile ? sanitizer.AddFile(root, rawPath) : name,
            Length = length,
            Offset = offset,
            IsExecutable = attr.Contains('x'),
            IsHidden = attr.Contains('h'),
            IsSymlink = target is not null,
            OriginalPath = multiFile ? original : Encoding.UTF8.GetString(rawPath[0].Span),
            PiecesRoot = piecesRoot,
        };
    }

    /// <summary>
    /// Resolves every symlink's target inside the torrent's folder (<see cref="SymlinkResolver"/>): from the torrent's
    /// root first, then from the link's own folder (libtorrent's order), through the torrent's other links as they
    /// will be on disk. A link whose target leaves the folder is kept in the file list with the reason it will not be
    /// made; the torrent stays valid (libtorrent drops such links too rather than refusing the torrent).
    /// </summary>
    /// <param name="rawTargets">Each source entry's raw target, in the order the entries were made.</param>
    /// <param name="padsInSource">The source list has the pad entries (v1); a v2 list's pads were added by the parser.</param>
    private static void ResolveSymlinks(List<TorrentFileEntry> files, string? root, PathSanitizerOptions options,
        List<IReadOnlyList<ReadOnlyMemory<byte>>?> rawTargets, bool padsInSource, List<string> warnings)
    {
        if (!files.Any(f => f.IsSymlink)) return;
        var raws = new Dictionary<int, IReadOnlyList<ReadOnlyMemory<byte>>>();
        int source = 0;
        foreach (var f in files)
        {
            if (f.IsPadding && !padsInSource) continue;
            if (rawTargets[source++] is { } raw && f.IsSymlink) raws[f.Index] = raw;
        }
        if (root is null)
        {
            // A single-file torrent has no folder a link could point into.
            for (int i = 0; i < files.Count; i++)
                if (files[i].IsSymlink) files[i] = WithLink(files[i], null, "a single-file torrent has no folder for its target");
            return;
        }
        var resolver = new SymlinkResolver(root, options);
        foreach (var f in files.Where(f => !f.IsPadding)) resolver.AddPath(f.Path);
        var ids = new Dictionary<int, int>();
        foreach (var (index, raw) in raws) ids[index] = resolver.AddLink(files[index].Path, raw);
        for (int i = 0; i < files.Count; i++)
        {
            var f = files[i];
            if (!f.IsSymlink || !ids.TryGetValue(f.Index, out int id)) continue;
            var target = resolver.Resolve(id, out var problem, out bool dangling);
            var spelled = SymlinkResolver.Spell(raws[f.Index]);
            if (target is null)
                warnings.Add($"Symlink '{f.Path}' will not be created: its target '{Printable(Encoding.UTF8.GetBytes(spelled))}' is refused ({problem}).");
            else if (dangling)
                warnings.Add($"Symlink '{f.Path}' points to '{target}', which is not in the torrent.");
            files[i] = WithLink(f, target, target is null ? $"its target '{spelled}' is refused: {problem}" : null);
        }
    }

    private static TorrentFileEntry WithLink(TorrentFileEntry f, string? target, string? problem) => new()
    {
        Index = f.Index, Path = f.Path, Length = f.Length, Offset = f.Offset, IsPadding = f.IsPadding,
        IsExecutable = f.IsExecutable, IsHidden = f.IsHidden, OriginalPath = f.OriginalPath, PiecesRoot = f.PiecesRoot,
        IsSymlink = true, SymlinkTarget = target, SymlinkProblem = problem,
    };

    // Pad files are never written, so they take no part in path sanitizing; libtorrent shows them as .pad/SIZE.
    private static TorrentFileEntry PadEntry(int index, long length, long offset) => new()
    {
        Index = index,
        Path = ".pad/" + length.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Length = length,
        Offset = offset,
        IsPadding = true,
    };

    private static string SanitizeName(ReadOnlySpan<byte> raw, PathSanitizerOptions options, out bool degenerate)
    {
        var name = PathSanitizer.SanitizeElement(raw, options);
        // SanitizeElement turns a name with nothing usable left into "_"; a name can only be "_" honestly.
        degenerate = name == "_" && !raw.SequenceEqual("_"u8);
        return name;
    }

    private static IReadOnlyList<IReadOnlyList<string>> ReadTrackers(BDictionary top, List<string> warnings)
    {
        var tiers = new List<IReadOnlyList<string>>();
        if (top["announce-list"] is BList list)
        {
            foreach (var tier in list)
            {
                var urls = tier switch
                {
                    BList l => l.OfType<BString>().Select(s => s.Text).ToList(),
                    BString s => [s.Text],
                    _ => [],
                };
                tiers.Add(urls);
            }
        }
        var cleaned = CleanTiers(tiers, warnings);
        // BEP 12: with a usable announce-list, 'announce' is ignored.
        if (cleaned.Count == 0 && top.GetText("announce") is { } announce)
            cleaned = CleanTiers([[announce]], warnings);
        return cleaned;
    }

    /// <summary>Keeps http, https and udp tracker URLs, each once, and drops tiers left empty.</summary>
    private static List<IReadOnlyList<string>> CleanTiers(IEnumerable<IReadOnlyList<string>> tiers, List<string> warnings)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<IReadOnlyList<string>>();
        foreach (var tier in tiers)
        {
            var kept = new List<string>();
            foreach (var raw in tier)
            {
                var url = raw.Trim();
                if (url.Length == 0) continue;
                if (!IsTrackerUrl(url))
                {
                    warnings.Add($"Tracker '{Printable(Encoding.UTF8.GetBytes(url))}' is not an http, https or udp URL and is ignored.");
                    continue;
                }
                if (seen.Add(url)) kept.Add(url);
            }
            if (kept.Count > 0) result.Add(kept);
        }
        return result;
    }

    /// <summary>Whether <paramref name="url"/> is an absolute http, https or udp URL with a host.</summary>
    internal static bool IsTrackerUrl(string url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri)
        && uri.Scheme is "http" or "https" or "udp"
        && uri.Host.Length > 0
        && url.Contains("://", StringComparison.Ordinal);

    private static List<string> ReadWebSeeds(BDictionary top, bool multiFile, List<string> warnings)
    {
        IEnumerable<BValue> values = top["url-list"] switch
        {
            BString s => [s],
            BList l => l,
            _ => [],
        };
        var seeds = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal); // a list scan per URL was quadratic in the url-list
        foreach (var v in values)
        {
            if (v is not BString s) continue;
            var url = EscapeUrl(s.Text.Trim());
            if (url.Length == 0) continue;
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                warnings.Add($"Web seed '{Printable(s.Bytes.Span)}' is not an http or https URL and is ignored.");
                continue;
            }
            // BEP 19: for a multi-file torrent the URL names the folder the torrent's folder is in.
            if (multiFile && !url.EndsWith('/')) url += "/";
            ParseWork.Add(1);
            if (seen.Add(url)) seeds.Add(url);
        }
        return seeds;
    }

    /// <summary>BEP 17 'httpseeds': a list of http or https URLs of servers that answer '?info_hash=&amp;piece=' requests.</summary>
    private static List<string> ReadHttpSeeds(BDictionary top, List<string> warnings)
    {
        var seeds = new List<string>();
        if (top["httpseeds"] is not BList list) return seeds;
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in list)
        {
            if (v is not BString s) continue;
            var url = EscapeUrl(s.Text.Trim());
            if (url.Length == 0) continue;
            ParseWork.Add(1);
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                warnings.Add($"HTTP seed '{Printable(s.Bytes.Span)}' is not an http or https URL and is ignored.");
                continue;
            }
            if (seen.Add(url)) seeds.Add(url);
        }
        return seeds;
    }

    /// <summary>Percent-encodes what may not appear in a URL as is (spaces, controls, non-ASCII), keeping existing escapes.</summary>
    internal static string EscapeUrl(string url)
    {
        var sb = new StringBuilder(url.Length);
        foreach (var b in Encoding.UTF8.GetBytes(url))
        {
            if (b <= 0x20 || b >= 0x7F || b is (byte)'"' or (byte)'<' or (byte)'>' or (byte)'\\' or (byte)'^' or (byte)'`' or (byte)'{' or (byte)'|' or (byte)'}')
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            else
                sb.Append((char)b);
        }
        return sb.ToString();
    }

    private static List<(string Host, int Port)> ReadNodes(BDictionary top)
    {
        var nodes = new List<(string, int)>();
        if (top["nodes"] is not BList list) return nodes;
        foreach (var n in list)
        {
            if (n is BList { Count: 2 } pair && pair[0] is BString host && pair[1] is BInteger port
                && port.Value is > 0 and <= 65535 && host.Bytes.Length > 0)
                nodes.Add((host.Text, (int)port.Value));
        }
        return nodes;
    }

    private static string? Text(BDictionary d, string key) => (d[key + ".utf-8"] as BString ?? d[key] as BString)?.Text;

    /// <summary>Whether every dictionary inside <paramref name="value"/> has sorted, unique keys.</summary>
    private static bool IsCanonical(BValue value)
    {
        var stack = new Stack<BValue>();
        stack.Push(value);
        while (stack.Count > 0)
        {
            switch (stack.Pop())
            {
                case BDictionary d:
                    if (!d.KeysCanonical) return false;
                    foreach (var (_, v) in d) stack.Push(v);
                    break;
                case BList l:
                    foreach (var v in l) stack.Push(v);
                    break;
            }
        }
        return true;
    }

    private static string Printable(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        foreach (var ch in Encoding.UTF8.GetString(bytes)) sb.Append(char.IsControl(ch) ? '?' : ch);
        return sb.ToString();
    }
}
