using System.CommandLine;
using System.CommandLine.Parsing;
using System.Diagnostics;
using System.Globalization;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Cli;

/// <summary>
/// <c>rtorrent create PATH -o OUT.torrent [--tracker URL]... [--web-seed URL]... [--piece-size BYTES] [--private]
/// [--comment TEXT] [--source TEXT] [--name NAME] [--include-hidden] [--attributes] [--no-date] [--v2 | --hybrid] [--threads N] [--force]</c>.
/// </summary>
/// <remarks>
/// Each --tracker is one tier; URLs joined by commas in one --tracker share a tier (as mktorrent's -a). The piece size
/// is chosen from the total size unless given (bytes, or with a K/M suffix: 256K, 4M). A progress line is drawn only
/// when stderr is a terminal. An existing output file is kept unless --force.
/// </remarks>
public static class CreateCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "The file or folder to share." };
        var output = new Option<string>("--output", "-o") { Description = "Where to write the .torrent file.", Required = true };
        var trackers = new Option<string[]>("--tracker", "-t")
        {
            Description = "Tracker announce URL; repeat for more tiers, join with commas for one tier.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var webSeeds = new Option<string[]>("--web-seed", "-w") { Description = "Web seed URL (BEP 19); repeatable.", Arity = ArgumentArity.ZeroOrMore };
        var pieceSize = new Option<long?>("--piece-size")
        {
            Description = "Piece length: a power of two from 16K to 512M (bytes, or with a K/M suffix). Default: chosen from the size.",
            CustomParser = ParsePieceSize,
        };
        var isPrivate = new Option<bool>("--private") { Description = "Private torrent (BEP 27): peers only from the trackers." };
        var comment = new Option<string?>("--comment", "-c") { Description = "Comment." };
        var source = new Option<string?>("--source", "-s") { Description = "Source tag in the info dictionary (changes the info-hash)." };
        var name = new Option<string?>("--name", "-n") { Description = "Torrent name (default: the file or folder name)." };
        var hidden = new Option<bool>("--include-hidden") { Description = "Include hidden files and folders (names starting with '.')." };
        var attributes = new Option<bool>("--attributes")
        {
            Description = "BEP 47 attributes: mark executable files 'x', and keep symlinks inside the folder as links instead of following them.",
        };
        var noDate = new Option<bool>("--no-date") { Description = "Leave out the creation date (the same input then gives the same file)." };
        var v2 = new Option<bool>("--v2") { Description = "Make a v2-only torrent (BEP 52: SHA-256 merkle trees); needs v2 clients (libtorrent 2, qBittorrent 4.4+)." };
        var hybrid = new Option<bool>("--hybrid") { Description = "Make a hybrid v1+v2 torrent (BEP 52): v1 and v2 clients both download it." };
        var force = new Option<bool>("--force", "-f") { Description = "Overwrite the output file if it exists." };
        var threads = new Option<int?>("--threads") { Description = "Hashing threads (default: one per core)." };
        threads.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int?>() is < 1) r.AddError("--threads must be at least 1.");
        });

        var command = new Command("create", "Make a .torrent file from a file or folder.");
        command.Arguments.Add(path);
        foreach (var o in new Option[] { output, trackers, webSeeds, pieceSize, isPrivate, comment, source, name, hidden, attributes, noDate, v2, hybrid, force, threads })
            command.Options.Add(o);

        command.Validators.Add(r =>
        {
            if (r.GetValue(v2) && r.GetValue(hybrid)) r.AddError("--v2 and --hybrid cannot be used together.");
        });
        command.SetAction(async (parseResult, cancellationToken) =>
        {
            var config = parseResult.InvocationConfiguration;
            var options = new TorrentCreatorOptions
            {
                PieceLength = parseResult.GetValue(pieceSize),
                Trackers = [.. (parseResult.GetValue(trackers) ?? []).Select(t => (IReadOnlyList<string>)[.. t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)]).Where(t => t.Count > 0)],
                WebSeeds = parseResult.GetValue(webSeeds) ?? [],
                IsPrivate = parseResult.GetValue(isPrivate),
                Comment = parseResult.GetValue(comment),
                Source = parseResult.GetValue(source),
                Name = parseResult.GetValue(name),
                IncludeHidden = parseResult.GetValue(hidden),
                Attributes = parseResult.GetValue(attributes),
                OmitCreationDate = parseResult.GetValue(noDate),
                Parallelism = parseResult.GetValue(threads),
                Version = parseResult.GetValue(hybrid) ? TorrentVersions.Hybrid : parseResult.GetValue(v2) ? TorrentVersions.V2 : TorrentVersions.V1,
            };
            return await RunAsync(parseResult.GetValue(path)!, parseResult.GetValue(output)!, options, parseResult.GetValue(force),
                config.Output, config.Error, cancellationToken).ConfigureAwait(false);
        });
        return command;
    }

    private static async Task<int> RunAsync(
        string path, string outputFile, TorrentCreatorOptions options, bool force, TextWriter output, TextWriter error,
        CancellationToken cancellationToken)
    {
        foreach (var url in options.Trackers.SelectMany(t => t))
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https" or "udp"))
            {
                error.WriteLine($"Tracker '{url}' is not an http, https or udp URL.");
                return ExitCodes.Failure;
            }
        }
        foreach (var url in options.WebSeeds)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                error.WriteLine($"Web seed '{url}' is not an http or https URL.");
                return ExitCodes.Failure;
            }
        }
        if (!File.Exists(path) && !Directory.Exists(path))
        {
            error.WriteLine($"Cannot read '{path}': no such file or folder.");
            return ExitCodes.UnusableInput;
        }
        if (File.Exists(outputFile) && !force)
        {
            error.WriteLine($"'{outputFile}' already exists; use --force to overwrite it.");
            return ExitCodes.Failure;
        }

        using var progress = CliApp.IsTerminal(error) ? new ProgressLine(error) : null;
        CreatedTorrent created;
        try
        {
            created = await TorrentCreator.CreateFileAsync(path, outputFile, options, progress, overwrite: force, cancellationToken).ConfigureAwait(false);
        }
        catch (ArgumentException e)
        {
            progress?.Clear();
            error.WriteLine($"Cannot create a torrent of '{path}': {e.Message}");
            return ExitCodes.UnusableInput;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            progress?.Clear();
            error.WriteLine($"Cannot create '{outputFile}': {e.Message}");
            return ExitCodes.Failure;
        }
        progress?.Clear();

        var t = created.Metainfo;
        output.WriteLine($"Created {outputFile}");
        output.WriteLine($"  Name:       {t.Name}");
        output.WriteLine($"  Files:      {Format.Count(t.Files.Count)}, {Format.Size(t.TotalSize)} ({Format.Count(t.TotalSize)} bytes)");
        output.WriteLine($"  Pieces:     {Format.Count(t.PieceCount)} x {Format.Size(t.PieceLength)}");
        if (t.InfoHashV1 is { } v1) output.WriteLine($"  Info-hash:  {v1.ToHex()}");
        if (t.InfoHashV2 is { } v2) output.WriteLine($"  Info-hash v2: {Convert.ToHexStringLower(v2)}");
        output.WriteLine($"  Magnet:     {MagnetLink.FromTorrent(t)}");
        foreach (var s in created.Skipped) output.WriteLine($"  Skipped:    {s}");
        return ExitCodes.Ok;
    }

    private static long? ParsePieceSize(ArgumentResult result)
    {
        var text = result.Tokens.Count == 1 ? result.Tokens[0].Value.Trim() : "";
        long multiplier = 1;
        if (text.EndsWith('K') || text.EndsWith('k')) multiplier = 1024;
        else if (text.EndsWith('M') || text.EndsWith('m')) multiplier = 1024 * 1024;
        var digits = multiplier == 1 ? text : text[..^1];
        if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out long value)
            || value > long.MaxValue / multiplier)
        {
            result.AddError($"Piece size '{text}' is not a number of bytes (e.g. 262144, 256K, 4M).");
            return null;
        }
        value *= multiplier;
        if (value < 16 * 1024 || value > 512L * 1024 * 1024 || (value & (value - 1)) != 0)
        {
            result.AddError($"Piece size {value} must be a power of two from 16K to 512M.");
            return null;
        }
        return value;
    }

    /// <summary>One line on a terminal, redrawn in place: percentage, bytes and speed.</summary>
    private sealed class ProgressLine(TextWriter writer) : IProgress<TorrentCreationProgress>, IDisposable
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private readonly Lock _lock = new();
        private bool _drawn;
        private TimeSpan _lastDraw;

        public void Report(TorrentCreationProgress p)
        {
            lock (_lock)
            {
                // Redraw at most ten times a second; the last report (all done) is always drawn.
                var now = _clock.Elapsed;
                if (_drawn && now - _lastDraw < TimeSpan.FromMilliseconds(100) && p.BytesHashed < p.TotalBytes) return;
                _lastDraw = now;
                double seconds = Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
                double percent = p.TotalBytes == 0 ? 100 : 100.0 * p.BytesHashed / p.TotalBytes;
                writer.Write($"\rHashing {percent,5:0.0}%  {Format.Size(p.BytesHashed)} of {Format.Size(p.TotalBytes)}  {Format.Size((long)(p.BytesHashed / seconds))}/s   ");
                writer.Flush();
                _drawn = true;
            }
        }

        public void Clear()
        {
            lock (_lock)
            {
                if (!_drawn) return;
                writer.Write("\r" + new string(' ', 70) + "\r");
                writer.Flush();
                _drawn = false;
            }
        }

        public void Dispose() => Clear();
    }
}
