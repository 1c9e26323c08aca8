using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Peers.Encryption;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// The pictures of a torrent on their own: sizes and progress follow the wanted files, details list each file's done
/// bytes and each piece's state, a magnet says what it waits for, and a peer's flags spell its state.
/// </summary>
public class TorrentSnapshotBuilderTests
{
    private readonly ManualTimeProvider _time = new();

    [Fact]
    public void A_peers_flags_spell_interest_direction_encryption_snubbing_the_optimistic_slot_and_its_source()
    {
        var rc4 = new StreamCiphers(new Rc4Cipher([1, 2, 3]), new Rc4Cipher([4, 5, 6]), ViaMse: true);
        var p = TestPeers.Create(_time, outgoing: false, source: "pex", ciphers: rc4);
        p.AmInterested = true;
        p.PeerChoking = false;
        p.PeerInterested = true;
        p.AmChoking = true;
        p.Snubbed = true;
        p.OptimisticSince = _time.GetUtcNow();
        Assert.Equal("DuIESOX", TorrentSnapshotBuilder.PeerFlags(p));

        var plain = TestPeers.Create(_time, source: "tracker", ciphers: StreamCiphers.MsePlaintext);
        plain.AmInterested = true;
        Assert.Equal("deT", TorrentSnapshotBuilder.PeerFlags(plain));
        Assert.Equal("", TorrentSnapshotBuilder.PeerFlags(TestPeers.Create(_time, source: "manual")));
    }

    [Fact]
    public async Task Sizes_and_progress_count_only_the_wanted_files_and_details_show_each_file_and_piece()
    {
        await using var h = await EngineHarness.StartAsync();
        var t = await h.AddSeedAsync(null, 40_000, 10_000); // 16 KiB pieces: file 0 has pieces 0-2, file 1 pieces 2-3
        await t.SetFilePriorityAsync(1, Priority.Skip);

        var (summary, details) = await h.Engine.Loop.InvokeAsync(() =>
        {
            var s = TorrentSnapshotBuilder.Summary(t, trackerProblem: null);
            return (s, TorrentSnapshotBuilder.Details(t, s));
        });

        Assert.Equal(40_000, summary.Size);
        Assert.Equal(50_000, summary.TotalSize);
        Assert.Equal(40_000, summary.Done);
        Assert.Equal(1.0, summary.Progress);
        Assert.Equal(4, summary.PieceCount);
        Assert.Equal(4, summary.PiecesHave);
        Assert.Same(summary, details.Summary);
        Assert.Equal([(0, 40_000L, Priority.Normal), (1, 10_000L, Priority.Skip)], details.Files.Select(f => (f.Index, f.Done, f.Priority)));
        Assert.All(details.Pieces, s => Assert.Equal(PieceDisplayState.Have, s));
        Assert.Contains(details.Log, l => l.Message == "seeding");
        Assert.Empty(details.Peers);
    }

    [Fact]
    public async Task Pieces_we_lack_show_as_missing_or_skipped_and_progress_is_of_the_wanted_bytes()
    {
        await using var h = await EngineHarness.StartAsync();
        var meta = h.NewTorrent(40_000, 10_000);
        File.Delete(Path.Combine(h.Root, meta.Name, "file1.bin")); // pieces 2 (shared) and 3 are gone
        var t = await h.Engine.AddAsync(meta, new TorrentOptions { SavePath = h.Root }, start: false);

        var details = await h.Engine.Loop.InvokeAsync(() => TorrentSnapshotBuilder.Details(t, TorrentSnapshotBuilder.Summary(t, null)));
        Assert.Equal([PieceDisplayState.Have, PieceDisplayState.Have, PieceDisplayState.Missing, PieceDisplayState.Missing], details.Pieces);
        Assert.Equal(2 * 16384, details.Files[0].Done);
        Assert.Equal(0, details.Files[1].Done);
        Assert.Equal(2 * 16384 / 50_000.0, details.Summary.Progress, 6);

        await t.SetFilePriorityAsync(1, Priority.Skip);
        var skipped = await h.Engine.Loop.InvokeAsync(() => TorrentSnapshotBuilder.Details(t, TorrentSnapshotBuilder.Summary(t, null)));
        Assert.Equal(PieceDisplayState.Missing, skipped.Pieces[2]); // it holds bytes of file 0 too
        Assert.Equal(PieceDisplayState.Skipped, skipped.Pieces[3]);
        Assert.Equal(40_000, skipped.Summary.Size);
    }

    [Fact]
    public async Task A_magnet_says_what_it_is_waiting_for()
    {
        await using var h = await EngineHarness.StartAsync(setup: c => c.Sources.Add(new CountingPeerSourceFactory()));
        var magnet = RTorrent.Engine.Metainfo.MagnetLink.Parse("magnet:?xt=urn:btih:" + new string('a', 40) + "&dn=film&xl=12345");
        var t = await h.Engine.AddAsync(magnet, new TorrentOptions { SavePath = h.Root });

        var s = await h.Engine.Loop.InvokeAsync(() => TorrentSnapshotBuilder.Summary(t, null));
        Assert.Equal(TorrentState.FetchingMetadata, s.State);
        Assert.Equal("film", s.Name);
        Assert.Equal(12345, s.Size);
        Assert.Equal(0, s.Progress);
        Assert.Equal("metadata: waiting for a peer that has the metadata; 0 connected, 0 known; no peer sources", s.Error);
    }
}
