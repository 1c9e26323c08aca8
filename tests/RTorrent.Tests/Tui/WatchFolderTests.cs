using RTorrent.Engine.Session;
using RTorrent.Testing;
using RTorrent.Tui;

namespace RTorrent.Tests.Tui;

public sealed class WatchFolderTests : IDisposable
{
    private const string Magnet = "magnet:?xt=urn:btih:0123456789abcdef0123456789abcdef01234567&dn=demo";
    private readonly string _folder = TestPaths.NewTempDir("rt-watch");
    private readonly ManualTime _time = new();
    private readonly List<string> _added = [];
    private readonly List<WatchFolderReport> _reports = [];
    private string? _failWith;

    private static string ValidTorrent => Path.Combine(TestPaths.Corpus, "torrents", "base.torrent");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private WatchFolder Create(WatchFolderOptions? options = null)
    {
        var watch = new WatchFolder(_folder, (source, _) =>
        {
            if (_failWith is { } message) throw new InvalidOperationException(message);
            _added.Add(source);
            return Task.CompletedTask;
        }, options ?? new WatchFolderOptions { Time = _time, StableTime = TimeSpan.FromSeconds(1.5) });
        watch.Reported += r =>
        {
            lock (_reports) _reports.Add(r);
        };
        return watch;
    }

    private async Task SettleAsync(WatchFolder watch)
    {
        await watch.ScanAsync();
        _time.Advance(TimeSpan.FromSeconds(2));
        await watch.ScanAsync();
    }

    [Fact]
    public async Task A_torrent_is_added_once_it_stood_still_and_is_then_renamed()
    {
        await using WatchFolder watch = Create();
        string path = Path.Combine(_folder, "linux.torrent");
        File.Copy(ValidTorrent, path);

        await watch.ScanAsync();
        Assert.Empty(_added); // seen once: it might still be growing
        Assert.Equal(1, watch.PendingCount);
        _time.Advance(TimeSpan.FromSeconds(1));
        await watch.ScanAsync();
        Assert.Empty(_added); // not still for long enough yet
        _time.Advance(TimeSpan.FromSeconds(1));
        await watch.ScanAsync();

        Assert.Equal([path], _added);
        Assert.False(File.Exists(path));
        Assert.True(File.Exists(path + WatchFolder.AddedSuffix));
        WatchFolderReport report = Assert.Single(_reports);
        Assert.False(report.IsError);
        Assert.Contains("Added linux.torrent", report.Message);

        _time.Advance(TimeSpan.FromSeconds(10));
        await watch.ScanAsync();
        Assert.Single(_added); // the .added file is not picked up again
    }

    [Fact]
    public async Task A_file_still_being_written_waits_until_its_size_stops_changing()
    {
        await using WatchFolder watch = Create();
        string path = Path.Combine(_folder, "growing.torrent");
        byte[] data = await File.ReadAllBytesAsync(ValidTorrent);
        await File.WriteAllBytesAsync(path, data[..(data.Length / 2)]);
        await watch.ScanAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        await File.WriteAllBytesAsync(path, data[..(data.Length * 3 / 4)]);
        await watch.ScanAsync();
        _time.Advance(TimeSpan.FromSeconds(1));
        await File.WriteAllBytesAsync(path, data);
        await watch.ScanAsync();
        Assert.Empty(_added);
        Assert.Empty(_reports); // never mistaken for a broken torrent

        _time.Advance(TimeSpan.FromSeconds(2));
        await watch.ScanAsync();
        Assert.Equal([path], _added);
    }

    [Fact]
    public async Task A_file_that_is_not_a_torrent_is_reported_once_and_left_alone()
    {
        await using WatchFolder watch = Create();
        string path = Path.Combine(_folder, "notes.torrent");
        await File.WriteAllTextAsync(path, "this is not bencode");
        await SettleAsync(watch);
        for (int i = 0; i < 3; i++)
        {
            _time.Advance(TimeSpan.FromSeconds(5));
            await watch.ScanAsync();
        }

        Assert.Empty(_added);
        WatchFolderReport report = Assert.Single(_reports);
        Assert.True(report.IsError);
        Assert.Contains("notes.torrent is not a torrent", report.Message);
        Assert.True(File.Exists(path)); // left alone, not renamed or deleted

        // Replaced by something else (another size and time): it counts as a new file.
        await File.WriteAllTextAsync(path, "still not a torrent, but longer");
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(1));
        await SettleAsync(watch);
        Assert.Equal(2, _reports.Count);
    }

    [Fact]
    public async Task Other_files_are_looked_at_too_but_hidden_and_partial_downloads_are_not()
    {
        await using WatchFolder watch = Create();
        await File.WriteAllTextAsync(Path.Combine(_folder, "readme.txt"), "hello");
        File.Copy(ValidTorrent, Path.Combine(_folder, "x.torrent.part"));
        File.Copy(ValidTorrent, Path.Combine(_folder, ".hidden.torrent"));
        File.Copy(ValidTorrent, Path.Combine(_folder, "y.torrent.crdownload"));
        Directory.CreateDirectory(Path.Combine(_folder, "sub"));
        File.Copy(ValidTorrent, Path.Combine(_folder, "sub", "deep.torrent"));
        await SettleAsync(watch);

        Assert.Empty(_added);
        Assert.Contains("readme.txt is not a torrent", Assert.Single(_reports).Message);
    }

    [Fact]
    public async Task A_text_file_holding_a_magnet_link_adds_the_link()
    {
        await using WatchFolder watch = Create();
        await File.WriteAllTextAsync(Path.Combine(_folder, "demo.magnet"), Magnet + "\n");
        await SettleAsync(watch);
        Assert.Equal([Magnet], _added);
    }

    [Fact]
    public async Task A_refused_add_is_reported_once_with_the_backend_reason()
    {
        _failWith = "already in the session";
        await using WatchFolder watch = Create();
        string path = Path.Combine(_folder, "dup.torrent");
        File.Copy(ValidTorrent, path);
        await SettleAsync(watch);
        _time.Advance(TimeSpan.FromSeconds(10));
        await watch.ScanAsync();

        WatchFolderReport report = Assert.Single(_reports);
        Assert.True(report.IsError);
        Assert.Equal("Could not add dup.torrent: already in the session", report.Message);
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task Files_can_stay_where_they_are()
    {
        await using WatchFolder watch = Create(new WatchFolderOptions { Time = _time, RenameAdded = false });
        string path = Path.Combine(_folder, "keep.torrent");
        File.Copy(ValidTorrent, path);
        await SettleAsync(watch);
        _time.Advance(TimeSpan.FromSeconds(10));
        await watch.ScanAsync();
        Assert.Equal([path], _added); // remembered: not added twice
        Assert.True(File.Exists(path));
    }

    [Fact]
    public async Task A_missing_folder_is_reported_once()
    {
        string missing = Path.Combine(_folder, "not-mounted");
        await using var watch = new WatchFolder(missing, (_, _) => Task.CompletedTask, new WatchFolderOptions { Time = _time });
        watch.Reported += _reports.Add;
        await watch.ScanAsync();
        await watch.ScanAsync();
        Assert.Contains("does not exist", Assert.Single(_reports).Message);
    }

    [Fact]
    public async Task Files_ready_together_are_added_several_at_a_time_up_to_the_limit()
    {
        // Adding a torrent mostly waits on the disk: a folder of thousands must not be taken in one by one.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        int inFlight = 0, most = 0;
        var added = new System.Collections.Concurrent.ConcurrentBag<string>();
        await using var watch = new WatchFolder(_folder, async (source, ct) =>
        {
            int now = Interlocked.Increment(ref inFlight);
            lock (added) most = Math.Max(most, now);
            await gate.Task.WaitAsync(ct);
            added.Add(source);
            Interlocked.Decrement(ref inFlight);
        }, new WatchFolderOptions { Time = _time, StableTime = TimeSpan.FromSeconds(1.5), MaxConcurrentAdds = 3 });
        watch.Reported += r =>
        {
            lock (_reports) _reports.Add(r);
        };
        var paths = Enumerable.Range(0, 7).Select(i => Path.Combine(_folder, $"t{i}.torrent")).ToArray();
        foreach (var p in paths) File.Copy(ValidTorrent, p);
        await watch.ScanAsync();
        _time.Advance(TimeSpan.FromSeconds(2));

        var scan = watch.ScanAsync();
        using (var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
            while (Volatile.Read(ref inFlight) < 3 && !deadline.IsCancellationRequested) await Task.Delay(10);
        Assert.Equal(3, Volatile.Read(ref inFlight)); // three at once, the others waiting for one to finish
        Assert.False(scan.IsCompleted);
        gate.SetResult();
        await scan;

        Assert.Equal(paths.Order(), added.Order());
        Assert.Equal(3, most);
        Assert.All(paths, p => Assert.True(File.Exists(p + WatchFolder.AddedSuffix)));
        Assert.Equal(7, _reports.Count(r => !r.IsError));
    }

    [Fact]
    public async Task The_running_watcher_picks_up_a_new_torrent_by_itself()
    {
        var options = new WatchFolderOptions { PollInterval = TimeSpan.FromMilliseconds(200), StableTime = TimeSpan.FromMilliseconds(300) };
        await using WatchFolder watch = Create(options);
        var addedOne = new TaskCompletionSource();
        watch.Reported += r =>
        {
            if (!r.IsError) addedOne.TrySetResult();
        };
        watch.Start();
        File.Copy(ValidTorrent, Path.Combine(_folder, "late.torrent"));

        await addedOne.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Single(_added);
    }
}
