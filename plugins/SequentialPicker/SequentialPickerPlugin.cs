using RTorrent.Abstractions;

namespace RTorrent.Plugins.SequentialPicker;

/// <summary>Registers the <c>sequential</c> piece picker.</summary>
public sealed class SequentialPickerPlugin : IRTorrentPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        var options = SequentialPickerOptions.FromHost(registry.Host);
        registry.AddPiecePicker(new SequentialPickerFactory(options));
    }
}

/// <summary>Creates <see cref="SequentialPiecePicker"/>s.</summary>
public sealed class SequentialPickerFactory : IPiecePickerFactory
{
    private readonly SequentialPickerOptions _options;

    /// <summary>Creates the factory.</summary>
    public SequentialPickerFactory(SequentialPickerOptions? options = null) => _options = options ?? new SequentialPickerOptions();

    /// <inheritdoc />
    public string Name => "sequential";

    /// <inheritdoc />
    public string Version => typeof(SequentialPickerFactory).Assembly.GetName().Version?.ToString(3) ?? "1.0.0";

    /// <inheritdoc />
    public string Description => "Downloads in order, with an urgent window ahead of the playback position, for watching while downloading.";

    /// <inheritdoc />
    public IPiecePicker Create(PiecePickerContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return new SequentialPiecePicker(context, _options);
    }
}

/// <summary>Settings of the sequential picker.</summary>
public sealed record SequentialPickerOptions
{
    /// <summary>Setting key for <see cref="WindowBytes"/> (environment: <c>RTORRENT_SEQUENTIAL_WINDOW_BYTES</c>).</summary>
    public const string WindowBytesKey = "sequential.window-bytes";

    /// <summary>Setting key for <see cref="MinWindowPieces"/> (environment: <c>RTORRENT_SEQUENTIAL_MIN_WINDOW_PIECES</c>).</summary>
    public const string MinWindowPiecesKey = "sequential.min-window-pieces";

    /// <summary>
    /// Bytes ahead of the playback position that are urgent: about 16 MiB is 10 to 60 seconds of typical video,
    /// enough to ride out a slow peer without starving the rest of the download.
    /// </summary>
    public long WindowBytes { get; init; } = 16L * 1024 * 1024;

    /// <summary>The window never covers fewer pieces than this (torrents with huge pieces).</summary>
    public int MinWindowPieces { get; init; } = 4;

    /// <summary>How many pieces the urgent window covers for a torrent with pieces of <paramref name="pieceLength"/> bytes.</summary>
    public int WindowPieces(long pieceLength)
    {
        if (pieceLength <= 0) return Math.Max(1, MinWindowPieces);
        var pieces = (WindowBytes + pieceLength - 1) / pieceLength;
        return (int)Math.Clamp(pieces, Math.Max(1, MinWindowPieces), int.MaxValue);
    }

    /// <summary>Reads the options from the host's settings, keeping defaults for missing or malformed values.</summary>
    public static SequentialPickerOptions FromHost(IPluginHost host)
    {
        var options = new SequentialPickerOptions();
        if (host.GetSetting(WindowBytesKey) is { } window)
        {
            if (long.TryParse(window, out var bytes) && bytes >= 0) options = options with { WindowBytes = bytes };
            else host.Log(PluginLogLevel.Warning, $"{WindowBytesKey}: '{window}' is not a byte count; using {options.WindowBytes}");
        }
        if (host.GetSetting(MinWindowPiecesKey) is { } min)
        {
            if (int.TryParse(min, out var pieces) && pieces >= 1) options = options with { MinWindowPieces = pieces };
            else host.Log(PluginLogLevel.Warning, $"{MinWindowPiecesKey}: '{min}' is not a piece count of at least 1; using {options.MinWindowPieces}");
        }
        return options;
    }
}
