using RTorrent.Engine.Feeds;

namespace RTorrent.Engine.Tests.Feeds;

public sealed class FeedPatternTests
{
    [Theory]
    [InlineData("show name 1080p", "Show.Name.S01E02.1080p.WEB", true)] // every word, anywhere, any case
    [InlineData("show name 1080p", "Show.Name.S01E02.720p.WEB", false)]
    [InlineData("show*1080p", "Show.Name.S01E02.1080p", true)]
    [InlineData("S01E0?", "Show.S01E05.720p", true)]
    [InlineData("S01E0?", "Show.S01E15.720p", false)]
    [InlineData("show 1080p|show 720p", "Show.720p", true)] // alternatives
    [InlineData("show 1080p|show 720p", "Show.480p", false)]
    [InlineData("a.b", "aXb", false)] // a dot is a dot in wildcards
    [InlineData("[GRP]", "[GRP] Show", true)]
    public void Wildcards(string pattern, string title, bool expected) =>
        Assert.Equal(expected, FeedPattern.Parse(pattern, regex: false).Matches(title));

    [Theory]
    [InlineData(@"^Show\.Name\.S\d+E\d+\.1080p", "Show.Name.S01E02.1080p.WEB", true)]
    [InlineData(@"^Show\.Name\.S\d+E\d+\.1080p", "Other.Show.Name.S01E02.1080p", false)]
    [InlineData("(720p|1080p)", "x.1080P.y", true)]
    public void Regex(string pattern, string title, bool expected) =>
        Assert.Equal(expected, FeedPattern.Parse(pattern, regex: true).Matches(title));

    [Fact]
    public void An_empty_pattern_is_empty_and_matches_nothing_by_itself()
    {
        var p = FeedPattern.Parse("  ", regex: false);
        Assert.True(p.IsEmpty);
        Assert.False(p.Matches("anything"));
    }

    [Fact]
    public void A_bad_regex_is_refused_with_the_reason() =>
        Assert.Contains("not a valid regular expression", Assert.Throws<ArgumentException>(() => FeedPattern.Parse("(unclosed", regex: true)).Message);

    [Fact]
    public void A_catastrophic_regex_times_out_as_no_match()
    {
        var p = FeedPattern.Parse("^(a+)+$", regex: true);
        Assert.False(p.Matches(new string('a', 5000) + "!"));
    }
}
