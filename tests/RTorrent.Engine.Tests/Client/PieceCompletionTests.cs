using System.Buffers;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// A completed piece on its own: hashed and written off the loop, then made ours and announced, or downloaded again
/// with its sender banned, or on parole when several peers sent it and the smart ban names the liar later. The store
/// is in memory (a block of 0xEE is bad data); the loop is real because results post to it.
/// </summary>
public sealed class PieceCompletionTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const int Block = PieceManager.BlockSize;
    private const byte Bad = 0xEE;
    private readonly Host _host = new();
    private readonly PieceCompletion _completion;

    public PieceCompletionTests() => _completion = new PieceCompletion(_host);

    public void Dispose() => _host.Loop.Dispose();

    /// <summary>Downloads piece 0 (two blocks) into the manager: block b from senders[b], holding good data unless marked bad.</summary>
    private async Task<PartialPiece> DownloadAsync(params (Peer Sender, bool Bad)[] blocks) => await _host.Loop.InvokeAsync(() =>
    {
        PartialPiece? completed = null;
        var requests = new List<BlockRequest>();
        for (int b = 0; b < blocks.Length; b++)
        {
            var (sender, bad) = blocks[b];
            requests.Clear();
            _host.Pieces.PickBlocks(sender, sender, new RarestFirstPicker(), 1, requests);
            var r = Assert.Single(requests);
            var data = ArrayPool<byte>.Shared.Rent(Block);
            data.AsSpan(0, r.Length).Fill(bad ? Bad : (byte)(r.Begin / Block + 1));
            var outcome = _host.Pieces.BlockReceived(sender, r.Piece, r.Begin, r.Length, data, [], out completed);
            Assert.NotEqual(BlockOutcome.Unwanted, outcome);
        }
        return completed!;
    });

    private Peer Seeder() => TestPeers.Create(_host.Time, pieceCount: 1, outgoing: true).Also(p => p.PeerPieces.Set(0));

    [Fact]
    public async Task A_good_piece_is_written_made_ours_and_announced()
    {
        var a = Seeder();
        var b = Seeder();
        var piece = await DownloadAsync((a, false), (b, false));
        await _host.Loop.InvokeAsync(() => _completion.Complete(piece));

        Assert.Equal(0, await _host.Verified.Task.WaitAsync(Bound));
        Assert.Equal([0], _host.Store.Written);
        Assert.True(_host.Pieces.HaveField[0]);
        Assert.All(piece.Data, Assert.Null); // the blocks went back to the pool
        Assert.Empty(_host.Banned);
        Assert.Equal(0, _completion.PendingDiskBytes);
    }

    [Fact]
    public async Task A_bad_piece_from_one_peer_bans_it_and_the_piece_is_wanted_again()
    {
        var liar = Seeder();
        var piece = await DownloadAsync((liar, false), (liar, true));
        await _host.Loop.InvokeAsync(() => _completion.Complete(piece));

        var (peer, reason) = await _host.FirstBan.Task.WaitAsync(Bound);
        Assert.Same(liar, peer);
        Assert.Equal("sent piece 0 with bad data", reason);
        Assert.Equal(2 * Block, _host.Wasted);
        Assert.Empty(_host.Store.Written);
        await _host.Loop.InvokeAsync(() =>
        {
            Assert.False(_host.Pieces.HaveField[0]);
            Assert.True(_host.Pieces.Wanted[0]);
        });
        Assert.Contains(_host.Logged, l => l.Level == PluginLogLevel.Warning && l.Message.Contains("failed its hash check"));
    }

    [Fact]
    public async Task A_bad_piece_from_several_peers_names_nobody_until_it_verifies_and_the_smart_ban_finds_the_liar()
    {
        var honest = Seeder();
        var liar = Seeder();
        var first = await DownloadAsync((honest, false), (liar, true));
        await _host.Loop.InvokeAsync(() => _completion.Complete(first));
        await _host.HashFailure.Task.WaitAsync(Bound);
        Assert.Empty(_host.Banned);

        // On parole: the next attempt comes from one peer only, the first to pick it.
        var second = await DownloadAsync((honest, false), (honest, false));
        await _host.Loop.InvokeAsync(() => _completion.Complete(second));
        Assert.Equal(0, await _host.Verified.Task.WaitAsync(Bound));

        var (banned, reason) = Assert.Single(_host.Banned);
        Assert.Same(liar, banned);
        Assert.Equal("sent wrong blocks of piece 0", reason);
    }

    [Fact]
    public async Task A_failed_write_stops_the_torrent_and_the_piece_is_wanted_again()
    {
        _host.Store.WriteError = new IOException("disk full");
        var piece = await DownloadAsync((Seeder(), false), (Seeder(), false));
        await _host.Loop.InvokeAsync(() => _completion.Complete(piece));

        Assert.Equal("writing piece 0 failed: disk full", await _host.Failed.Task.WaitAsync(Bound));
        await _host.Loop.InvokeAsync(() => Assert.False(_host.Pieces.HaveField[0]));
        Assert.False(_host.Verified.Task.IsCompleted);
    }

    [Fact]
    public async Task Bytes_on_their_way_to_disk_are_counted_and_a_result_after_a_stop_is_thrown_away()
    {
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _host.Store.WriteGate = gate.Task;
        var piece = await DownloadAsync((Seeder(), false), (Seeder(), false));
        await _host.Loop.InvokeAsync(() => _completion.Complete(piece));
        await _host.Store.Writing.Task.WaitAsync(Bound);
        Assert.Equal(2 * Block, _completion.PendingDiskBytes);

        _host.IsActive = false; // the torrent stopped while the piece was being written
        gate.SetResult();
        await _host.AskedWhileStopped.Task.WaitAsync(Bound); // the result came back to the loop
        Assert.Equal(0, _completion.PendingDiskBytes);
        await _host.Loop.InvokeAsync(() => Assert.False(_host.Pieces.HaveField[0]));
        Assert.False(_host.Verified.Task.IsCompleted);
    }

    /// <summary>A v2 torrent of one file whose two blocks are the good data of <see cref="DownloadAsync"/>.</summary>
    private static RTorrent.Engine.Metainfo.TorrentMetainfo GoodV2Torrent()
    {
        var dir = RTorrent.Testing.TestPaths.NewTempDir("rt-v2-block");
        try
        {
            var data = new byte[2 * Block];
            data.AsSpan(0, Block).Fill(1);
            data.AsSpan(Block).Fill(2);
            var file = Path.Combine(dir, "f.bin");
            File.WriteAllBytes(file, data);
            return RTorrent.Engine.Metainfo.TorrentCreator.CreateAsync(file, new RTorrent.Engine.Metainfo.TorrentCreatorOptions
            {
                PieceLength = 2 * Block,
                Version = RTorrent.Engine.Metainfo.TorrentVersions.V2,
            }).GetAwaiter().GetResult().Metainfo;
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Fact]
    public async Task A_v2_piece_that_failed_with_several_senders_is_judged_block_by_block_from_its_block_hashes()
    {
        _host.V2 = GoodV2Torrent().V2;
        var honest = Seeder();
        var liar = Seeder();
        var piece = await DownloadAsync((honest, false), (liar, true));
        await _host.Loop.InvokeAsync(() => _completion.Complete(piece));
        Assert.Equal(0, await _host.BlockHashesAsked.Task.WaitAsync(Bound));
        await _host.Loop.InvokeAsync(() =>
        {
            Assert.Equal(1, _completion.AwaitingBlockHashes);
            Assert.False(_host.Pieces.Wanted[0]); // held while its block hashes are on their way
        });

        // The block hashes (proven against the piece's hash by the exchange) name block 1 alone.
        var leaves = new byte[64];
        System.Security.Cryptography.SHA256.HashData(Enumerable.Repeat((byte)1, Block).ToArray(), leaves.AsSpan(0, 32));
        System.Security.Cryptography.SHA256.HashData(Enumerable.Repeat((byte)2, Block).ToArray(), leaves.AsSpan(32, 32));
        await _host.Loop.InvokeAsync(() => _completion.BlockHashesReceived(0, leaves));

        var (banned, reason) = Assert.Single(_host.Banned);
        Assert.Same(liar, banned);
        Assert.Equal("sent a bad 16 KiB block (1) of piece 0", reason);
        await _host.Loop.InvokeAsync(() =>
        {
            // Only the bad block is wanted again; the good one is kept.
            var requests = new List<BlockRequest>();
            _host.Pieces.PickBlocks(honest, honest, new RarestFirstPicker(), 10, requests);
            var again = Assert.Single(requests);
            Assert.Equal(Block, again.Begin);
            var data = ArrayPool<byte>.Shared.Rent(Block);
            data.AsSpan(0, Block).Fill(2);
            Assert.Equal(BlockOutcome.PieceComplete, _host.Pieces.BlockReceived(honest, 0, Block, Block, data, [], out var completed));
            _completion.Complete(completed!);
        });
        Assert.Equal(0, await _host.Verified.Task.WaitAsync(Bound));
    }

    [Fact]
    public async Task Without_block_hashes_a_failed_v2_piece_goes_on_parole_as_before()
    {
        _host.V2 = GoodV2Torrent().V2;
        var piece = await DownloadAsync((Seeder(), false), (Seeder(), true));
        await _host.Loop.InvokeAsync(() => _completion.Complete(piece));
        await _host.BlockHashesAsked.Task.WaitAsync(Bound);
        await _host.Loop.InvokeAsync(() =>
        {
            _completion.BlockHashesUnavailable(0); // refused, timed out, or the peers left
            Assert.Equal(0, _completion.AwaitingBlockHashes);
            Assert.True(_host.Pieces.Wanted[0]);
        });
        Assert.Empty(_host.Banned);
    }

    private sealed class Store : IPieceStore
    {
        public List<int> Written { get; } = [];
        public Exception? WriteError;
        public Task WriteGate = Task.CompletedTask;
        public TaskCompletionSource Writing { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Verify(int piece, byte[]?[] blocks, int pieceSize)
        {
            for (int b = 0; b < blocks.Length; b++)
                if (blocks[b]![0] != (byte)(b + 1)) return false;
            return true;
        }

        public async ValueTask WritePieceAsync(int piece, byte[]?[] blocks, int pieceSize, CancellationToken ct)
        {
            Writing.TrySetResult();
            await WriteGate;
            if (WriteError is { } e) throw e;
            lock (Written) Written.Add(piece);
        }
    }

    private sealed class Host : IPieceCompletionHost
    {
        public ManualTimeProvider Time { get; } = new();
        public EngineLoop Loop { get; } = new("completion-test");
        public Store Store { get; } = new();
        public PieceManager Pieces { get; } = new(1, 2 * Block, 2 * Block);
        public bool IsActive = true;
        public long Wasted;
        public List<(Peer Peer, string Reason)> Banned { get; } = [];
        public List<(PluginLogLevel Level, string Message)> Logged { get; } = [];
        public TaskCompletionSource<int> Verified { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<(Peer, string)> FirstBan { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource HashFailure { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public TaskCompletionSource<string> Failed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        IPieceStore IPieceCompletionHost.Store => Store;
        SynchronizationContext IPieceCompletionHost.Loop => Loop;
        public CancellationToken RunToken => CancellationToken.None;
        public TaskCompletionSource AskedWhileStopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool Active
        {
            get
            {
                if (!IsActive) AskedWhileStopped.TrySetResult();
                return IsActive;
            }
        }
        public void Log(PluginLogLevel level, string message) => Logged.Add((level, message));
        public void Fail(string reason) => Failed.TrySetResult(reason);

        public void Ban(Peer peer, string reason)
        {
            Banned.Add((peer, reason));
            FirstBan.TrySetResult((peer, reason));
        }

        public void HashFailed(int bytes)
        {
            Wasted += bytes;
            HashFailure.TrySetResult();
        }

        public void PieceVerified(int piece) => Verified.TrySetResult(piece);

        public RTorrent.Engine.Metainfo.V2PieceHashes? V2 { get; set; }
        public List<int> BlockHashesWanted { get; } = [];
        public TaskCompletionSource<int> BlockHashesAsked { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool TryWantBlockHashes(int piece)
        {
            if (V2 is null) return false;
            BlockHashesWanted.Add(piece);
            BlockHashesAsked.TrySetResult(piece);
            return true;
        }
    }
}

internal static class TestExtensions
{
    /// <summary>Runs <paramref name="action"/> on <paramref name="value"/> and returns it (for one-line setup).</summary>
    public static T Also<T>(this T value, Action<T> action)
    {
        action(value);
        return value;
    }
}
