using RTorrent.Abstractions.Tests.Plugins;
using RTorrent.Engine.Plugins;
using RTorrent.Plugins.JsonFeed;
using RTorrent.Testing;

namespace RTorrent.Abstractions.Tests.Samples;

/// <summary>The sample torrent source: a JSON Feed reader, loaded through the catalog and run behind the guard.</summary>
public sealed class JsonFeedTests
{
    private const string Feed = """
        {
          "version": "https://jsonfeed.org/version/1.1",
          "title": "Releases",
          "items": [
            { "id": "1", "title": "Distro 24.04", "date_published": "2024-01-15T10:00:00Z",
              "attachments": [ { "url": "https://example.org/distro.torrent", "mime_type": "application/x-bittorrent", "size_in_bytes": 1234 } ] },
            { "id": "2", "title": "Magnet only", "url": "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567" },
            { "id": "3", "title": "A blog post", "url": "https://example.org/post" }
          ]
        }
        """;

    [Fact]
    public void Items_with_a_torrent_or_a_magnet_are_read()
    {
        var result = JsonFeedSource.Parse(System.Text.Encoding.UTF8.GetBytes(Feed), 100);
        Assert.Equal("Releases", result.Title);
        Assert.Equal(["1", "2"], result.Items.Select(i => i.Id));
        Assert.Equal(("https://example.org/distro.torrent", 1234L), (result.Items[0].TorrentUrl, result.Items[0].Size!.Value));
        Assert.StartsWith("magnet:", result.Items[1].MagnetUri);
    }

    [Theory]
    [InlineData("{\"title\": \"no version\"}")]
    [InlineData("not json")]
    [InlineData("[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]")]
    public void Other_documents_are_refused_with_a_clear_error(string body) =>
        Assert.StartsWith("not a JSON Feed", Assert.Throws<TorrentSourceException>(() => JsonFeedSource.Parse(System.Text.Encoding.UTF8.GetBytes(body), 100)).Message);

    [Fact]
    public async Task Loaded_as_a_plugin_it_is_a_torrent_source_that_reads_over_http_behind_the_guard()
    {
        using var folder = new PluginFolder();
        folder.Add("JsonFeed");
        var registry = new ComponentRegistry();
        registry.RegisterBuiltIns(new BuiltIns());
        using var catalog = new PluginCatalog(registry, new PluginCatalogOptions { Directories = [new PluginDirectorySpec(folder.Path, "extra")] });
        var report = catalog.LoadAll();
        var plugin = Assert.Single(report.Plugins);
        Assert.True(plugin.IsLoaded, plugin.ToString());
        Assert.Equal([ComponentKind.TorrentSource], plugin.Kinds);
        var factory = registry.GetTorrentSource("jsonfeed")!;

        await using var http = new LocalHttpServer();
        var url = http.ServeAt("/feed.json", Feed);
        await using var source = GuardedTorrentSource.Create(factory.Factory, factory.Name, new TorrentSourceContext { FeedName = "r", Address = url });
        var result = await source.ReadAsync(CancellationToken.None);
        Assert.Equal(2, result.Items.Count);

        http.ServeAt("/feed.json", "gone", status: 404);
        Assert.Equal("HTTP 404 Not Found", (await Assert.ThrowsAsync<TorrentSourceException>(() => source.ReadAsync(CancellationToken.None))).Message);
        Assert.False(source.IsDisabled);
    }
}
