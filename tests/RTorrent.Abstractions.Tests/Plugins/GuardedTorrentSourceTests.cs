using RTorrent.Engine.Plugins;

namespace RTorrent.Abstractions.Tests.Plugins;

/// <summary>The guard around torrent sources (feed readers): what is a failure, what is a fault, what is dropped.</summary>
public sealed class GuardedTorrentSourceTests
{
    private static readonly PluginGuardOptions Short = new() { TorrentSourceReadTimeout = TimeSpan.FromMilliseconds(200), MaxItemsPerRead = 3, MaxItemTextLength = 20 };

    private static TorrentSourceContext Context => new() { FeedName = "f", Address = "https://x/" };

    private static GuardedTorrentSource Guard(Source source) => GuardedTorrentSource.Create(source, "scripted", Context, Short);

    [Fact]
    public async Task A_torrent_source_exception_is_a_failure_and_the_source_stays_enabled()
    {
        var source = new Source { Read = _ => throw new TorrentSourceException("HTTP 503") };
        await using var guard = Guard(source);
        var e = await Assert.ThrowsAsync<TorrentSourceException>(() => guard.ReadAsync(CancellationToken.None));
        Assert.Equal("HTTP 503", e.Message);
        Assert.False(guard.IsDisabled);
        source.Read = _ => new TorrentSourceResult { Items = [] };
        Assert.Empty((await guard.ReadAsync(CancellationToken.None)).Items);
    }

    [Fact]
    public async Task Another_exception_disables_the_source_and_it_is_not_called_again()
    {
        var source = new Source { Read = _ => throw new NullReferenceException("oops") };
        await using var guard = Guard(source);
        ComponentFault? raised = null;
        guard.Disabled += (_, f) => raised = f;
        var e = await Assert.ThrowsAsync<TorrentSourceException>(() => guard.ReadAsync(CancellationToken.None));
        Assert.Contains("ReadAsync threw NullReferenceException: oops", e.Message);
        Assert.Equal(ComponentKind.TorrentSource, raised!.Kind);
        await Assert.ThrowsAsync<TorrentSourceException>(() => guard.ReadAsync(CancellationToken.None));
        Assert.Equal(1, source.Reads);
    }

    [Fact]
    public async Task A_source_that_hangs_is_abandoned_after_the_timeout_and_disabled()
    {
        var never = new TaskCompletionSource<TorrentSourceResult>();
        var source = new Source { ReadAsync = _ => new ValueTask<TorrentSourceResult>(never.Task) }; // ignores its token
        await using var guard = Guard(source);
        var e = await Assert.ThrowsAsync<TorrentSourceException>(() => guard.ReadAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("did not finish within 200 ms", e.Message);
        Assert.True(guard.IsDisabled);
        never.SetResult(new TorrentSourceResult { Items = [] });
    }

    [Fact]
    public async Task Cancelling_is_not_a_fault()
    {
        var source = new Source { ReadAsync = ct => new ValueTask<TorrentSourceResult>(Task.Delay(Timeout.Infinite, ct).ContinueWith(_ => new TorrentSourceResult { Items = [] }, ct)) };
        await using var guard = Guard(source);
        using var cancel = new CancellationTokenSource();
        var reading = guard.ReadAsync(cancel.Token);
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => reading);
        Assert.False(guard.IsDisabled);
    }

    [Fact]
    public async Task Null_results_are_faults()
    {
        await using var guard = Guard(new Source { Read = _ => null! });
        Assert.Contains("returned null", (await Assert.ThrowsAsync<TorrentSourceException>(() => guard.ReadAsync(CancellationToken.None))).Message);
    }

    [Fact]
    public async Task Items_are_checked_cut_and_capped()
    {
        var magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567";
        await using var guard = Guard(new Source
        {
            Read = _ => new TorrentSourceResult
            {
                Title = "feed",
                Items =
                [
                    null!,
                    new TorrentSourceItem { Id = "1", Title = "A title longer than twenty characters", MagnetUri = magnet, Size = -5 },
                    new TorrentSourceItem { Id = "2", Title = "No link" },
                    new TorrentSourceItem { Id = "3", Title = "Local file", TorrentUrl = "file:///etc/passwd" },
                    new TorrentSourceItem { Id = " ", Title = "Blank id", MagnetUri = magnet },
                    new TorrentSourceItem { Id = "4", Title = "Web", TorrentUrl = "https://x/4.torrent" },
                    new TorrentSourceItem { Id = "5", Title = "Hash only", InfoHash = "0123456789abcdef0123456789abcdef01234567" },
                    new TorrentSourceItem { Id = "6", Title = "Beyond the cap", MagnetUri = magnet },
                ],
            },
        });
        var result = await guard.ReadAsync(CancellationToken.None);
        Assert.Equal(["1", "4", "5"], result.Items.Select(i => i.Id));
        Assert.Equal("A title longer than ", result.Items[0].Title);
        Assert.Null(result.Items[0].Size);
        Assert.Equal(5, guard.LastDropped); // null, no link, a file: link, a blank id, beyond the cap
    }

    [Fact]
    public async Task A_factory_that_throws_gives_a_disabled_source()
    {
        await using var guard = GuardedTorrentSource.Create(new Source { ThrowOnCreate = true }, "scripted", Context, Short);
        Assert.True(guard.IsDisabled);
        Assert.Contains("could not be created: InvalidOperationException: no", guard.Fault!.Reason);
    }

    [Fact]
    public void The_host_registers_torrent_sources_and_a_fake_registry_refuses_them_plainly()
    {
        var registry = new ComponentRegistry();
        registry.RegisterBuiltIns(new BuiltIns());
        Assert.Equal("rss", Assert.Single(registry.TorrentSources).Name);
        Assert.NotNull(registry.GetTorrentSource("RSS"));
        Assert.Equal("torrent-source", ComponentKind.TorrentSource.ToDisplayName());
        Assert.True(PluginContracts.Version >= new Version(1, 1));

        // A registry built against contracts 1.0 (a plugin author's test fake) still compiles and loads: the new member
        // has a default that refuses with a clear message.
        IPluginRegistry old = new OldRegistry();
        Assert.Contains("contracts 1.1", Assert.Throws<NotSupportedException>(() => old.AddTorrentSource(new Source())).Message);
    }

    private sealed class OldRegistry : IPluginRegistry
    {
        public IPluginHost Host => throw new NotImplementedException();
        public void AddPiecePicker(IPiecePickerFactory factory) { }
        public void AddPeerSource(IPeerSourceFactory factory) { }
        public void AddStorage(IStorageFactory factory) { }
    }

    private sealed class Source : ITorrentSourceFactory, ITorrentSource
    {
        public Func<CancellationToken, TorrentSourceResult>? Read { get; set; }
        public Func<CancellationToken, ValueTask<TorrentSourceResult>>? ReadAsync { get; set; }
        public bool ThrowOnCreate { get; init; }
        public int Reads { get; private set; }
        public string Name => "scripted";
        public string Version => "1";
        public string Description => "test";

        public ITorrentSource Create(TorrentSourceContext context) => ThrowOnCreate ? throw new InvalidOperationException("no") : this;

        ValueTask<TorrentSourceResult> ITorrentSource.ReadAsync(CancellationToken cancellationToken)
        {
            Reads++;
            return ReadAsync is { } async ? async(cancellationToken) : new ValueTask<TorrentSourceResult>(Read!(cancellationToken));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
