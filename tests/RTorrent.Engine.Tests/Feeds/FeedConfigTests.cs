using RTorrent.Engine.Feeds;

namespace RTorrent.Engine.Tests.Feeds;

public sealed class FeedConfigTests
{
    [Fact]
    public void A_bad_url_is_refused_with_the_reason() =>
        Assert.Contains("url must be an http or https address", Assert.Throws<FormatException>(() => FeedConfig.Parse("{ \"feeds\": [ { \"name\": \"x\", \"url\": \"ftp://nope\" } ] }"u8)).Message);

    [Fact]
    public void Round_trips_and_fills_defaults()
    {
        var config = FeedConfig.Parse("""
            { // comments and trailing commas are fine, as in settings.json
              "feeds": [ { "name": "tv", "url": "https://showrss.info/user/1.rss" }, ],
              "rules": [ { "name": "show", "mustContain": "show 1080p", "smartFilter": true, "category": "tv" } ]
            }
            """u8);
        var feed = Assert.Single(config.Feeds);
        Assert.Equal((30, "rss", true), (feed.IntervalMinutes, feed.Source, feed.Enabled));
        var rule = Assert.Single(config.Rules);
        Assert.True(rule.Enabled);
        Assert.Empty(rule.Feeds);
        var again = FeedConfig.Parse(config.Serialize());
        Assert.Equal(config.Feeds[0], again.Feeds[0]);
        Assert.Equal(config.Rules[0].MustContain, again.Rules[0].MustContain);
    }

    [Theory]
    [InlineData("{ \"feeds\": [ { \"url\": \"https://x/\" } ] }", "name")]
    [InlineData("{ \"feeds\": 3 }", "not valid")]
    [InlineData("[1,2]", "not valid")]
    [InlineData("null", "must hold a JSON object")]
    public void Malformed_files_are_refused(string json, string expected) =>
        Assert.Contains(expected, Assert.Throws<FormatException>(() => FeedConfig.Parse(System.Text.Encoding.UTF8.GetBytes(json))).Message);
}
