using System.Globalization;
using System.Net;
using System.Text;
using RTorrent.Engine.Metainfo;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Metainfo;

public class MagnetLinkTests
{
    private static string Dir => Path.Combine(TestPaths.Corpus, "magnet");

    private static List<string[]> Rows(string file) =>
        [.. File.ReadLines(Path.Combine(Dir, file)).Skip(1).Where(l => l.Length > 0).Select(l => l.Split('\t'))];

    private static readonly Lazy<Dictionary<string, string[]>> ParseCases = new(() => Rows("cases.tsv").ToDictionary(r => r[0]));
    private static readonly Lazy<Dictionary<string, string[]>> MakeCases = new(() => Rows("make_cases.tsv").ToDictionary(r => r[0]));

    public static TheoryData<string> ParseIds() => [.. ParseCases.Value.Keys];

    public static TheoryData<string> MakeIds() => [.. MakeCases.Value.Keys];

    /// <summary>README: '\\' is a backslash and '\xHH' a raw byte; bytes map one to one onto chars.</summary>
    private static string Unescape(string s)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] == '\\') { sb.Append('\\'); i++; }
            else if (s[i] == '\\' && i + 3 < s.Length && s[i + 1] == 'x')
            {
                sb.Append((char)byte.Parse(s.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 3;
            }
            else sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private static string[] List(string cell) => cell.Length == 0 ? [] : cell.Split('|');

    [Theory]
    [MemberData(nameof(ParseIds))]
    public void Parses_like_libtorrent(string id)
    {
        var c = ParseCases.Value[id];
        var uri = Unescape(c[1]);
        if (c[2] == "error")
        {
            var e = Assert.Throws<MagnetFormatException>(() => MagnetLink.Parse(uri));
            var expected = c[3] switch
            {
                "unsupported_url_protocol" => MagnetError.UnsupportedProtocol,
                "missing_info_hash_in_uri" => MagnetError.MissingInfoHash,
                "invalid_info_hash" => MagnetError.InvalidInfoHash,
                "invalid_escaped_string" => MagnetError.InvalidEscape,
                _ => throw new InvalidOperationException(c[3]),
            };
            Assert.Equal(expected, e.Error);
            return;
        }

        var m = MagnetLink.Parse(uri);
        Assert.Equal(c[4], m.InfoHashV1?.ToHex() ?? "");
        Assert.Equal(c[5], m.InfoHashV2 is null ? "" : Convert.ToHexStringLower(m.InfoHashV2));
        Assert.Equal(c[6], m.Name ?? "");
        Assert.Equal(List(c[7]), m.Trackers.SelectMany(t => t));
        var tiers = m.Trackers.SelectMany((tier, i) => tier.Select(_ => i.ToString(CultureInfo.InvariantCulture)));
        Assert.Equal(c[8], string.Join(',', tiers));
        Assert.Equal(List(c[9]), m.WebSeeds);
        Assert.Equal(List(c[10]), m.Peers.Select(p => p.ToString()));
        Assert.Equal(List(c[11]), m.DhtNodes.Select(n => $"{n.Host}:{n.Port}"));
        var priorities = m.SelectedFiles is { Count: > 0 } s
            ? string.Join(',', Enumerable.Range(0, s.Max() + 1).Select(i => s.Contains(i) ? "4" : "0"))
            : "";
        Assert.Equal(c[12], priorities);
        Assert.Equal(c[13] == "1", m.SelectedFiles is not null);
    }

    [Theory]
    [MemberData(nameof(MakeIds))]
    public void Writes_like_libtorrent(string id)
    {
        var c = MakeCases.Value[id];
        var priorities = List(c[8].Replace(',', '|')).Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToList();
        var selected = Enumerable.Range(0, priorities.Count).Where(i => priorities[i] > 0).ToList();
        var link = new MagnetLink
        {
            InfoHashV1 = c[1].Length > 0 ? InfoHash.FromHex(c[1]) : null,
            InfoHashV2 = c[2].Length > 0 ? Convert.FromHexString(c[2]) : null,
            Name = c[3].Length > 0 ? c[3] : null,
            Trackers = [.. List(c[4]).Select(t => (IReadOnlyList<string>)[t])],
            WebSeeds = List(c[5]),
            Peers = [.. List(c[6]).Select(IPEndPoint.Parse)],
            DhtNodes = [.. List(c[7]).Select(n => (n[..n.LastIndexOf(':')], int.Parse(n[(n.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture)))],
            SelectedFiles = selected.Count == priorities.Count ? null : selected,
        };
        Assert.Equal(c[9], link.ToString());
        // What is written parses back to the same fields.
        var back = MagnetLink.Parse(link.ToString());
        Assert.Equal(link.InfoHashV1, back.InfoHashV1);
        Assert.Equal(link.Name, back.Name);
        Assert.Equal(link.Trackers.SelectMany(t => t), back.Trackers.SelectMany(t => t));
        Assert.Equal(link.WebSeeds, back.WebSeeds);
        Assert.Equal(link.SelectedFiles, back.SelectedFiles);
    }

    [Fact]
    public void Magnet_from_a_torrent_round_trips()
    {
        var t = TorrentMetainfo.Load(Path.Combine(TorrentManifest.Directory, "v2_hybrid.torrent"));
        var m = MagnetLink.Parse(MagnetLink.FromTorrent(t).ToString());
        Assert.Equal(t.InfoHashV1, m.InfoHashV1);
        Assert.Equal(t.InfoHashV2, m.InfoHashV2);
        Assert.Equal(t.Name, m.Name);
        Assert.Equal(t.WireHash, m.WireHash);
    }

    [Fact]
    public void Exact_length_and_unicode_name()
    {
        var m = MagnetLink.Parse("magnet:?xt=urn:btih:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd&xl=12345&dn=%F0%9F%8E%B5+song");
        Assert.Equal(12345, m.ExactLength);
        Assert.Equal("\U0001F3B5 song", m.Name);
        Assert.Contains("xl=12345", m.ToString());
    }
}
