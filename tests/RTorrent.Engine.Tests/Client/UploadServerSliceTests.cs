using System.Buffers.Binary;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Pieces;
using RTorrent.Engine.Tests.Trackers.Fakes;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// Pieces larger than the read cache's slices (1 MiB): blocks are served from the slice that holds them, and a block
/// that crosses two slices (a request not aligned to 16 KiB, legal if odd) is sent whole, from both.
/// </summary>
public sealed class UploadServerSliceTests : IDisposable
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private const int PieceLength = 4 * PieceReadCache.SliceBytes;
    private const int PieceCount = 2;
    private readonly Host _host = new();
    private readonly UploadServer _server;

    public UploadServerSliceTests() => _server = new UploadServer(_host, new RateMeter(_host.Time));

    public void Dispose() => _host.Loop.Dispose();

    /// <summary>The byte at a torrent offset (what the fake disk holds).</summary>
    private static byte At(long offset) => (byte)(offset % 251);

    [Fact]
    public async Task Blocks_come_from_their_slice_and_one_crossing_two_slices_is_sent_whole()
    {
        var peer = TestPeers.Create(_host.Time, pieceCount: PieceCount);
        peer.PeerInterested = true;
        peer.AmChoking = false;
        _host.PeerList.Add(peer);
        int crossing = 2 * PieceReadCache.SliceBytes - 100; // 100 bytes in slice 1, the rest in slice 2
        var asked = new[] { (1, 0, 16384), (1, crossing, 16384), (1, PieceLength - 16384, 16384) };
        await _host.Loop.InvokeAsync(() =>
        {
            foreach (var (piece, begin, length) in asked) _server.OnRequest(peer, piece, begin, length);
            _server.Serve(peer);
        });
        await peer.Wire().WhenSentAsync(MessageId.Piece, 3).WaitAsync(Bound);

        var bytes = peer.Wire().Bytes;
        var got = new List<(int Piece, int Begin, byte[] Block)>();
        for (int at = 0; at < bytes.Length;)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at));
            if (length > 0 && bytes[at + 4] == (byte)MessageId.Piece)
                got.Add((BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at + 5)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(at + 9)),
                    bytes.AsSpan(at + 13, length - 9).ToArray()));
            at += 4 + length;
        }
        Assert.Equal(asked.Select(a => (a.Item1, a.Item2)), got.Select(g => (g.Piece, g.Begin)));
        foreach (var (piece, begin, block) in got)
        {
            Assert.Equal(16384, block.Length);
            long start = (long)piece * PieceLength + begin;
            Assert.True(block.Select((b, i) => b == At(start + i)).All(x => x), $"block at {piece}:{begin} has the wrong bytes");
        }
        // Each slice was read once, whole: slices 0, 1, 2 and 3 of piece 1.
        Assert.Equal([(long)PieceLength, PieceLength + PieceReadCache.SliceBytes, PieceLength + 2L * PieceReadCache.SliceBytes,
            PieceLength + 3L * PieceReadCache.SliceBytes], _host.Reads.Order());
    }

    private sealed class Host : IUploadHost
    {
        public Host()
        {
            var hashes = new byte[PieceCount * 20];
            Meta = TorrentMetainfo.FromInfoDictionary(BencodeWriter.Encode(new BDictionary
            {
                ["length"] = new BInteger((long)PieceCount * PieceLength),
                ["name"] = new BString("big-pieces.bin"),
                ["piece length"] = new BInteger(PieceLength),
                ["pieces"] = new BString(hashes),
            }), []);
            PiecesManager = new PieceManager(PieceCount, PieceLength, (long)PieceCount * PieceLength);
            for (int p = 0; p < PieceCount; p++) PiecesManager.SetHave(p, true);
        }

        public ManualTimeProvider Time { get; } = new();
        public EngineLoop Loop { get; } = new("upload-slice-test");
        public List<Peer> PeerList { get; } = [];
        public List<long> Reads { get; } = [];
        private readonly PieceManager PiecesManager;
        private readonly TorrentMetainfo Meta;

        public TorrentMetainfo? Metainfo => Meta;
        public PieceManager Pieces => PiecesManager;
        public IReadOnlyList<Peer> Peers => PeerList;
        public bool Seeding => true;
        public EngineConfig Config => new() { UploadSlots = 4 };
        public DateTimeOffset Now => Time.GetUtcNow();
        SynchronizationContext IUploadHost.Loop => Loop;
        public CancellationToken RunToken => CancellationToken.None;
        public PieceReadCache ReadCache { get; } = new(8L * PieceReadCache.SliceBytes);

        public Func<long, Memory<byte>, CancellationToken, ValueTask> DataReader => (offset, buffer, _) =>
        {
            lock (Reads) Reads.Add(offset);
            var span = buffer.Span;
            for (int i = 0; i < span.Length; i++) span[i] = At(offset + i);
            return ValueTask.CompletedTask;
        };

        public void Fail(string reason) => throw new InvalidOperationException(reason);
    }
}
