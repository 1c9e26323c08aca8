using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Metainfo;

/// <summary>Random damage to real torrents must give a <see cref="TorrentFormatException"/> or a torrent, nothing else.</summary>
public class TorrentMutationTests
{
    public static TheoryData<string> ValidFiles() => TorrentManifest.Files(r => r.Valid);

    [Theory]
    [MemberData(nameof(ValidFiles))]
    public void Random_byte_mutations_never_throw_anything_but_a_format_error(string file)
    {
        var original = File.ReadAllBytes(TorrentManifest.All[file].FullPath);
        // Seeded from the name (string hashes differ per process) so a failure can be reproduced.
        var random = new Random(file.Aggregate(0x5EED, (h, c) => h * 31 + c));
        for (int round = 0; round < 400; round++)
        {
            var data = Mutate(original, random);
            try
            {
                var t = TorrentMetainfo.Parse(data);
                // Whatever loads must be self-consistent.
                Assert.Equal(t.TotalLength, t.Files.Sum(f => f.Length));
                Assert.All(t.Files, f => Assert.DoesNotContain("..", f.Path.Split('/')));
            }
            catch (TorrentFormatException)
            {
            }
        }
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        var data = new List<byte>(original);
        int edits = 1 + random.Next(4);
        for (int i = 0; i < edits && data.Count > 0; i++)
        {
            int at = random.Next(data.Count);
            switch (random.Next(6))
            {
                case 0: data[at] = (byte)random.Next(256); break;
                case 1: data[at] ^= (byte)(1 << random.Next(8)); break;
                case 2: data.RemoveAt(at); break;
                case 3: data.Insert(at, (byte)"ield0123456789:-"[random.Next(16)]); break;
                case 4: data.RemoveRange(at, data.Count - at); break;
                default:
                    // Change a digit: lengths and integers are where parsers break.
                    int digit = data.FindIndex(at, b => b is >= (byte)'0' and <= (byte)'9');
                    if (digit >= 0) data[digit] = (byte)('0' + random.Next(10));
                    break;
            }
        }
        return [.. data];
    }
}
