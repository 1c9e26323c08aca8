using RTorrent.Engine.Bencode;

namespace RTorrent.Engine.Tests.Bencode;

public class BencodeRoundTripTests
{
    [Fact]
    public void Encoding_sorts_keys_by_raw_bytes()
    {
        var d = new BDictionary { ["zeta"] = new BInteger(1), ["Alpha"] = new BString("x"), ["alpha"] = new BList { new BInteger(-5) } };
        Assert.Equal("d5:Alpha1:x5:alphali-5ee4:zetai1ee", System.Text.Encoding.ASCII.GetString(BencodeWriter.Encode(d)));
    }

    [Fact]
    public void Raw_bytes_of_a_nested_value_are_exactly_the_input_even_when_unsorted()
    {
        var input = "d4:infod1:bi1e1:ai2ee1:xi0ee"u8.ToArray();
        var d = (BDictionary)BencodeReader.Decode(input);
        var info = d.Get<BDictionary>("info")!;
        Assert.False(info.KeysCanonical);
        Assert.Equal("d1:bi1e1:ai2ee", System.Text.Encoding.ASCII.GetString(info.RawBytes.Span));
    }

    [Fact]
    public void Random_valid_structures_round_trip()
    {
        var rng = new Random(1234);
        for (int i = 0; i < 2000; i++)
        {
            var value = RandomValue(rng, 0);
            var encoded = BencodeWriter.Encode(value);
            var decoded = BencodeReader.Decode(encoded);
            Assert.Equal(encoded, BencodeWriter.Encode(decoded));
            Assert.Equal(encoded.Length, decoded.SourceLength);
        }
    }

    [Fact]
    public void Random_mutations_only_ever_throw_BencodeException()
    {
        var rng = new Random(99);
        for (int i = 0; i < 3000; i++)
        {
            var encoded = BencodeWriter.Encode(RandomValue(rng, 0));
            for (int m = rng.Next(1, 4); m > 0; m--)
                encoded[rng.Next(encoded.Length)] = (byte)rng.Next(256);
            try { BencodeReader.Decode(encoded); }
            catch (BencodeException) { }
        }
    }

    private static BValue RandomValue(Random rng, int depth)
    {
        int kind = depth > 4 ? rng.Next(2) : rng.Next(4);
        switch (kind)
        {
            case 0: return new BInteger(rng.NextInt64(long.MinValue, long.MaxValue) >> rng.Next(64));
            case 1:
                var bytes = new byte[rng.Next(0, 40)];
                rng.NextBytes(bytes);
                return new BString(bytes);
            case 2:
                var l = new BList();
                for (int i = rng.Next(0, 6); i > 0; i--) l.Add(RandomValue(rng, depth + 1));
                return l;
            default:
                var d = new BDictionary();
                for (int i = rng.Next(0, 6); i > 0; i--) d["k" + rng.Next(100)] = RandomValue(rng, depth + 1);
                return d;
        }
    }
}
