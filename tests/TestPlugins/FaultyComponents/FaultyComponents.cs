using System.Net;
using RTorrent.Abstractions;

namespace RTorrent.TestPlugins;

/// <summary>
/// Loads fine and registers components that misbehave once used, one way each; the guarded wrappers must keep every
/// fault inside.
/// </summary>
public sealed class FaultyComponentsPlugin : IRTorrentPlugin
{
    public void Register(IPluginRegistry registry)
    {
        registry.AddPiecePicker(new PickerFactory("throwing-picker", _ => new ThrowingPicker()));
        registry.AddPiecePicker(new PickerFactory("out-of-range-picker", _ => new FixedPicker(int.MaxValue, -1)));
        registry.AddPiecePicker(new PickerFactory("not-had-picker", _ => new NotHadPicker()));
        registry.AddPiecePicker(new PickerFactory("duplicate-picker", _ => new DuplicatePicker()));
        registry.AddPiecePicker(new PickerFactory("overflow-picker", _ => new OverflowPicker()));
        registry.AddPiecePicker(new PickerFactory("throwing-factory-picker", _ => throw new InvalidOperationException("cannot create")));
        registry.AddPeerSource(new SourceFactory("hanging-source", c => new HangingSource()));
        registry.AddPeerSource(new SourceFactory("throwing-source", c => new ThrowingSource()));
        registry.AddPeerSource(new SourceFactory("chatty-source", c => new ChattySource(c)));
        registry.AddStorage(new StorageFactory("throwing-storage", () => new ThrowingStorage()));
        registry.AddStorage(new StorageFactory("hanging-storage", () => new HangingStorage()));
        registry.AddStorage(new StorageFactory("nonsense-storage", () => new NonsenseStorage()));
    }

    private sealed class PickerFactory(string name, Func<PiecePickerContext, IPiecePicker> create) : IPiecePickerFactory
    {
        public string Name => name;
        public string Version => "1.0";
        public string Description => "Broken on purpose.";
        public IPiecePicker Create(PiecePickerContext context) => create(context);
    }

    private sealed class ThrowingPicker : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked) => throw new NullReferenceException("picker bug");
    }

    private sealed class FixedPicker(params int[] pieces) : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
        {
            var n = Math.Min(pieces.Length, ranked.Length);
            pieces.AsSpan(0, n).CopyTo(ranked);
            return n;
        }
    }

    /// <summary>Returns the first wanted piece the peer does NOT have.</summary>
    private sealed class NotHadPicker : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
        {
            for (var p = swarm.Wanted.NextSet(0); p >= 0; p = swarm.Wanted.NextSet(p + 1))
                if (!peer.Pieces[p]) { ranked[0] = p; return 1; }
            return 0;
        }
    }

    /// <summary>Returns a valid piece twice.</summary>
    private sealed class DuplicatePicker : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
        {
            for (var p = swarm.Wanted.NextSet(0); p >= 0; p = swarm.Wanted.NextSet(p + 1))
                if (peer.Pieces[p] && ranked.Length >= 2) { ranked[0] = p; ranked[1] = p; return 2; }
            return 0;
        }
    }

    /// <summary>Claims to have written more pieces than there is room for.</summary>
    private sealed class OverflowPicker : IPiecePicker
    {
        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked) => ranked.Length + 1;
    }

    private sealed class SourceFactory(string name, Func<PeerSourceContext, IPeerSource> create) : IPeerSourceFactory
    {
        public string Name => name;
        public string Version => "1.0";
        public string Description => "Broken on purpose.";
        public bool AllowedForPrivateTorrents => false;
        public IPeerSource Create(PeerSourceContext context) => create(context);
    }

    /// <summary>StartAsync never finishes and ignores its token.</summary>
    private sealed class HangingSource : IPeerSource
    {
        private readonly TaskCompletionSource _never = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ValueTask StartAsync(CancellationToken cancellationToken) => new(_never.Task);
        public ValueTask StopAsync(CancellationToken cancellationToken) => new(_never.Task);
        public IReadOnlyList<PeerSourceStatus> GetStatus() => [];
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class ThrowingSource : IPeerSource
    {
        public ValueTask StartAsync(CancellationToken cancellationToken) => throw new System.Net.Sockets.SocketException(98);
        public ValueTask StopAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public IReadOnlyList<PeerSourceStatus> GetStatus() => throw new InvalidOperationException("status bug");
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    /// <summary>Reports peers, some of them unusable, and keeps reporting after it is asked for more.</summary>
    private sealed class ChattySource(PeerSourceContext context) : IPeerSource
    {
        public ValueTask StartAsync(CancellationToken cancellationToken)
        {
            context.Sink.AddPeers(
            [
                new IPEndPoint(IPAddress.Loopback, 6881),
                new IPEndPoint(IPAddress.Any, 6881),
                new IPEndPoint(IPAddress.Parse("239.1.2.3"), 6881),
                new IPEndPoint(IPAddress.Parse("255.255.255.255"), 6881),
                new IPEndPoint(IPAddress.IPv6Loopback, 0),
                new IPEndPoint(IPAddress.IPv6Loopback, 51413),
            ], "tracker");
            return ValueTask.CompletedTask;
        }

        public ValueTask StopAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;

        public void RequestMorePeers() => throw new InvalidOperationException("more peers bug");

        public IReadOnlyList<PeerSourceStatus> GetStatus() => [];

        public ValueTask DisposeAsync()
        {
            // Reports after being disposed: the guard must drop these.
            context.Sink.AddPeers([new IPEndPoint(IPAddress.Loopback, 7000)], "chatty-source");
            return ValueTask.CompletedTask;
        }
    }

    private sealed class StorageFactory(string name, Func<ITorrentStorage> open) : IStorageFactory
    {
        public string Name => name;
        public string Version => "1.0";
        public string Description => "Broken on purpose.";
        public ITorrentStorage Open(StorageContext context) => open();
    }

    private abstract class StorageBase : ITorrentStorage
    {
        public virtual ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken) => new(buffer.Length);
        public virtual ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask FlushAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask<StorageFileState> ProbeAsync(int fileIndex, CancellationToken cancellationToken) => new(new StorageFileState(false, 0, null));
        public ValueTask PrepareAsync(int fileIndex, bool preallocate, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask MoveAsync(string newSaveDirectory, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask DeleteAsync(CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private sealed class ThrowingStorage : StorageBase
    {
        public override ValueTask WriteAsync(int fileIndex, long offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            throw new IOException("No space left on device");
    }

    /// <summary>Reads never finish and ignore their token.</summary>
    private sealed class HangingStorage : StorageBase
    {
        public override async ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.Infinite, CancellationToken.None);
            return 0;
        }
    }

    private sealed class NonsenseStorage : StorageBase
    {
        public override ValueTask<int> ReadAsync(int fileIndex, long offset, Memory<byte> buffer, CancellationToken cancellationToken) => new(buffer.Length + 10);
    }
}
