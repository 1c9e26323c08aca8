using System.Security.Cryptography;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Metainfo;

public class TorrentMetainfoTests
{
    private static TorrentMetainfo Corpus(string file) => TorrentMetainfo.Load(Path.Combine(TorrentManifest.Directory, file));

    private static BDictionary SingleFileInfo(long length = 100, int pieceLength = 16384)
    {
        int pieces = (int)((length + pieceLength - 1) / pieceLength);
        return new BDictionary
        {
            ["name"] = new BString("file.bin"),
            ["length"] = new BInteger(length),
            ["piece length"] = new BInteger(pieceLength),
            ["pieces"] = new BString(new byte[pieces * 20]),
        };
    }

    private static byte[] Torrent(BDictionary info, Action<BDictionary>? more = null)
    {
        var top = new BDictionary { ["info"] = info };
        more?.Invoke(top);
        return BencodeWriter.Encode(top);
    }

    private static string Error(byte[] data) => Assert.Throws<TorrentFormatException>(() => TorrentMetainfo.Parse(data)).Message;

    [Fact]
    public void Info_hash_is_over_the_info_bytes_as_stored()
    {
        var bytes = File.ReadAllBytes(Path.Combine(TorrentManifest.Directory, "unordered.torrent"));
        var t = TorrentMetainfo.Parse(bytes);
        Assert.Equal(Convert.ToHexStringLower(SHA1.HashData(t.InfoBytes.Span)), t.InfoHashV1!.Value.ToHex());
        // A canonical re-encoding would sort the keys and so give another hash.
        var reencoded = BencodeWriter.Encode(BencodeReader.DecodeDictionary(t.InfoBytes));
        Assert.NotEqual(t.InfoHashV1!.Value.ToHex(), Convert.ToHexStringLower(SHA1.HashData(reencoded)));
    }

    [Fact]
    public void FromInfoDictionary_gives_the_same_torrent_with_the_given_trackers()
    {
        var original = Corpus("sample.torrent");
        var t = TorrentMetainfo.FromInfoDictionary(original.InfoBytes.ToArray(), [["udp://a.example:1/announce"], ["http://b.example/announce", "ftp://x"]]);
        Assert.Equal(original.InfoHashV1, t.InfoHashV1);
        Assert.Equal(original.Name, t.Name);
        Assert.Equal(original.Files.Select(f => f.Path), t.Files.Select(f => f.Path));
        Assert.Equal(2, t.AnnounceTiers.Count);
        Assert.Equal(["http://b.example/announce"], t.AnnounceTiers[1]);
        Assert.Null(t.Comment);
    }

    [Fact]
    public void FromInfoDictionary_refuses_bytes_after_the_dictionary_and_non_dictionaries()
    {
        var info = BencodeWriter.Encode(SingleFileInfo());
        Assert.Throws<TorrentFormatException>(() => TorrentMetainfo.FromInfoDictionary(info.Append((byte)120).ToArray(), []));
        Assert.Throws<TorrentFormatException>(() => TorrentMetainfo.FromInfoDictionary("li1ee"u8.ToArray(), []));
        Assert.Equal("file.bin", TorrentMetainfo.FromInfoDictionary(info, []).Name);
    }

    [Fact]
    public void Sample_torrent_has_pad_file_comment_creation_date_and_one_tracker()
    {
        var t = Corpus("sample.torrent");
        Assert.Equal(3, t.Files.Count);
        Assert.True(t.Files[1].IsPadding);
        Assert.Equal(16359, t.Files[1].Length);
        Assert.Equal(45, t.TotalSize);
        Assert.Equal(16404, t.TotalLength);
        Assert.Equal(25 + 16359, t.Files[2].Offset);
        Assert.Equal("sample comment", t.Comment);
        Assert.Equal("libtorrent", t.CreatedBy);
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds(1418787579), t.CreationDate);
        Assert.Equal([["udp://tracker.opentracker.com:80/announce"]], t.AnnounceTiers.Select(x => x.ToArray()).ToArray());
        Assert.Equal(2, t.PieceCount);
        Assert.Equal(16384, t.GetPieceSize(0));
        Assert.Equal(16404 - 16384, t.GetPieceSize(1));
        Assert.Contains(t.Warnings, w => w.Contains("tracker.publicbt.com"));
    }

    [Fact]
    public void Symlinks_point_inside_the_torrent()
    {
        var t = Corpus("symlink2.torrent");
        var links = t.Files.Where(f => f.SymlinkTarget is not null).ToDictionary(f => f.Path, f => f.SymlinkTarget);
        Assert.Equal("Some.framework/Versions/A/SDL2", links["Some.framework/SDL2"]);
        Assert.Equal("Some.framework/Versions/A", links["Some.framework/Versions/Current"]);
        Assert.All(t.Files.Where(f => f.SymlinkTarget is not null), f => Assert.Equal(0, f.Length));
        Assert.True(t.Files.First(f => f.Path == "Some.framework/SDL2").IsExecutable);
    }

    [Fact]
    public void Duplicate_file_is_renamed_and_reported()
    {
        var t = Corpus("duplicate_files.torrent");
        Assert.Equal(["temp/foo/bar.txt", "temp/foo/bar.1.txt"], t.Files.Select(f => f.Path));
        Assert.Contains(t.Warnings, w => w.Contains("temp/foo/bar.1.txt"));
    }

    [Fact]
    public void Web_seeds_dht_nodes_and_trimmed_trackers()
    {
        Assert.Equal(["http://foobar.com/foo", "http://foobar.com/foobar", "http://foobar.com/bar"], Corpus("duplicate_web_seeds.torrent").WebSeeds);
        Assert.Equal(["http://test.com/test%20file/foo%20bar/"], Corpus("url_seed_multi_space.torrent").WebSeeds);
        Assert.Empty(Corpus("url_list2.torrent").WebSeeds);
        Assert.Equal([("127.0.0.1", 6881), ("192.168.1.1", 6881)], Corpus("dht_nodes.torrent").DhtNodes);
        Assert.Equal("udp://test.com/announce", Corpus("whitespace_url.torrent").AnnounceTiers[0][0]);
    }

    [Fact]
    public void Versions_and_usability()
    {
        var hybrid = Corpus("v2_hybrid.torrent");
        Assert.Equal(TorrentVersions.Hybrid, hybrid.Versions);
        Assert.True(hybrid.IsUsable);
        Assert.Equal(9, hybrid.Files.Count(f => f.IsPadding));
        Assert.All(hybrid.Files.Where(f => !f.IsPadding && f.Length > 0), f => Assert.Equal(32, f.PiecesRoot.Length));
        var v2 = Corpus("v2_only.torrent");
        Assert.Equal(TorrentVersions.V2, v2.Versions);
        Assert.True(v2.IsUsable);
        Assert.Equal(v2.InfoHashV2.AsSpan(0, 20).ToArray(), v2.WireHash.ToArray());
        // libtorrent's layout: every file, the last one too, is followed by pad space up to a piece boundary.
        Assert.Equal(v2.PieceCount * v2.PieceLength, v2.TotalLength);
        Assert.Equal(TorrentVersions.V1, Corpus("base.torrent").Versions);
    }

    [Fact]
    public void Private_flag_source_and_announce_list_tiers()
    {
        var info = SingleFileInfo();
        info["private"] = new BInteger(1);
        info["source"] = new BString("TRK");
        var t = TorrentMetainfo.Parse(Torrent(info, top =>
        {
            top["announce"] = new BString("http://ignored.example/announce");
            top["announce-list"] = new BList([
                new BList([new BString("http://a.example/announce"), new BString("udp://b.example:80")]),
                new BList([new BString("http://a.example/announce")]),
                new BList([new BString("https://c.example/announce")]),
            ]);
        }));
        Assert.True(t.IsPrivate);
        Assert.Equal("TRK", t.Source);
        Assert.Equal(2, t.AnnounceTiers.Count);
        Assert.Equal(["http://a.example/announce", "udp://b.example:80"], t.AnnounceTiers[0]);
        Assert.Equal(["https://c.example/announce"], t.AnnounceTiers[1]);
    }

    [Fact]
    public void Utf8_name_is_preferred_when_it_is_a_string()
    {
        var info = SingleFileInfo();
        info["name.utf-8"] = new BString("utf8 name.bin");
        Assert.Equal("utf8 name.bin", TorrentMetainfo.Parse(Torrent(info)).Name);
        info["name.utf-8"] = new BInteger(3);
        Assert.Equal("file.bin", TorrentMetainfo.Parse(Torrent(info)).Name);
    }

    [Fact]
    public void Announce_alone_is_one_tier()
    {
        var t = TorrentMetainfo.Parse(Torrent(SingleFileInfo(), top => top["announce"] = new BString("http://a.example/announce")));
        Assert.Equal([["http://a.example/announce"]], t.AnnounceTiers.Select(x => x.ToArray()).ToArray());
    }

    [Fact]
    public void Clear_errors_for_each_kind_of_broken_file()
    {
        Assert.Contains("at byte", Error("d4:infod4:name"u8.ToArray()));
        Assert.Contains("not a dictionary", Error("li1ee"u8.ToArray()));
        Assert.Contains("empty", Error([]));

        var info = SingleFileInfo(length: 40000);
        info["pieces"] = new BString(new byte[25]);
        Assert.Contains("multiple of 20", Error(Torrent(info)));
        info["pieces"] = new BString(new byte[20]);
        Assert.Contains("need 3", Error(Torrent(info)));

        info = SingleFileInfo();
        info["piece length"] = new BInteger(0);
        Assert.Contains("piece length", Error(Torrent(info)));
        info["piece length"] = new BInteger(-16384);
        Assert.Contains("piece length", Error(Torrent(info)));

        info = SingleFileInfo();
        info["length"] = new BInteger(long.MaxValue);
        Assert.Contains("too large", Error(Torrent(info)));

        info = SingleFileInfo();
        info["name"] = new BInteger(5);
        Assert.Contains("'name'", Error(Torrent(info)));
    }

    [Fact]
    public void Overflowing_total_of_file_lengths_is_refused()
    {
        var files = new BList();
        for (int i = 0; i < 4; i++)
            files.Add(new BDictionary { ["length"] = new BInteger(1L << 49), ["path"] = new BList([new BString("f" + i)]) });
        var info = new BDictionary
        {
            ["name"] = new BString("big"),
            ["files"] = files,
            ["piece length"] = new BInteger(1 << 30),
            ["pieces"] = new BString(new byte[20]),
        };
        Assert.Contains("too large", Error(Torrent(info)));
    }

    [Fact]
    public void Oversized_file_is_refused_before_decoding()
    {
        var data = new byte[TorrentMetainfo.MaxFileSize + 1];
        Assert.Contains("limit", Error(data));
    }

    [Fact]
    public void Non_canonical_integers_are_refused_strictly()
    {
        Assert.Contains("at byte", Error("d4:infod6:lengthi0100eee"u8.ToArray()));
    }
}
