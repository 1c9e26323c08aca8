using RTorrent.Abstractions;

namespace RTorrent.Plugins.MemoryStorage;

/// <summary>Registers the <c>memory</c> storage backend.</summary>
public sealed class MemoryStoragePlugin : IRTorrentPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry) =>
        registry.AddStorage(new MemoryStorageFactory(MemoryStorageOptions.FromHost(registry.Host)));
}

/// <summary>Settings of the memory storage.</summary>
public sealed record MemoryStorageOptions
{
    /// <summary>Setting key for <see cref="CapBytes"/> (environment: <c>RTORRENT_MEMORY_CAP_BYTES</c>).</summary>
    public const string CapBytesKey = "memory.cap-bytes";

    /// <summary>The default cap: 1 GiB.</summary>
    public const long DefaultCapBytes = 1L << 30;

    /// <summary>
    /// The most bytes all torrents in memory storage may hold together (one factory, one cap: it protects the
    /// machine, not a torrent). Space is counted in whole chunks as they are allocated.
    /// </summary>
    public long CapBytes { get; init; } = DefaultCapBytes;

    /// <summary>
    /// Allocation unit in bytes (256 KiB): a multiple of the 16 KiB block size, large enough that the chunk table of a
    /// 100 GiB torrent stays around 3 MiB, small enough that sparse writes do not waste much.
    /// </summary>
    public int ChunkSize { get; init; } = 256 * 1024;

    /// <summary>Reads the options from the host's settings, keeping defaults for missing or malformed values.</summary>
    public static MemoryStorageOptions FromHost(IPluginHost host)
    {
        var options = new MemoryStorageOptions();
        if (host.GetSetting(CapBytesKey) is { } cap)
        {
            if (long.TryParse(cap, out var bytes) && bytes >= 0) options = options with { CapBytes = bytes };
            else host.Log(PluginLogLevel.Warning, $"{CapBytesKey}: '{cap}' is not a byte count; using {options.CapBytes}");
        }
        return options;
    }
}
