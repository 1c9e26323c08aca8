using System.Net;
using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Engine.Pieces;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Client;

/// <summary>
/// A seeder reads the next pieces a peer asked for while it sends the current one: with one peer and a slow disk,
/// more than one read is in flight. Without read-ahead each new piece waits for its read with the pipe empty.
/// </summary>
public class SeedingReadAheadTests(Xunit.Abstractions.ITestOutputHelper output)
{
    [Fact]
    public async Task A_seeder_with_a_slow_disk_reads_ahead_of_what_it_sends()
    {
        var root = TestPaths.NewTempDir();
        try
        {
            var seedDir = Path.Combine(root, "seed");
            var torrent = TestTorrents.CreateMultiFile(seedDir, "payload", 64 * 1024, 3_000_000);
            var slow = new SlowReadCatalog(TimeSpan.FromMilliseconds(40));
            await using var seeder = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback },
                new ClientEngineOptions { Catalog = slow, LoggerFactory = new TestLoggerFactory(output, "S ") });
            await seeder.StartAsync();
            await seeder.AddAsync(torrent, new TorrentOptions { SavePath = seedDir });
            slow.Reset(); // the data check reads in parallel on its own; count only what serving does

            await using var leecher = new ClientEngine(new EngineConfig { ListenPort = 0, ListenAddress = IPAddress.Loopback },
                new ClientEngineOptions { Catalog = new TestCatalog(), LoggerFactory = new TestLoggerFactory(output, "L ") });
            await leecher.StartAsync();
            var done = new TaskCompletionSource();
            leecher.TorrentChanged += t => { if (t.State == TorrentState.Seeding) done.TrySetResult(); };
            await leecher.AddAsync(torrent, new TorrentOptions
            {
                SavePath = Path.Combine(root, "leech"),
                Peers = [new IPEndPoint(IPAddress.Loopback, seeder.ListenPort)],
            });
            await done.Task.WaitAsync(TimeSpan.FromSeconds(60));

            Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(seedDir, "payload", "file0.bin")),
                await File.ReadAllBytesAsync(Path.Combine(root, "leech", "payload", "file0.bin")));
            output.WriteLine($"most reads in flight at once: {slow.MaxConcurrentReads}");
            Assert.True(slow.MaxConcurrentReads >= 2, $"the seeder read one piece at a time ({slow.MaxConcurrentReads})");
        }
        finally
        {
            Directory.Delete(root, true);
        }
    }

    /// <summary>File storage whose reads take at least <c>delay</c>, counting how many overlap.</summary>
    private sealed class SlowReadCatalog(TimeSpan delay) : IComponentCatalog, IStorageFactory
    {
        private int _inFlight, _max;
        public TimeSpan Delay => delay;
        public void Reset() => Volatile.Write(ref _max, 0);
        public int MaxConcurrentReads => Volatile.Read(ref _max);
        public IPiecePickerFactory? FindPicker(string name) => name == "rarest-first" ? new RarestFirstPickerFactory() : null;
        public IStorageFactory? FindStorage(string name) => name == "file" ? this : null;
        public IReadOnlyList<IPeerSourceFactory> PeerSources => [];
        public string Name => "file";
        public string Version => "test";
        public string Description => "slow reads";
        public ITorrentStorage Open(StorageContext context) => new SlowReads(new PlainFileStorage(context), this);

        private sealed class SlowReads(ITorrentStorage inner, SlowReadCatalog owner) : ITorrentStorage
        {
            public async ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
            {
                int now = Interlocked.Increment(ref owner._inFlight);
                int seen;
                while (now > (seen = Volatile.Read(ref owner._max)) && Interlocked.CompareExchange(ref owner._max, now, seen) != seen) { }
                try
                {
                    await Task.Delay(owner.Delay, cancellationToken);
                    return await inner.ReadAsync(fileIndex, offset, buffer, cancellationToken);
                }
                finally
                {
                    Interlocked.Decrement(ref owner._inFlight);
                }
            }

            public ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
                inner.WriteAsync(fileIndex, offset, data, cancellationToken);
            public ValueTask FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);
            public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken) => inner.ProbeAsync(fileIndex, cancellationToken);
            public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken) => inner.PrepareAsync(fileIndex, preallocate, cancellationToken);
            public ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken) => inner.MoveAsync(newSaveDirectory, cancellationToken);
            public ValueTask DeleteAsync(CancellationToken cancellationToken) => inner.DeleteAsync(cancellationToken);
            public ValueTask DisposeAsync() => inner.DisposeAsync();
        }
    }
}
