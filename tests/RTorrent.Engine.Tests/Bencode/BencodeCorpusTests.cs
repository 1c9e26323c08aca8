using System.Globalization;
using System.Text;
using RTorrent.Engine.Bencode;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Bencode;

public class BencodeCorpusTests
{
    public static TheoryData<string> CaseIds()
    {
        var data = new TheoryData<string>();
        foreach (var id in Cases.Value.Keys) data.Add(id);
        return data;
    }

    private sealed record Case(string Id, byte[] Input, int DepthLimit, int ItemLimit, string Expect, string Error, string Value);

    private static List<Case> LoadCases()
    {
        var path = Path.Combine(TestPaths.Corpus, "bencode", "cases.tsv");
        var rows = new List<Case>();
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            if (line.Length == 0) continue;
            var c = line.Split('\t');
            rows.Add(new Case(c[0], c[1] == "gen" ? Generate(c[2]) : Unescape(c[2]),
                int.Parse(c[3], CultureInfo.InvariantCulture), int.Parse(c[4], CultureInfo.InvariantCulture), c[5], c[6], c[8]));
        }
        return rows;
    }

    private static readonly Lazy<Dictionary<string, Case>> Cases = new(() => LoadCases().ToDictionary(c => c.Id));

    private static Case Get(string id) => Cases.Value[id];

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Lenient_decoder_matches_libtorrent(string id)
    {
        var c = Get(id);
        var options = new BencodeReaderOptions { Strict = false, MaxDepth = c.DepthLimit, MaxItems = c.ItemLimit, MaxInputLength = int.MaxValue };
        switch (c.Expect)
        {
            case "ok" or "soft" when c.Value.Length == 0:
                // libtorrent decodes integers beyond 64 bits lazily; an eager decoder reports overflow (the corpus allows both).
                try { BencodeReader.Decode(c.Input, options); }
                catch (BencodeException e) { Assert.Equal(BencodeError.Overflow, e.Error); }
                break;
            case "ok" or "soft":
                var value = BencodeReader.Decode(c.Input, options);
                Assert.Equal(c.Value, Render(value));
                if (c.Expect == "soft" && c.Error is "unsorted_key" or "duplicate_key")
                    Assert.False(((BDictionary)value).KeysCanonical);
                if (c.Expect == "ok" && value is BDictionary d) Assert.True(d.KeysCanonical);
                break;
            default:
                var ex = Assert.Throws<BencodeException>(() => BencodeReader.Decode(c.Input, options));
                // Input that ends inside a string length is "expected ':'" or "unexpected end" depending on where
                // libtorrent looks; both say the same to a user.
                if (c.Error is "expected_colon" or "unexpected_eof")
                    Assert.Contains(ex.Error, new[] { BencodeError.ExpectedColon, BencodeError.UnexpectedEnd });
                else
                    Assert.Equal(ExpectedKind(c.Error), ex.Error);
                Assert.Contains("at byte", ex.Message);
                break;
        }
    }

    [Theory]
    [MemberData(nameof(CaseIds))]
    public void Strict_decoder_refuses_non_canonical_numbers_and_accepts_the_rest(string id)
    {
        var c = Get(id);
        var options = new BencodeReaderOptions { Strict = true, MaxDepth = c.DepthLimit, MaxItems = c.ItemLimit, MaxInputLength = int.MaxValue };
        bool nonCanonicalNumber = c.Error is "leading_zero_int" or "leading_zero_length" || c.Id == "x_negative_zero";
        if (nonCanonicalNumber)
        {
            var ex = Assert.Throws<BencodeException>(() => BencodeReader.Decode(c.Input, options));
            Assert.Equal(BencodeError.NonCanonical, ex.Error);
        }
        else if (c.Expect == "error")
        {
            Assert.Throws<BencodeException>(() => BencodeReader.Decode(c.Input, options));
        }
        else if (c.Value.Length > 0)
        {
            Assert.Equal(c.Value, Render(BencodeReader.Decode(c.Input, options)));
        }
    }

    [Fact]
    public void Two_hundred_thousand_open_lists_give_an_error_not_a_stack_overflow()
    {
        var input = Enumerable.Repeat((byte)'l', 200_000).ToArray();
        var ex = Assert.Throws<BencodeException>(() => BencodeReader.Decode(input));
        Assert.Equal(BencodeError.DepthExceeded, ex.Error);
    }

    [Fact]
    public void Input_over_the_size_limit_is_refused_before_decoding()
    {
        var ex = Assert.Throws<BencodeException>(() => BencodeReader.Decode(new byte[100], new BencodeReaderOptions { MaxInputLength = 99 }));
        Assert.Equal(BencodeError.InputTooLarge, ex.Error);
    }

    private static BencodeError ExpectedKind(string kind) => kind switch
    {
        "expected_digit" => BencodeError.ExpectedDigit,
        "expected_colon" => BencodeError.ExpectedColon,
        "unexpected_eof" => BencodeError.UnexpectedEnd,
        "expected_value" => BencodeError.ExpectedValue,
        "depth_exceeded" => BencodeError.DepthExceeded,
        "limit_exceeded" => BencodeError.LimitExceeded,
        "overflow" => BencodeError.Overflow,
        _ => throw new InvalidOperationException("unknown error kind " + kind),
    };

    internal static string Render(BValue v) => v switch
    {
        BInteger i => i.Value.ToString(CultureInfo.InvariantCulture),
        BString s => s.Bytes.Length > 40 ? $"str(len={s.Bytes.Length})" : "\"" + Escape(s.Bytes.Span) + "\"",
        BList l => "[" + string.Join(",", l.Select(Render)) + "]",
        BDictionary d => "{" + string.Join(",", d.Entries.Select(e => Render(e.Key) + ":" + Render(e.Value))) + "}",
        _ => throw new InvalidOperationException(),
    };

    private static string Escape(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder();
        foreach (var b in bytes)
        {
            if (b == '\\') sb.Append("\\\\");
            else if (b == '"') sb.Append("\\x22");
            else if (b >= 0x20 && b < 0x7f) sb.Append((char)b);
            else sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    internal static byte[] Unescape(string s)
    {
        var bytes = new List<byte>(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length && s[i + 1] == '\\') { bytes.Add((byte)'\\'); i++; }
            else if (s[i] == '\\' && i + 3 < s.Length && s[i + 1] == 'x')
            {
                bytes.Add(byte.Parse(s.AsSpan(i + 2, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                i += 3;
            }
            else bytes.Add((byte)s[i]);
        }
        return bytes.ToArray();
    }

    private static byte[] Generate(string spec)
    {
        using var ms = new MemoryStream();
        foreach (var part in spec.Split('+'))
        {
            int star = part.LastIndexOf('*');
            var text = Unescape(part[..star]);
            int n = int.Parse(part[(star + 1)..], CultureInfo.InvariantCulture);
            for (int i = 0; i < n; i++) ms.Write(text);
        }
        return ms.ToArray();
    }
}
