using RTorrent.Engine.Feeds;

namespace RTorrent.Engine.Tests.Feeds;

/// <summary>feeds-set (an RPC caller) cannot make the session poll or match without bound.</summary>
public class FeedConfigCapTests
{
    [Fact]
    public void Too_many_feeds_or_rules_are_refused_with_the_bound()
    {
        var config = new FeedConfig
        {
            Feeds = [.. Enumerable.Range(0, FeedConfig.MaxFeeds + 1).Select(i => new FeedDefinition { Name = $"f{i}", Url = $"http://127.0.0.1/{i}" })],
            Rules = [.. Enumerable.Range(0, FeedConfig.MaxRules + 1).Select(i => new FeedRule { Name = $"r{i}", MustContain = "x" })],
        };
        var errors = config.Validate();
        Assert.Contains($"feeds: at most {FeedConfig.MaxFeeds}, not {FeedConfig.MaxFeeds + 1}", errors);
        Assert.Contains($"rules: at most {FeedConfig.MaxRules}, not {FeedConfig.MaxRules + 1}", errors);
        Assert.Empty(new FeedConfig { Feeds = config.Feeds.Take(FeedConfig.MaxFeeds).ToArray(), Rules = config.Rules.Take(FeedConfig.MaxRules).ToArray() }.Validate());
    }
}
