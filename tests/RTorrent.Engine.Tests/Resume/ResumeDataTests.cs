using System.Security.Cryptography;
using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Resume;

namespace RTorrent.Engine.Tests.Resume;

public class ResumeDataTests
{
    internal static readonly InfoHash Hash = InfoHash.FromHex("0123456789abcdef0123456789abcdef01234567");

    internal static ResumeData Sample(int pieceCount = 13) => new()
    {
        InfoHash = Hash,
        SavePath = "/home/u/Downloads/é",
        PieceCount = pieceCount,
        VerifiedPieces = Bitfield(pieceCount, p => p % 3 != 1),
        Files =
        [
            new StorageFileState(true, 1000, new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.Zero).AddTicks(1234567)),
            new StorageFileState(false, 0, null),
            new StorageFileState(true, 0, DateTimeOffset.UnixEpoch),
        ],
        Uploaded = 5_000_000_000,
        Downloaded = 123,
        AddedAt = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
        CompletedAt = DateTimeOffset.FromUnixTimeSeconds(1_700_000_100),
        PickerName = "rarest-first",
        StorageName = "file",
        Settings = new TorrentResumeSettings
        {
            DownloadRateLimit = 100_000,
            UploadRateLimit = 0,
            MaxConnections = 40,
            UploadSlots = null,
            FilePriorities = [Priority.High, Priority.Skip, Priority.Normal],
            Sequential = true,
            SuperSeeding = true,
            Paused = true,
            SeedRatioLimit = 1.5,
        },
    };

    internal static byte[] Bitfield(int count, Func<int, bool> set)
    {
        var b = new byte[(count + 7) / 8];
        for (int i = 0; i < count; i++) if (set(i)) b[i >> 3] |= (byte)(0x80 >> (i & 7));
        return b;
    }

    [Fact]
    public void Round_trips_every_field()
    {
        var original = Sample();
        var bytes = original.Encode();
        var back = ResumeData.Decode(bytes);

        Assert.Equal(original.InfoHash, back.InfoHash);
        Assert.Equal(original.SavePath, back.SavePath);
        Assert.Equal(original.PieceCount, back.PieceCount);
        Assert.Equal(original.VerifiedPieces, back.VerifiedPieces);
        Assert.Equal(original.Files, back.Files);
        Assert.Equal(original.Uploaded, back.Uploaded);
        Assert.Equal(original.Downloaded, back.Downloaded);
        Assert.Equal(original.AddedAt, back.AddedAt);
        Assert.Equal(original.CompletedAt, back.CompletedAt);
        Assert.Equal(original.PickerName, back.PickerName);
        Assert.Equal(original.StorageName, back.StorageName);
        Assert.Equal(original.Settings.FilePriorities, back.Settings.FilePriorities);
        Assert.Equal(original.Settings with { FilePriorities = [] }, back.Settings with { FilePriorities = [] });
        Assert.Equal(bytes, back.Encode());
        Assert.Equal(9, back.VerifiedCount);
        Assert.True(back.IsPieceVerified(0));
        Assert.False(back.IsPieceVerified(1));
    }

    [Fact]
    public void Defaults_round_trip_too()
    {
        var minimal = new ResumeData { InfoHash = Hash, SavePath = "/x", PieceCount = 0, VerifiedPieces = [], Files = [] };
        var back = ResumeData.Decode(minimal.Encode());
        Assert.Null(back.CompletedAt);
        Assert.Empty(back.Settings.FilePriorities);
        Assert.Null(back.Settings.SeedRatioLimit);
        Assert.Null(back.Settings.MaxConnections);
    }

    [Fact]
    public void Every_truncation_is_reported_as_truncated()
    {
        var bytes = Sample().Encode();
        for (int n = 1; n < bytes.Length; n++)
        {
            var e = Assert.Throws<ResumeException>(() => ResumeData.Decode(bytes.AsMemory(0, n)));
            Assert.Equal(ResumeProblem.Truncated, e.Problem);
            Assert.StartsWith("Resume data cannot be used: it is truncated", e.Message);
        }
    }

    [Fact]
    public void Any_flipped_byte_is_caught()
    {
        var bytes = Sample().Encode();
        for (int i = 0; i < bytes.Length; i++)
        {
            var copy = (byte[])bytes.Clone();
            copy[i] ^= 0x01;
            var e = Record.Exception(() => ResumeData.Decode(copy));
            Assert.IsType<ResumeException>(e);
        }
    }

    [Fact]
    public void Garbage_and_stray_bytes_are_corrupt()
    {
        var rng = new Random(3);
        for (int i = 0; i < 500; i++)
        {
            var junk = new byte[rng.Next(1, 300)];
            rng.NextBytes(junk);
            Assert.IsType<ResumeException>(Record.Exception(() => ResumeData.Decode(junk)));
        }
        var bytes = Sample().Encode();
        var e = Assert.Throws<ResumeException>(() => ResumeData.Decode(bytes.Concat("x"u8.ToArray()).ToArray()));
        Assert.Equal(ResumeProblem.Corrupt, e.Problem);
        Assert.Equal(ResumeProblem.Corrupt, Assert.Throws<ResumeException>(() => ResumeData.Decode("le"u8.ToArray())).Problem);
    }

    [Fact]
    public void A_newer_format_is_refused_by_name()
    {
        var e = Assert.Throws<ResumeException>(() => ResumeData.Decode(Resign(Sample().Encode(), d => d["rtorrent-resume"] = new BInteger(2))));
        Assert.Equal(ResumeProblem.UnsupportedVersion, e.Problem);
        Assert.Contains("newer", e.Message);
    }

    [Fact]
    public void Well_signed_but_invalid_fields_are_named()
    {
        var e = Assert.Throws<ResumeException>(() => ResumeData.Decode(Resign(Sample().Encode(), d => d["pieces"] = new BString(new byte[5]))));
        Assert.Contains("'pieces'", e.Message);
        e = Assert.Throws<ResumeException>(() => ResumeData.Decode(Resign(Sample().Encode(), d => d["pieces"] = new BString(new byte[] { 0, 0xFF }))));
        Assert.Contains("past the last piece", e.Message);
        e = Assert.Throws<ResumeException>(() => ResumeData.Decode(Resign(Sample().Encode(), d => d["uploaded"] = new BInteger(-1))));
        Assert.Contains("'uploaded'", e.Message);
        e = Assert.Throws<ResumeException>(() => ResumeData.Decode(Resign(Sample().Encode(), d => d["info-hash"] = new BString("short"))));
        Assert.Contains("'info-hash'", e.Message);
    }

    /// <summary>Edits decoded resume data and recomputes its checksum, as a buggy or future writer would.</summary>
    internal static byte[] Resign(byte[] encoded, Action<BDictionary> edit)
    {
        var source = BencodeReader.DecodeDictionary(encoded);
        var d = new BDictionary();
        foreach (var (k, v) in source) if (k.Text != "checksum") d.Add(k.Text, v);
        edit(d);
        d["checksum"] = new BString(SHA1.HashData(BencodeWriter.Encode(d)));
        return BencodeWriter.Encode(d);
    }
}
