using System.Buffers;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>One file of a test payload: a '/'-separated path under the payload's root and its length.</summary>
internal sealed record PayloadFile(string Path, long Length);

/// <summary>Deterministic pseudo-random test data, and the byte-exact comparison of a download with its source.</summary>
internal static class Payload
{
    /// <summary>
    /// A multi-file layout of about 3 MiB: nested folders, an empty file, a one-byte file, and sizes that are not
    /// multiples of any piece length, so pieces straddle file boundaries.
    /// </summary>
    public static IReadOnlyList<PayloadFile> MultiFile { get; } =
    [
        new("readme.txt", 1_234),
        new("album/disc 1/track01.bin", 1_048_577),
        new("album/disc 1/empty.cue", 0),
        new("album/disc 2/track02.bin", 777_777),
        new("album/cover.bin", 1),
        new("deep/a/b/c/d/data.bin", 900_001),
        new("z-last.bin", 333_333),
    ];

    /// <summary>Writes <paramref name="files"/> under <paramref name="root"/> (created) from <paramref name="seed"/>.</summary>
    public static void Write(string root, IEnumerable<PayloadFile> files, int seed)
    {
        var rng = new Random(seed);
        foreach (var f in files)
        {
            var path = Path.Combine(root, f.Path);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            WriteRandom(path, f.Length, rng);
        }
    }

    /// <summary>Writes one file of <paramref name="length"/> pseudo-random bytes from <paramref name="seed"/>.</summary>
    public static void WriteFile(string path, long length, int seed)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        WriteRandom(path, length, new Random(seed));
    }

    private static void WriteRandom(string path, long length, Random rng)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write);
        var buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        try
        {
            for (long left = length; left > 0;)
            {
                int n = (int)Math.Min(left, buffer.Length);
                rng.NextBytes(buffer.AsSpan(0, n));
                fs.Write(buffer, 0, n);
                left -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Asserts that <paramref name="actual"/> holds exactly the files of <paramref name="expected"/> (same relative
    /// paths, same bytes, empty files included) and nothing else.
    /// </summary>
    public static void AssertSameTree(string expected, string actual)
    {
        Assert.True(Directory.Exists(actual), $"The download folder {actual} does not exist.");
        var want = ListFiles(expected);
        var got = ListFiles(actual);
        Assert.Equal(want, got);
        foreach (var relative in want) AssertSameFile(Path.Combine(expected, relative), Path.Combine(actual, relative));
    }

    /// <summary>Asserts that two files have the same length and bytes.</summary>
    public static void AssertSameFile(string expected, string actual)
    {
        Assert.True(File.Exists(actual), $"{actual} is missing.");
        var a = new FileInfo(expected).Length;
        var b = new FileInfo(actual).Length;
        Assert.True(a == b, $"{actual} is {b} bytes; {expected} is {a}.");
        using var fa = File.OpenRead(expected);
        using var fb = File.OpenRead(actual);
        var ba = new byte[1 << 16];
        var bb = new byte[1 << 16];
        long offset = 0;
        while (true)
        {
            int na = fa.ReadAtLeast(ba, ba.Length, throwOnEndOfStream: false);
            int nb = fb.ReadAtLeast(bb, bb.Length, throwOnEndOfStream: false);
            Assert.Equal(na, nb);
            if (na == 0) return;
            if (!ba.AsSpan(0, na).SequenceEqual(bb.AsSpan(0, nb)))
            {
                int at = ba.AsSpan(0, na).CommonPrefixLength(bb.AsSpan(0, nb));
                Assert.Fail($"{actual} differs from {expected} at byte {offset + at}.");
            }
            offset += na;
        }
    }

    private static List<string> ListFiles(string root) =>
        Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))
            .Order(StringComparer.Ordinal)
            .ToList();
}
