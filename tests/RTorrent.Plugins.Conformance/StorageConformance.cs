using System.Security.Cryptography;
using RTorrent.Abstractions;
using Xunit;
using Xunit.Sdk;

namespace RTorrent.Plugins.Conformance;

/// <summary>
/// Checks that a storage backend behaves as the engine expects: files are missing until prepared or written,
/// prepare gives a file its length, data written across files reads back, reads past the end are short, concurrent
/// I/O on different ranges is safe, data survives closing and reopening, a move keeps the data and a delete removes it.
/// </summary>
public static class StorageConformance
{
    /// <summary>The files of the test torrent: sizes chosen to cross chunk and block boundaries, with an empty file and a pad file.</summary>
    public static IReadOnlyList<StorageFile> TestFiles(string folder = "conformance") =>
    [
        new(0, $"{folder}/a.bin", 1_000_003, false),
        new(1, $"{folder}/empty.txt", 0, false),
        new(2, $"{folder}/.pad/12345", 12_345, true),
        new(3, $"{folder}/sub/b.bin", 1, false),
        new(4, $"{folder}/sub/deeper/c.bin", 300_000, false),
    ];

    /// <summary>
    /// Runs the round trip against <paramref name="factory"/>. Files are created under a fresh folder in
    /// <paramref name="workDirectory"/> (a new temporary folder when null, deleted afterwards).
    /// </summary>
    public static async Task RoundTripAsync(IStorageFactory factory, string? workDirectory = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(factory);
        var root = workDirectory ?? Path.Combine(Path.GetTempPath(), "rt-conformance-" + Guid.NewGuid().ToString("N")[..12]);
        var ownsRoot = workDirectory is null;
        Directory.CreateDirectory(root);
        try
        {
            await RunAsync(factory, root, cancellationToken);
        }
        finally
        {
            if (ownsRoot)
            {
                try { Directory.Delete(root, recursive: true); }
                catch (IOException) { /* left for a post-mortem */ }
            }
        }
    }

    private static async Task RunAsync(IStorageFactory factory, string root, CancellationToken ct)
    {
        var files = TestFiles();
        var infoHash = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var save = Path.Combine(root, "downloads");
        Directory.CreateDirectory(save);
        var context = new StorageContext(save, files, infoHash);
        var content = files.Select(f => f.IsPadding ? [] : Pattern(f.Index, f.Length)).ToArray();
        var name = factory.Name;

        await using (var storage = factory.Open(context))
        {
            Assert.NotNull(storage);

            // Nothing exists before it is prepared or written.
            foreach (var f in files.Where(f => !f.IsPadding))
            {
                var state = await storage.ProbeAsync(f.Index, ct);
                Check(!state.Exists && state.Length == 0, name, $"probe of {f.Path} before anything was written: exists={state.Exists}, length={state.Length}, expected missing");
            }

            // Prepare (sparse) gives each file its final length.
            foreach (var f in files.Where(f => !f.IsPadding))
            {
                await storage.PrepareAsync(f.Index, preallocate: false, ct);
                var state = await storage.ProbeAsync(f.Index, ct);
                Check(state.Exists && state.Length == f.Length, name, $"after PrepareAsync, {f.Path}: exists={state.Exists}, length={state.Length}, expected {f.Length}");
            }

            // Write every file in 16 KiB blocks, in a shuffled order, as the engine does when blocks arrive.
            var blocks = Blocks(files).OrderBy(b => (b.File * 7919L + b.Offset * 31) % 1009).ToArray();
            foreach (var (file, offset, length) in blocks)
                await storage.WriteAsync(file, offset, content[file].AsMemory((int)offset, length), ct);
            await storage.FlushAsync(ct);
            await VerifyAsync(storage, files, content, name, ct);

            // Reads past the end are short; a read at the end returns 0.
            var a = files[0];
            var tail = new byte[100];
            var read = await storage.ReadAsync(a.Index, a.Length - 10, tail, ct);
            Check(read == 10, name, $"a 100-byte read 10 bytes before the end of {a.Path} returned {read}, expected 10");
            Check(tail.AsSpan(0, 10).SequenceEqual(content[a.Index].AsSpan((int)a.Length - 10)), name, "the short read at the end returned wrong bytes");
            read = await storage.ReadAsync(a.Index, a.Length, tail, ct);
            Check(read == 0, name, $"a read at the end of {a.Path} returned {read}, expected 0");

            // Concurrent writes and reads of different ranges.
            var c = files[4];
            var fresh = Pattern(99, c.Length);
            var chunks = Blocks([c]).ToArray();
            await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct },
                async (b, token) => await storage.WriteAsync(b.File, b.Offset, fresh.AsMemory((int)b.Offset, b.Length), token));
            content[c.Index] = fresh;
            await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = ct }, async (b, token) =>
            {
                var buffer = new byte[b.Length];
                var n = await storage.ReadAsync(b.File, b.Offset, buffer, token);
                Check(n == b.Length && buffer.AsSpan().SequenceEqual(fresh.AsSpan((int)b.Offset, b.Length)), name,
                    $"concurrent read of {c.Path} at {b.Offset} returned {n} bytes or different data");
            });
            await storage.FlushAsync(ct);
            await storage.CloseAsync(c.Index, ct);
        }

        // Closing and reopening keeps the data (the engine reopens storage when a paused torrent resumes).
        await using (var storage = factory.Open(context))
        {
            await VerifyAsync(storage, files, content, name, ct);

            // A move keeps the data readable.
            var moved = Path.Combine(root, "moved");
            Directory.CreateDirectory(moved);
            await storage.MoveAsync(moved, ct);
            await VerifyAsync(storage, files, content, name, ct);

            // A delete removes every file.
            await storage.DeleteAsync(ct);
            foreach (var f in files.Where(f => !f.IsPadding))
            {
                var state = await storage.ProbeAsync(f.Index, ct);
                Check(!state.Exists, name, $"{f.Path} still exists after DeleteAsync");
            }
        }
    }

    private static async Task VerifyAsync(ITorrentStorage storage, IReadOnlyList<StorageFile> files, byte[][] content, string name, CancellationToken ct)
    {
        foreach (var f in files.Where(f => !f.IsPadding))
        {
            var state = await storage.ProbeAsync(f.Index, ct);
            Check(state.Exists && state.Length == f.Length, name, $"{f.Path}: exists={state.Exists}, length={state.Length}, expected {f.Length}");
            foreach (var (file, offset, length) in Blocks([f]))
            {
                var buffer = new byte[length];
                var read = await storage.ReadAsync(file, offset, buffer, ct);
                Check(read == length, name, $"reading {length} bytes of {f.Path} at {offset} returned {read}");
                Check(buffer.AsSpan().SequenceEqual(content[file].AsSpan((int)offset, length)), name, $"{f.Path} at {offset}: the data read back differs from what was written");
            }
        }
    }

    /// <summary>16 KiB blocks covering each non-pad file, the last one short.</summary>
    private static IEnumerable<(int File, long Offset, int Length)> Blocks(IEnumerable<StorageFile> files)
    {
        const int block = 16 * 1024;
        foreach (var f in files.Where(f => !f.IsPadding))
            for (long offset = 0; offset < f.Length; offset += block)
                yield return (f.Index, offset, (int)Math.Min(block, f.Length - offset));
    }

    private static byte[] Pattern(int seed, long length)
    {
        var bytes = new byte[length];
        new Random(seed * 7 + 1).NextBytes(bytes);
        return bytes;
    }

    private static void Check(bool condition, string storageName, string message)
    {
        if (!condition) throw new XunitException($"storage '{storageName}': {message}");
    }
}
