using RTorrent.Engine.Bencode;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Tests.Metainfo;

/// <summary>
/// Issue 14: inputs a stranger can publish (magnet links, metadata fetched for a magnet, .torrent files) must cost work in
/// proportion to their size. The work is counted (<see cref="ParseWork"/>), never timed: the tests compare the work
/// on a hostile input of size n with the work on one of size 2n, or bound the work per byte of input.
/// </summary>
public class LinearParsingTests
{
    internal static long Work(Action parse)
    {
        long before = ParseWork.Units;
        parse();
        return ParseWork.Units - before;
    }

    internal static void AssertLinear(long small, long large, string what)
    {
        // Twice the input may cost a little more than twice the work (fixed costs are a smaller share of the small
        // one), never four times: that is the quadratic growth this guards against.
        Assert.True(large <= 2.5 * Math.Max(small, 1), $"{what}: work {small} at size n but {large} at size 2n");
    }

    // ------------------------------------------------------------------ magnet links

    private const string Btih = "magnet:?xt=urn:btih:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd";

    [Fact]
    public void Repeated_so_ranges_cost_work_in_proportion_to_the_link_not_to_the_ranges_they_cover()
    {
        // The fuzzer's 22 KB link: the whole index range, over and over, took over a second.
        var uri = Btih + "&so=" + string.Join(',', Enumerable.Repeat("0-10000", 2800));
        MagnetLink? link = null;
        long work = Work(() => link = MagnetLink.Parse(uri));
        Assert.Equal(MagnetLink.MaxSelectedFileIndex + 1, link!.SelectedFiles!.Count);
        Assert.Equal(Enumerable.Range(0, MagnetLink.MaxSelectedFileIndex + 1), link.SelectedFiles);
        // One pass over the link, plus one over the index range for the whole link (not one per range).
        long bound = 4L * uri.Length + 2L * (MagnetLink.MaxSelectedFileIndex + 1);
        Assert.True(work <= bound, $"parsing a {uri.Length}-character link took {work} units of work; at most {bound} expected");
    }

    [Fact]
    public void Many_so_parameters_cost_work_in_proportion_to_the_link()
    {
        var uri = Btih + string.Concat(Enumerable.Repeat("&so=0-10000", 2000));
        MagnetLink? link = null;
        long work = Work(() => link = MagnetLink.Parse(uri));
        Assert.Equal(MagnetLink.MaxSelectedFileIndex + 1, link!.SelectedFiles!.Count);
        long bound = 4L * uri.Length + 2L * (MagnetLink.MaxSelectedFileIndex + 1);
        Assert.True(work <= bound, $"parsing a {uri.Length}-character link took {work} units of work; at most {bound} expected");
    }

    [Fact]
    public void A_magnet_link_longer_than_the_limit_is_refused_with_an_error_naming_the_limit()
    {
        var atLimit = Btih + "&dn=" + new string('a', MagnetLink.MaxLength - Btih.Length - 4);
        Assert.Equal(MagnetLink.MaxLength, atLimit.Length);
        Assert.Equal(MagnetLink.MaxLength - Btih.Length - 4, MagnetLink.Parse(atLimit).Name!.Length);

        var e = Assert.Throws<MagnetFormatException>(() => MagnetLink.Parse(atLimit + "a"));
        Assert.Equal(MagnetError.TooLong, e.Error);
        Assert.Contains($"limit is {MagnetLink.MaxLength}", e.Message);
    }
}
