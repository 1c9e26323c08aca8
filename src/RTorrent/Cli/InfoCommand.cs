using System.CommandLine;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Cli;

/// <summary>
/// <c>rtorrent info FILE.torrent|MAGNET [--json]</c>: what a torrent or magnet link holds.
/// </summary>
/// <remarks>
/// The JSON has exactly the keys name, info_hash_v1, info_hash_v2, total_size, piece_length, piece_count, private,
/// trackers (tiers of URLs) and files ({path, length}; paths relative to the download folder, sanitized,
/// '/'-separated, pad files left out). For a magnet link what is not known yet is null, or empty for the lists.
/// Unreadable or invalid input: one line on stderr, exit code 2, and with --json <c>{"error": "..."}</c> on stdout.
/// </remarks>
public static class InfoCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var input = new Argument<string>("input") { Description = "A .torrent file or a magnet link." };
        var json = new Option<bool>("--json") { Description = "Print JSON instead of text." };
        var command = new Command("info", "Show what a .torrent file or a magnet link holds.");
        command.Arguments.Add(input);
        command.Options.Add(json);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            return Run(parseResult.GetValue(input)!, parseResult.GetValue(json), output, error);
        });
        return command;
    }

    private static int Run(string input, bool json, TextWriter output, TextWriter error)
    {
        TorrentMetainfo? torrent = null;
        MagnetLink? magnet = null;
        try
        {
            if (MagnetLink.LooksLikeMagnet(input)) magnet = MagnetLink.Parse(input);
            else if (Directory.Exists(input)) throw new IOException("it is a folder, not a .torrent file");
            else torrent = TorrentMetainfo.Load(input);
        }
        catch (Exception e) when (e is TorrentFormatException or MagnetFormatException or IOException or UnauthorizedAccessException)
        {
            var message = e switch
            {
                MagnetFormatException => $"Invalid magnet link: {e.Message}",
                TorrentFormatException => $"'{input}' is not a valid torrent: {e.Message}",
                FileNotFoundException or DirectoryNotFoundException => $"Cannot read '{input}': no such file.",
                _ => $"Cannot read '{input}': {e.Message}",
            };
            error.WriteLine(OneLine(message));
            if (json) WriteJson(output, w => w.WriteString("error", message));
            return ExitCodes.UnusableInput;
        }

        if (json) WriteJson(output, w => WriteFields(w, torrent, magnet));
        else if (torrent is not null) WriteText(output, torrent);
        else WriteText(output, magnet!);
        return ExitCodes.Ok;
    }

    private static string OneLine(string s) => s.ReplaceLineEndings(" ");

    private static void WriteJson(TextWriter output, Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            writer.WriteStartObject();
            body(writer);
            writer.WriteEndObject();
        }
        output.WriteLine(System.Text.Encoding.UTF8.GetString(stream.ToArray()));
    }

    private static void WriteFields(Utf8JsonWriter w, TorrentMetainfo? t, MagnetLink? m)
    {
        var name = t?.Name ?? m?.Name;
        if (name is null) w.WriteNull("name");
        else w.WriteString("name", name);
        var v1 = t is not null ? t.InfoHashV1 : m!.InfoHashV1;
        var v2 = t is not null ? t.InfoHashV2 : m!.InfoHashV2;
        if (v1 is { } h1) w.WriteString("info_hash_v1", h1.ToHex());
        else w.WriteNull("info_hash_v1");
        if (v2 is not null) w.WriteString("info_hash_v2", Convert.ToHexStringLower(v2));
        else w.WriteNull("info_hash_v2");
        if (t is not null)
        {
            w.WriteNumber("total_size", t.TotalSize);
            w.WriteNumber("piece_length", t.PieceLength);
            w.WriteNumber("piece_count", t.PieceCount);
            w.WriteBoolean("private", t.IsPrivate);
        }
        else
        {
            if (m!.ExactLength is { } xl) w.WriteNumber("total_size", xl);
            else w.WriteNull("total_size");
            w.WriteNull("piece_length");
            w.WriteNull("piece_count");
            w.WriteNull("private");
        }
        w.WriteStartArray("trackers");
        foreach (var tier in t?.AnnounceTiers ?? m!.Trackers)
        {
            w.WriteStartArray();
            foreach (var url in tier) w.WriteStringValue(url);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.WriteStartArray("files");
        foreach (var f in t?.Files ?? [])
        {
            if (f.IsPadding) continue;
            w.WriteStartObject();
            w.WriteString("path", f.Path);
            w.WriteNumber("length", f.Length);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteText(TextWriter o, TorrentMetainfo t)
    {
        o.WriteLine($"Name:          {t.Name}");
        if (t.InfoHashV1 is { } h1) o.WriteLine($"Info-hash v1:  {h1.ToHex()}");
        if (t.InfoHashV2 is { } h2) o.WriteLine($"Info-hash v2:  {Convert.ToHexStringLower(h2)}");
        o.WriteLine($"Version:       {t.Versions switch
        {
            TorrentVersions.Hybrid => "hybrid (v1 + v2)",
            TorrentVersions.V2 => "v2 only (cannot be downloaded yet)",
            _ => "v1",
        }}");
        o.WriteLine($"Total size:    {Format.Size(t.TotalSize)} ({Format.Count(t.TotalSize)} bytes)");
        o.WriteLine($"Pieces:        {Format.Count(t.PieceCount)} x {Format.Size(t.PieceLength)}");
        o.WriteLine($"Private:       {(t.IsPrivate ? "yes" : "no")}");
        if (t.CreationDate is { } date)
            o.WriteLine($"Created:       {date.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC");
        if (t.CreatedBy is { Length: > 0 } by) o.WriteLine($"Created by:    {OneLine(by)}");
        if (t.Source is { Length: > 0 } source) o.WriteLine($"Source:        {OneLine(source)}");
        if (t.Comment is { Length: > 0 } comment) o.WriteLine($"Comment:       {OneLine(comment)}");
        WriteTrackers(o, t.AnnounceTiers);
        if (t.WebSeeds.Count > 0)
        {
            o.WriteLine("Web seeds:");
            foreach (var ws in t.WebSeeds) o.WriteLine($"  {ws}");
        }
        if (t.HttpSeeds.Count > 0)
        {
            o.WriteLine("HTTP seeds (BEP 17):");
            foreach (var hs in t.HttpSeeds) o.WriteLine($"  {hs}");
        }
        var files = t.Files.Where(f => !f.IsPadding).ToList();
        o.WriteLine($"Files ({Format.Count(files.Count)}):");
        foreach (var f in files)
        {
            var link = f.SymlinkTarget is { } target ? $" -> {target}" : f.IsSymlink ? " -> (link refused)" : "";
            var attrs = f.Attributes is { Length: > 0 } a ? $"  [{a}]" : "";
            o.WriteLine($"  {Format.Size(f.Length),10}  {f.Path}{link}{attrs}");
        }
        if (t.Warnings.Count > 0)
        {
            o.WriteLine("Warnings:");
            foreach (var w in t.Warnings) o.WriteLine($"  {OneLine(w)}");
        }
    }

    private static void WriteText(TextWriter o, MagnetLink m)
    {
        o.WriteLine("Magnet link (the files are known once the metadata is fetched from peers)");
        o.WriteLine($"Name:          {m.Name ?? "(none)"}");
        if (m.InfoHashV1 is { } h1) o.WriteLine($"Info-hash v1:  {h1.ToHex()}");
        if (m.InfoHashV2 is { } h2) o.WriteLine($"Info-hash v2:  {Convert.ToHexStringLower(h2)}");
        if (m.ExactLength is { } xl) o.WriteLine($"Total size:    {Format.Size(xl)} ({Format.Count(xl)} bytes)");
        WriteTrackers(o, m.Trackers);
        if (m.WebSeeds.Count > 0)
        {
            o.WriteLine("Web seeds:");
            foreach (var ws in m.WebSeeds) o.WriteLine($"  {ws}");
        }
        if (m.Peers.Count > 0) o.WriteLine($"Peers:         {string.Join(", ", m.Peers)}");
        if (m.DhtNodes.Count > 0) o.WriteLine($"DHT nodes:     {string.Join(", ", m.DhtNodes.Select(n => $"{n.Host}:{n.Port}"))}");
        if (m.SelectedFiles is { } so) o.WriteLine($"Only files:    {string.Join(", ", so)}");
    }

    private static void WriteTrackers(TextWriter o, IReadOnlyList<IReadOnlyList<string>> tiers)
    {
        if (tiers.Count == 0)
        {
            o.WriteLine("Trackers:      (none)");
            return;
        }
        o.WriteLine("Trackers:");
        for (int i = 0; i < tiers.Count; i++)
            foreach (var url in tiers[i]) o.WriteLine($"  tier {i + 1}: {url}");
    }
}
