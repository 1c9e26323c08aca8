using RTorrent.Engine.Client;

namespace RTorrent.Engine.Tests.Client;

public sealed class EquatableListTests
{
    [Fact]
    public void Snapshots_whose_lists_hold_the_same_items_are_equal_whatever_the_list_instances()
    {
        TorrentSnapshot Make(string[] labels, string[][] tiers) => new()
        {
            Id = "a", Name = "n", State = TorrentState.Seeding, SavePath = "/d",
            Labels = EquatableList.Of(labels),
            Trackers = EquatableList.OfTiers(tiers),
        };
        var one = Make(["tv", "hd"], [["http://a/announce", "http://b/announce"], ["udp://c:80"]]);
        var two = Make(["tv", "hd"], [["http://a/announce", "http://b/announce"], ["udp://c:80"]]);
        Assert.NotSame(one.Labels, two.Labels);
        Assert.Equal(one, two);
        Assert.Equal(one.GetHashCode(), two.GetHashCode());
        Assert.NotEqual(one, Make(["hd", "tv"], [["http://a/announce", "http://b/announce"], ["udp://c:80"]]));
        Assert.NotEqual(one, Make(["tv", "hd"], [["http://a/announce"], ["http://b/announce"], ["udp://c:80"]]));
    }

    [Fact]
    public void Collection_expressions_and_empty_lists()
    {
        EquatableList<string> labels = ["x", "y"];
        Assert.Equal(EquatableList.Of(new List<string> { "x", "y" }), labels);
        EquatableList<string> none = [];
        Assert.Same(EquatableList<string>.Empty, none);
        Assert.Same(EquatableList<string>.Empty, EquatableList.Of<string>(null));
        Assert.Equal("[x, y]", labels.ToString());
    }
}
