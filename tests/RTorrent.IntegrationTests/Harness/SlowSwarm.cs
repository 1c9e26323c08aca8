using RTorrent.Engine.Resume;
using Xunit.Abstractions;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// A multi-file torrent and a libtorrent seeder limited to a rate that makes a download last several seconds, so a
/// test can interrupt <c>rtorrent download</c> half way; plus the resume file of our client's session.
/// </summary>
internal sealed class SlowSwarm : IAsyncDisposable
{
    private SlowSwarm(TempFolder tmp, TestTorrent torrent, string seedData, LibtorrentPeer seeder)
    {
        Tmp = tmp;
        Torrent = torrent;
        SeedData = seedData;
        Seeder = seeder;
        Save = tmp.Sub("download");
        Session = tmp.Sub("session");
    }

    /// <summary>The test's folder.</summary>
    public TempFolder Tmp { get; }

    /// <summary>The torrent (about 3 MiB, 32 KiB pieces, several files).</summary>
    public TestTorrent Torrent { get; }

    /// <summary>The seeder's data (the expected result).</summary>
    public string SeedData { get; }

    /// <summary>The seeder.</summary>
    public LibtorrentPeer Seeder { get; }

    /// <summary>Our download folder.</summary>
    public string Save { get; }

    /// <summary>Our session folder.</summary>
    public string Session { get; }

    /// <summary>Starts a seeder sending <paramref name="bytesPerSecond"/> and waits until it seeds.</summary>
    public static async Task<SlowSwarm> StartAsync(TempFolder tmp, ITestOutputHelper log, long bytesPerSecond, int seed)
    {
        var seedData = tmp.Sub("seed");
        Payload.Write(Path.Combine(seedData, "slow"), Payload.MultiFile, seed);
        var torrent = await TestTorrent.CreateAsync(Path.Combine(seedData, "slow"), tmp.PathOf("slow.torrent"), 32 * 1024);
        var seeder = await LibtorrentPeer.StartSeederAsync(torrent, seedData, log, uploadLimit: bytesPerSecond);
        return new SlowSwarm(tmp, torrent, seedData, seeder);
    }

    /// <summary><c>rtorrent download</c> of the torrent from the seeder (direct peer, no tracker).</summary>
    public RunningProcess StartDownload(string name, ITestOutputHelper log, params string[] extra) =>
        RTorrentCli.Download(name, Tmp.Path, log, Torrent.FilePath, Save, Session, [.. RTorrentCli.Peer(Seeder.Port), .. extra]);

    /// <summary>Waits until at least <paramref name="fraction"/> of the pieces are verified on disk (and not all).</summary>
    public Task WaitForProgressAsync(RunningProcess client, double fraction) =>
        client.WaitUntilAsync(() => Torrent.CountVerifiedOnDisk(Save) >= (int)(Torrent.Meta.PieceCount * fraction), Limits.Transfer,
            $"{fraction:P0} of the pieces on disk", TimeSpan.FromMilliseconds(150));

    /// <summary>Bytes of the pieces not verified on disk (what a resumed download still has to fetch).</summary>
    public long MissingBytes()
    {
        var onDisk = Torrent.VerifiedPiecesOnDisk(Save);
        long missing = 0;
        for (int p = 0; p < onDisk.Length; p++) if (!onDisk[p]) missing += Torrent.Meta.GetPieceSize(p);
        return missing;
    }

    /// <summary>The resume data our session saved, loaded as the engine would (never throws for bad content).</summary>
    public Task<ResumeLoadResult> LoadResumeAsync() =>
        new ResumeStore(Session).LoadAsync(Torrent.Meta.WireHash, Torrent.Meta.PieceCount, Torrent.Meta.Files.Count);

    /// <summary>The resume file's path.</summary>
    public string ResumePath => new ResumeStore(Session).GetResumePath(Torrent.Meta.WireHash);

    /// <summary>Asserts that every piece the resume data claims is really on disk with the right hash.</summary>
    public void AssertClaimsAreTrue(ResumeData data)
    {
        var onDisk = Torrent.VerifiedPiecesOnDisk(Save);
        for (int p = 0; p < onDisk.Length; p++)
            Assert.True(!data.IsPieceVerified(p) || onDisk[p], $"the resume data claims piece {p}, which is not on disk");
    }

    public ValueTask DisposeAsync() => Seeder.DisposeAsync();
}
