using System.Net;
using System.Security.Cryptography;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Session;
using RTorrent.Engine.Storage;
using RTorrent.Engine.Tests.Client;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// Recovery after a kill -9 (issue 14 item 5): pieces verified since the last full resume save are journaled and
/// claimed at the next start without hashing them again; what a check still reads is what was written, not the
/// torrent's size (holes of sparse files are skipped); a journaled piece whose data is gone is never claimed.
/// A kill is what the session folder and the data hold at one moment: the folder is copied then, the session closed
/// (which saves), and the copy put back, as a kill -9 would have left it.
/// </summary>
public sealed class CrashRecoveryTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-crash");

    public void Dispose()
    {
        try { Directory.Delete(_root, true); } catch (IOException) { }
    }

    private SessionOptions Options(string session, EngineConfig? engine = null) => new()
    {
        SessionDirectory = Path.Combine(_root, session),
        Engine = engine ?? new EngineConfig { ListenAddress = IPAddress.Loopback },
        LoadPlugins = false,
        EnableDht = false,
        DisabledPeerSources = ["tracker", "pex", "lsd"],
        PieceJournalInterval = TimeSpan.Zero,
    };

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!await condition())
        {
            if (deadline.IsCancellationRequested) Assert.Fail($"timed out waiting until {what}");
            await Task.Delay(20);
        }
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var f in Directory.GetFiles(from).Where(f => Path.GetFileName(f) != "session.lock"))
            File.Copy(f, Path.Combine(to, Path.GetFileName(f)), overwrite: true);
    }

    [Fact]
    public async Task Pieces_verified_after_the_last_save_are_claimed_after_a_kill_without_hashing_them_again()
    {
        const int pieceLength = 64 * 1024;
        string seedData = Path.Combine(_root, "seed"), leechData = Path.Combine(_root, "leech");
        var meta = TestTorrents.CreateMultiFile(seedData, "big", pieceLength, 96 * pieceLength);
        Directory.CreateDirectory(leechData);
        string leechSession = Path.Combine(_root, "leech-session"), atKill = Path.Combine(_root, "at-kill");
        int[] journaled;

        await using (var seeder = await ClientSession.OpenAsync(Options("seed-session",
            new EngineConfig { ListenAddress = IPAddress.Loopback, UploadLimit = 1024 * 1024 })))
        {
            var seed = await seeder.AddAsync(meta, new TorrentOptions { SavePath = seedData });
            Assert.Equal(TorrentState.Seeding, seed.State);
            // No periodic save during the test: only the journal can keep what is verified.
            var leecher = await ClientSession.OpenAsync(Options("leech-session",
                new EngineConfig { ListenAddress = IPAddress.Loopback, ResumeSaveInterval = TimeSpan.FromHours(1) }));
            try
            {
                var t = await leecher.AddAsync(meta, new TorrentOptions { SavePath = leechData });
                await t.AddPeerAsync(new IPEndPoint(IPAddress.Loopback, seeder.Engine.ListenPort));
                await WaitUntilAsync(async () => await leecher.Engine.Loop.InvokeAsync(() => t.HaveSnapshot().TrueCount) >= 24, "a quarter is verified");
                await seed.StopAsync(); // no more data arrives
                await Task.Delay(200); // writes in flight land
                await leecher.FlushPieceJournalsAsync();
                // The kill: what the session folder holds now.
                CopyDirectory(leechSession, atKill);
                journaled = await PieceJournal.ReadAsync(Path.Combine(atKill, meta.WireHash.ToHex() + PieceJournal.Extension), meta.PieceCount);
                Assert.True(journaled.Length >= 24, $"{journaled.Length} pieces journaled");
                Assert.True(journaled.Length < meta.PieceCount, "the download finished; the test proves nothing");
                var resume = await new ResumeStore(atKill).LoadAsync(meta.WireHash, meta.PieceCount, meta.Files.Count);
                Assert.Equal(0, resume.Data!.VerifiedCount); // only the journal knows
            }
            finally
            {
                await leecher.DisposeAsync();
            }
        }
        Directory.Delete(leechSession, true);
        CopyDirectory(atKill, leechSession);

        await using var restarted = await ClientSession.OpenAsync(Options("leech-session") with { Engine = new EngineConfig { ListenAddress = IPAddress.Loopback } });
        var restored = Assert.Single(await restarted.RestoreAsync());
        var have = await restarted.Engine.Loop.InvokeAsync(() => restored.HaveSnapshot());
        Assert.All(journaled, p => Assert.True(have[p], $"journaled piece {p} was lost"));
        // Only written pieces the journal does not name were read (none or a few): not the journaled ones, not the holes.
        var absent = SparseRegions.FindAbsentPieces(new FileLayout(FileRenames.StorageFiles(meta, null), meta.PieceLength, meta.PieceCount),
            _ => Path.Combine(leechData, "big", "file0.bin"), meta.PieceHashes)!;
        int writtenNotJournaled = meta.PieceCount - absent.TrueCount - journaled.Length;
        long read = Assert.IsType<FileStorage>(restored.Storage).BytesRead;
        var log = string.Join("; ", (await restarted.Engine.GetDetailsAsync([restored]))[0].Log.Select(l => l.Message).Concat(restarted.Log.Select(l => l.Message)));
        Assert.True(read <= (long)writtenNotJournaled * pieceLength,
            $"the check read {read} bytes; {writtenNotJournaled} written pieces were not journaled ({journaled.Length} were, {absent.TrueCount} absent); {log}");
        // The first full save folds the journal into the resume file.
        Assert.False(File.Exists(Path.Combine(leechSession, meta.WireHash.ToHex() + PieceJournal.Extension)));
        var saved = await new ResumeStore(leechSession).LoadAsync(meta.WireHash, meta.PieceCount, meta.Files.Count);
        Assert.True(saved.Data!.VerifiedCount >= journaled.Length);
    }

    [Fact]
    public async Task A_journaled_piece_whose_data_is_not_on_disk_is_never_claimed()
    {
        const int pieceLength = 16 * 1024;
        string data = Path.Combine(_root, "data");
        var meta = TestTorrents.CreateMultiFile(data, "t", pieceLength, 8 * pieceLength, 8 * pieceLength);
        var path = Path.Combine(data, "t", "file1.bin");
        var original = await File.ReadAllBytesAsync(path);
        // A session that knew only file0's pieces.
        await File.WriteAllBytesAsync(path, []);
        await using (var s = await ClientSession.OpenAsync(Options("session")))
            await s.AddAsync(meta, new TorrentOptions { SavePath = data }, start: false);
        // A journal naming file1's pieces, but the data of half of them never reached the disk (what appending before
        // the flush could leave after a power cut): file1 has its full length, the end never written (a hole).
        var journal = new PieceJournal(Path.Combine(_root, "session", meta.WireHash.ToHex() + PieceJournal.Extension));
        await journal.AppendAsync(Enumerable.Range(8, 8).ToArray());
        journal.Dispose();
        await using (var f = new FileStream(path, FileMode.Create))
        {
            f.Write(original.AsSpan(0, 4 * pieceLength));
            f.SetLength(original.Length);
        }

        await using var restarted = await ClientSession.OpenAsync(Options("session"));
        var t = Assert.Single(await restarted.RestoreAsync());
        var have = await restarted.Engine.Loop.InvokeAsync(() => t.HaveSnapshot());
        for (int p = 0; p < 8; p++) Assert.True(have[p], $"piece {p} of the resume file");
        for (int p = 8; p < 12; p++) Assert.True(have[p], $"piece {p} is on disk");
        for (int p = 12; p < 16; p++) Assert.False(have[p], $"journaled piece {p} has no data and was claimed");
    }

    [Fact]
    public async Task A_check_of_a_sparse_1_GiB_file_reads_only_the_written_pieces()
    {
        const int pieceLength = 1024 * 1024;
        const long size = 1024L * pieceLength;
        string data = Path.Combine(_root, "data");
        Directory.CreateDirectory(data);
        var path = Path.Combine(data, "huge.bin");
        int[] written = [0, 17, 500, 1023];
        var hashes = new byte[1024 * 20];
        RandomNumberGenerator.Fill(hashes); // what the torrent holds: never zeros
        var rng = new Random(7);
        using (var f = new FileStream(path, FileMode.Create))
        {
            f.SetLength(size); // sparse: nothing written
            foreach (int p in written)
            {
                var piece = new byte[pieceLength];
                rng.NextBytes(piece);
                f.Position = (long)p * pieceLength;
                f.Write(piece);
                SHA1.HashData(piece, hashes.AsSpan(p * 20, 20));
            }
        }
        // A piece of zeros exists in some torrents: a hole holds it, so it is read (and found) although never written.
        SHA1.HashData(new byte[pieceLength], hashes.AsSpan(300 * 20, 20));
        var meta = SingleFile("huge.bin", size, pieceLength, hashes);

        var absent = SparseRegions.FindAbsentPieces(new FileLayout(FileRenames.StorageFiles(meta, null), pieceLength, 1024), _ => path, meta.PieceHashes);
        if (absent is null) return; // not Linux: nothing is skipped
        Assert.Equal(1024 - written.Length - 1, absent.TrueCount);

        await using var s = await ClientSession.OpenAsync(Options("session"));
        var t = await s.AddAsync(meta, new TorrentOptions { SavePath = data }, start: false);
        var have = await s.Engine.Loop.InvokeAsync(() => t.HaveSnapshot());
        Assert.Equal(written.Append(300).Order(), Enumerable.Range(0, 1024).Where(p => have[p]));
        Assert.Equal((written.Length + 1L) * pieceLength, Assert.IsType<FileStorage>(t.Storage).BytesRead);
    }

    private static TorrentMetainfo SingleFile(string name, long length, int pieceLength, byte[] hashes)
    {
        var info = new BDictionary
        {
            ["length"] = new BInteger(length),
            ["name"] = new BString(name),
            ["piece length"] = new BInteger(pieceLength),
            ["pieces"] = new BString(hashes),
        };
        return TorrentMetainfo.Parse(BencodeWriter.Encode(new BDictionary { ["info"] = info }));
    }
}
