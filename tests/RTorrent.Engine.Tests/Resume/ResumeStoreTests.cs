using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Storage;
using RTorrent.Engine.Tests.Storage;

namespace RTorrent.Engine.Tests.Resume;

public class ResumeStoreTests : IDisposable
{
    private readonly TempDir _tmp = new("rt-resume");
    private readonly ResumeStore _store;

    public ResumeStoreTests() => _store = new ResumeStore(_tmp.Sub("session"));

    public void Dispose() => _tmp.Dispose();

    private static readonly InfoHash Hash = ResumeDataTests.Hash;

    private Task<ResumeLoadResult> Load(int pieces = 13, int files = 3) => _store.LoadAsync(Hash, pieces, files);

    [Fact]
    public async Task Saves_next_to_the_torrent_and_loads_back()
    {
        await _store.SaveTorrentAsync(Hash, "d4:infode"u8.ToArray());
        await _store.SaveAsync(ResumeDataTests.Sample());

        Assert.True(File.Exists(_tmp.Sub("session", "0123456789abcdef0123456789abcdef01234567.resume")));
        Assert.True(File.Exists(_tmp.Sub("session", "0123456789abcdef0123456789abcdef01234567.torrent")));
        Assert.Empty(Directory.GetFiles(_tmp.Sub("session"), "*.tmp"));
        var result = await Load();
        Assert.Equal(ResumeLoadStatus.Loaded, result.Status);
        Assert.Equal(9, result.Data!.VerifiedCount);
        Assert.Equal([Hash], _store.ListTorrents());

        _store.Delete(Hash);
        Assert.Empty(Directory.GetFiles(_tmp.Sub("session")));
        Assert.Equal(ResumeLoadStatus.Missing, (await Load()).Status);
    }

    [Fact]
    public async Task A_missing_file_is_missing_not_an_error()
    {
        var result = await Load();
        Assert.Equal(ResumeLoadStatus.Missing, result.Status);
        Assert.Null(result.Error);
        Assert.Empty(_store.ListTorrents());
        _store.Delete(Hash); // nothing to delete, no session folder yet: not an error
    }

    [Theory]
    [InlineData(14, 3, "has 13 pieces; the torrent has 14")]
    [InlineData(13, 4, "lists 3 files; the torrent has 4")]
    public async Task Data_for_another_shape_of_torrent_is_a_mismatch(int pieces, int files, string why)
    {
        await _store.SaveAsync(ResumeDataTests.Sample());
        var result = await Load(pieces, files);
        Assert.Equal(ResumeLoadStatus.Failed, result.Status);
        Assert.Equal(ResumeProblem.Mismatch, result.Error!.Problem);
        Assert.Contains(why, result.Error.Message);
    }

    [Fact]
    public async Task Data_of_another_torrent_under_this_name_is_a_mismatch()
    {
        var other = InfoHash.FromHex("ffffffffffffffffffffffffffffffffffffffff");
        await _store.SaveAsync(ResumeDataTests.Sample() with { InfoHash = other });
        File.Move(_store.GetResumePath(other), _store.GetResumePath(Hash));
        var result = await Load();
        Assert.Equal(ResumeProblem.Mismatch, result.Error!.Problem);
        Assert.Contains("belongs to torrent ffff", result.Error.Message);
    }

    [Fact]
    public async Task Truncated_empty_and_corrupt_files_are_reported_never_thrown()
    {
        await _store.SaveAsync(ResumeDataTests.Sample());
        var path = _store.GetResumePath(Hash);
        var good = await File.ReadAllBytesAsync(path);

        await File.WriteAllBytesAsync(path, good[..(good.Length / 2)]);
        var r = await Load();
        Assert.Equal(ResumeLoadStatus.Failed, r.Status);
        Assert.Equal(ResumeProblem.Truncated, r.Error!.Problem);
        Assert.Contains(path, r.Error.Message);

        await File.WriteAllBytesAsync(path, []);
        Assert.Equal(ResumeProblem.Truncated, (await Load()).Error!.Problem);

        var flipped = (byte[])good.Clone();
        flipped[good.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(path, flipped);
        Assert.Equal(ResumeLoadStatus.Failed, (await Load()).Status);

        Directory.Delete(_tmp.Sub("session"), true);
        Directory.CreateDirectory(path); // a folder where the file should be
        r = await Load();
        Assert.Equal(ResumeLoadStatus.Failed, r.Status);
        Assert.Equal(ResumeProblem.Unreadable, r.Error!.Problem);
    }

    [Fact]
    public async Task A_crash_before_the_rename_leaves_the_previous_good_state()
    {
        var first = ResumeDataTests.Sample() with { Downloaded = 1 };
        await _store.SaveAsync(first);
        var path = _store.GetResumePath(Hash);
        // What a kill -9 in the middle of the next save leaves: a partial temporary file beside the good one.
        var second = (ResumeDataTests.Sample() with { Downloaded = 2 }).Encode();
        File.WriteAllBytes(path + ".deadbeef.tmp", second[..(second.Length / 3)]);

        var result = await Load();
        Assert.Equal(ResumeLoadStatus.Loaded, result.Status);
        Assert.Equal(1, result.Data!.Downloaded);
        Assert.True(File.Exists(path + ".deadbeef.tmp"), "a load leaves temporary files alone (a save may be writing one)");
        Assert.Equal(1, _store.DeleteStaleTemporaryFiles()); // what the session does once when it opens
        Assert.False(File.Exists(path + ".deadbeef.tmp"), "stray temporary files are cleaned up by the sweep");
    }

    [Fact]
    public async Task A_crash_before_the_first_rename_leaves_no_resume_data()
    {
        Directory.CreateDirectory(_tmp.Sub("session"));
        File.WriteAllBytes(_store.GetResumePath(Hash) + ".0badf00d.tmp", ResumeDataTests.Sample().Encode());
        Assert.Equal(ResumeLoadStatus.Missing, (await Load()).Status); // a temp file is never trusted, even if complete
        _store.DeleteStaleTemporaryFiles();
        Assert.Empty(Directory.GetFiles(_tmp.Sub("session")));
    }

    [Fact]
    public async Task The_sweep_removes_the_temporaries_of_resume_and_metainfo_saves_and_nothing_else()
    {
        await _store.SaveAsync(ResumeDataTests.Sample());
        await _store.SaveTorrentAsync(Hash, "d4:infod4:name1:xee"u8.ToArray());
        var dir = _tmp.Sub("session");
        string hex = Hash.ToHex();
        string[] stale = [$"{hex}.resume.deadbeef.tmp", $"{hex}.torrent.0badf00d.tmp", $"{new string('f', 40)}.torrent.12345678.tmp"];
        string[] kept = [$"{hex}.resume", $"{hex}.torrent", "settings.json.12345678.tmp", $"{hex}.resume.toolongtag.tmp", "notes.tmp",
            "nothex.resume.12345678.tmp"];
        foreach (var f in stale.Concat(kept.Skip(2))) File.WriteAllText(Path.Combine(dir, f), "x");

        Assert.Equal(stale.Length, _store.DeleteStaleTemporaryFiles());
        Assert.Equal(kept.Order(StringComparer.Ordinal), Directory.GetFiles(dir).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_cancelled_save_keeps_the_old_content_and_leaves_no_temporary_file()
    {
        await _store.SaveAsync(ResumeDataTests.Sample() with { Downloaded = 1 });
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => _store.SaveAsync(ResumeDataTests.Sample() with { Downloaded = 2 }, cts.Token));
        Assert.Equal(1, (await Load()).Data!.Downloaded);
        Assert.Empty(Directory.GetFiles(_tmp.Sub("session"), "*.tmp"));
    }

    [Fact]
    public async Task Atomic_writes_replace_whole_files_and_sync_the_folder()
    {
        var path = _tmp.Sub("session", "x.json");
        await AtomicFile.WriteAllBytesAsync(path, "first, longer content"u8.ToArray());
        await AtomicFile.WriteAllBytesAsync(path, "second"u8.ToArray());
        Assert.Equal("second", File.ReadAllText(path));
        Assert.Empty(AtomicFile.FindStaleTemporaryFiles(path));
        if (OperatingSystem.IsLinux())
        {
            Assert.True(NativeFileSystem.FsyncDirectory(_tmp.Sub("session")));
            Assert.Throws<IOException>(() => NativeFileSystem.FsyncDirectory(_tmp.Sub("no-such-folder")));
        }
    }
}
