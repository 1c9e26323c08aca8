using RTorrent.Abstractions;

namespace RTorrent.Plugins.JsonFeed;

/// <summary>
/// Registers the <c>jsonfeed</c> torrent source (contracts 1.1): feeds in the JSON Feed format (https://jsonfeed.org),
/// whose items carry the .torrent or the magnet link as an attachment. A user names it in feeds.json:
/// <c>{ "name": "releases", "url": "https://example.org/feed.json", "source": "jsonfeed" }</c>.
/// </summary>
public sealed class JsonFeedPlugin : IRTorrentPlugin
{
    /// <inheritdoc />
    public void Register(IPluginRegistry registry)
    {
        // A host older than contracts 1.1 has no torrent sources: register nothing rather than fail.
        if (registry.Host.ContractsVersion < new Version(1, 1))
        {
            registry.Host.Log(PluginLogLevel.Warning, "jsonfeed needs RTorrent contracts 1.1 (torrent sources); not registered");
            return;
        }
        registry.AddTorrentSource(new JsonFeedSourceFactory(JsonFeedOptions.FromHost(registry.Host)));
    }
}

/// <summary>Settings of the <c>jsonfeed</c> source.</summary>
public sealed record JsonFeedOptions
{
    /// <summary>Setting key for <see cref="Timeout"/> in seconds (environment: <c>RTORRENT_JSONFEED_TIMEOUT</c>).</summary>
    public const string TimeoutKey = "jsonfeed.timeout";

    /// <summary>How long one download may take (60 s). The host's guard gives up on a read after 2 minutes anyway.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Reads the options, keeping defaults for missing or malformed values.</summary>
    public static JsonFeedOptions FromHost(IPluginHost host)
    {
        var options = new JsonFeedOptions();
        if (host.GetSetting(TimeoutKey) is { } text)
        {
            if (int.TryParse(text, out var seconds) && seconds is > 0 and <= 600) options = options with { Timeout = TimeSpan.FromSeconds(seconds) };
            else host.Log(PluginLogLevel.Warning, $"{TimeoutKey}: '{text}' is not a number of seconds from 1 to 600; using {options.Timeout.TotalSeconds:0}");
        }
        return options;
    }
}
