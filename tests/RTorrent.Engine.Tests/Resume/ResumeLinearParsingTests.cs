using System.Security.Cryptography;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Resume;
using RTorrent.Engine.Tests.Metainfo;

namespace RTorrent.Engine.Tests.Resume;

/// <summary>Issue 14: a resume file's cost must follow its size, whatever keys it holds (work counted, not timed).</summary>
public class ResumeLinearParsingTests
{
    /// <summary>A valid resume file (right checksum) with <paramref name="extra"/> unknown top-level keys.</summary>
    private static byte[] WithExtraKeys(int extra)
    {
        var d = BencodeReader.DecodeDictionary(ResumeDataTests.Sample().Encode());
        var entries = d.Entries.Where(e => e.Key.Text != "checksum").ToList();
        for (int i = 0; i < extra; i++) entries.Add(new(new BString($"x-{i:D6}"), new BInteger(i)));
        var rest = new BDictionary();
        foreach (var (k, v) in entries.OrderBy(e => e.Key.Text, StringComparer.Ordinal)) rest.Add(k.Text, v);
        var body = BencodeWriter.Encode(rest);
        rest["checksum"] = new BString(SHA1.HashData(body));
        return BencodeWriter.Encode(rest);
    }

    [Fact]
    public void Unknown_top_level_keys_cost_work_in_proportion_to_their_number()
    {
        // The fuzzer's file had 16,000 of them and took over a second: every key was compared with every earlier one.
        var small = WithExtraKeys(4000);
        var large = WithExtraKeys(8000);
        ResumeData? back = null;
        long smallWork = LinearParsingTests.Work(() => ResumeData.Decode(small));
        long largeWork = LinearParsingTests.Work(() => back = ResumeData.Decode(large));
        Assert.Equal(ResumeDataTests.Sample().SavePath, back!.SavePath); // unknown keys are ignored, the rest is read
        LinearParsingTests.AssertLinear(smallWork, largeWork, "a resume file with 4000 vs 8000 unknown keys");
    }

    [Fact]
    public void A_changed_unknown_key_still_fails_the_checksum()
    {
        var bytes = WithExtraKeys(100);
        int at = bytes.AsSpan().IndexOf("x-000050i50e"u8);
        bytes[at + 10] = (byte)'1';
        var e = Assert.Throws<ResumeException>(() => ResumeData.Decode(bytes));
        Assert.Contains("checksum", e.Message);
    }
}
