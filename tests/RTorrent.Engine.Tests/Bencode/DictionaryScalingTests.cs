using System.Text;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Tests.Metainfo;

namespace RTorrent.Engine.Tests.Bencode;

/// <summary>Issue 14: a dictionary's cost follows its number of keys, built or decoded (work counted, not timed).</summary>
public class DictionaryScalingTests
{
    private static BDictionary Build(int keys)
    {
        var d = new BDictionary();
        for (int i = 0; i < keys; i++) d[$"key-{i}"] = new BInteger(i);
        return d;
    }

    [Fact]
    public void Building_a_dictionary_costs_work_in_proportion_to_its_keys()
    {
        long small = LinearParsingTests.Work(() => Build(5000));
        long large = LinearParsingTests.Work(() => Build(10000));
        LinearParsingTests.AssertLinear(small, large, "building a dictionary of 5000 vs 10000 keys");
    }

    [Fact]
    public void Setting_replaces_in_place_and_lookups_see_every_key_added_after_the_index_was_made()
    {
        var d = Build(100);
        Assert.Equal(7, d.GetInteger("key-7")); // makes the index
        d["key-7"] = new BInteger(-7);
        d["added"] = new BInteger(1);
        Assert.Equal(-7, d.GetInteger("key-7"));
        Assert.Equal(1, d.GetInteger("added"));
        Assert.Equal(101, d.Count);
        Assert.Equal("key-7", d.Entries[7].Key.Text); // replaced where it was
        Assert.Null(d["missing"]);
    }

    [Fact]
    public void Lookups_in_a_decoded_dictionary_find_the_first_of_repeated_keys_whatever_its_size()
    {
        foreach (int n in new[] { 3, 40 })
        {
            var sb = new StringBuilder("d");
            for (int i = 0; i < n; i++) sb.Append($"1:ai{i}e");
            sb.Append('e');
            var d = BencodeReader.DecodeDictionary(Encoding.ASCII.GetBytes(sb.ToString()));
            Assert.Equal(n, d.Count);
            Assert.Equal(0, d.GetInteger("a"));
        }
    }
}
