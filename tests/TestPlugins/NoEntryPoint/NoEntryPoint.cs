namespace RTorrent.TestPlugins;

/// <summary>A library that is not a plugin: nothing implements IRTorrentPlugin.</summary>
public sealed class NotAPlugin
{
    public int Answer => 42;
}
