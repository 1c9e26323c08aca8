using RTorrent.Engine.Feeds;

namespace RTorrent.Engine.Tests.Feeds;

public sealed class EpisodeIdTests
{
    [Theory]
    [InlineData("Show.Name.S01E02.1080p.WEB.h264-GRP", "S01E02")]
    [InlineData("show name s1e2 720p", "S01E02")]
    [InlineData("Show Name - S01 E02 - Title", "S01E02")]
    [InlineData("Show Name 1x02 Title 720p", "S01E02")]
    [InlineData("[Group] Show Name 10x123 [1080p]", "S10E123")]
    [InlineData("Show.Name.S01E02-E03.720p", "S01E02,S01E03")]
    [InlineData("Show.Name.S01E02E03.720p", "S01E02,S01E03")]
    [InlineData("Show.Name.S01E02-03.720p", "S01E02,S01E03")]
    [InlineData("Daily.Show.2024.01.15.Guest.720p", "2024-01-15")]
    [InlineData("Daily Show 2024-1-5 Guest", "2024-01-05")]
    [InlineData("Daily Show 15.01.2024 Guest", "2024-01-15")]
    [InlineData("Daily Show 01.15.2024 Guest", "2024-01-15")]
    public void Episodes_are_read_and_normalised(string title, string expected)
    {
        var id = EpisodeId.Parse(title);
        Assert.NotNull(id);
        Assert.Equal(expected, string.Join(",", id.Episodes));
        Assert.False(id.IsRepack);
    }

    [Theory]
    [InlineData("Show.Name.S01.COMPLETE.1080p")] // a season pack
    [InlineData("A Film 2023 1080p BluRay")] // a year is not a date
    [InlineData("Resolution 1920x1080")]
    [InlineData("Daily Show 2024.13.45")]
    public void Titles_without_an_episode_have_none(string title) => Assert.Null(EpisodeId.Parse(title));

    [Theory]
    [InlineData("Show.Name.S01E02.PROPER.1080p")]
    [InlineData("Show.Name.S01E02.REPACK.720p")]
    [InlineData("show name s01e02 repack")]
    public void Proper_and_repack_are_told_apart(string title)
    {
        var id = EpisodeId.Parse(title)!;
        Assert.True(id.IsRepack);
        Assert.Equal(["S01E02-repack"], id.Keys);
    }

    [Fact]
    public void A_word_containing_proper_is_not_a_repack() =>
        Assert.False(EpisodeId.Parse("Show.Name.S01E02.Improper.Conduct")!.IsRepack);
}
