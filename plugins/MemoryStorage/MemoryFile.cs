namespace RTorrent.Plugins.MemoryStorage;

/// <summary>
/// One file's bytes in fixed-size chunks allocated on first write, like a sparse file: bytes never written read as
/// zero. Concurrent reads and writes of different ranges are safe without locks (chunks are installed with a
/// compare-and-swap); overlapping concurrent writes race as they would on a disk.
/// </summary>
internal sealed class MemoryFile
{
    private readonly byte[]?[] _chunks;
    private readonly int _chunkSize;
    private readonly MemoryBudget _budget;
    private long _length;        // the logical length: prepared length or furthest write, like a file's size
    private long _lastWriteTicks; // UTC ticks of the last change
    private int _released;

    public MemoryFile(long declaredLength, int chunkSize, MemoryBudget budget)
    {
        DeclaredLength = declaredLength;
        _chunkSize = chunkSize;
        _budget = budget;
        _chunks = new byte[]?[(int)((declaredLength + chunkSize - 1) / chunkSize)];
        Touch();
    }

    /// <summary>The file's length in the torrent.</summary>
    public long DeclaredLength { get; }

    /// <summary>The current length: what has been prepared or written, at most <see cref="DeclaredLength"/>.</summary>
    public long Length => Interlocked.Read(ref _length);

    public DateTimeOffset LastWriteUtc => new(Interlocked.Read(ref _lastWriteTicks), TimeSpan.Zero);

    public int Read(long offset, Span<byte> buffer)
    {
        var length = Length;
        if (offset >= length) return 0;
        var count = (int)Math.Min(buffer.Length, length - offset);
        var done = 0;
        while (done < count)
        {
            var position = offset + done;
            var chunkIndex = (int)(position / _chunkSize);
            var inChunk = (int)(position % _chunkSize);
            var n = Math.Min(count - done, _chunkSize - inChunk);
            var chunk = Volatile.Read(ref _chunks[chunkIndex]);
            if (chunk is null) buffer.Slice(done, n).Clear();
            else chunk.AsSpan(inChunk, n).CopyTo(buffer.Slice(done, n));
            done += n;
        }
        return count;
    }

    public void Write(long offset, ReadOnlySpan<byte> data)
    {
        var done = 0;
        while (done < data.Length)
        {
            var position = offset + done;
            var chunkIndex = (int)(position / _chunkSize);
            var inChunk = (int)(position % _chunkSize);
            var n = Math.Min(data.Length - done, _chunkSize - inChunk);
            data.Slice(done, n).CopyTo(GetOrAllocate(chunkIndex).AsSpan(inChunk, n));
            done += n;
        }
        Extend(offset + data.Length);
        Touch();
    }

    /// <summary>Gives the file its full length; with <paramref name="allocate"/>, reserves every chunk now.</summary>
    public void Prepare(bool allocate)
    {
        if (allocate)
            for (var i = 0; i < _chunks.Length; i++) GetOrAllocate(i);
        Extend(DeclaredLength);
        Touch();
    }

    /// <summary>Returns every chunk to the budget. The file must no longer be used.</summary>
    public void Release()
    {
        if (Interlocked.Exchange(ref _released, 1) != 0) return;
        for (var i = 0; i < _chunks.Length; i++)
            if (Interlocked.Exchange(ref _chunks[i], null) is { } chunk) _budget.Release(chunk.Length);
    }

    private byte[] GetOrAllocate(int chunkIndex)
    {
        var chunk = Volatile.Read(ref _chunks[chunkIndex]);
        if (chunk is not null) return chunk;
        // The last chunk is only as long as the file needs.
        var size = (int)Math.Min(_chunkSize, DeclaredLength - (long)chunkIndex * _chunkSize);
        if (!_budget.TryReserve(size))
            throw new IOException($"memory storage cap of {_budget.Cap} bytes reached ({_budget.Allocated} bytes in use); raise memory.cap-bytes or use another storage");
        var fresh = new byte[size];
        var winner = Interlocked.CompareExchange(ref _chunks[chunkIndex], fresh, null);
        if (winner is null) return fresh;
        _budget.Release(size); // another writer installed this chunk first
        return winner;
    }

    private void Extend(long end)
    {
        var current = Interlocked.Read(ref _length);
        while (end > current)
        {
            var seen = Interlocked.CompareExchange(ref _length, end, current);
            if (seen == current) return;
            current = seen;
        }
    }

    private void Touch() => Interlocked.Exchange(ref _lastWriteTicks, DateTime.UtcNow.Ticks);
}
