using RTorrent.Engine.Client;
using RTorrent.Tui;

namespace RTorrent.Tests.Tui;

/// <summary>
/// A refresh that brings the same torrents with a few changed moves only those few (TorrentList.TryUpdateInPlace);
/// the result must always be what sorting the whole list again gives.
/// </summary>
public class ListUpdateTests
{
    private static List<TorrentSnapshot> Torrents(int n, Random random) =>
    [
        .. Enumerable.Range(0, n).Select(i => FakeBackend.Snapshot($"t{random.Next(50):00}-{i}", 1L << random.Next(10, 30),
            random.Next(5) / 4.0, (TorrentState)random.Next(Enum.GetValues<TorrentState>().Length), down: random.Next(3) * 1000,
            up: random.Next(3) * 1000, peers: random.Next(4), ratio: random.Next(4) / 2.0)),
    ];

    private static TorrentSnapshot Change(TorrentSnapshot t, Random random) => random.Next(4) switch
    {
        0 => t with { UploadRate = random.Next(3) * 1000 },
        1 => t with { State = (TorrentState)random.Next(Enum.GetValues<TorrentState>().Length) },
        2 => t with { Progress = random.Next(5) / 4.0, Ratio = random.Next(4) / 2.0 },
        _ => t with { Size = 1L << random.Next(10, 30), DownloadRate = random.Next(3) * 1000 },
    };

    [Theory]
    [InlineData(TorrentColumn.Name, StateFilter.All, "")]
    [InlineData(TorrentColumn.Up, StateFilter.All, "")]
    [InlineData(TorrentColumn.State, StateFilter.Seeding, "")]
    [InlineData(TorrentColumn.Progress, StateFilter.Active, "t1")]
    [InlineData(TorrentColumn.Ratio, StateFilter.Downloading, "")]
    public void Refreshes_that_change_a_few_torrents_give_the_order_a_full_sort_gives_without_one(TorrentColumn sort, StateFilter filter, string find)
    {
        var random = new Random(7);
        List<TorrentSnapshot> torrents = Torrents(500, random);
        var list = new TorrentList();
        list.Update(torrents);
        list.SortBy(sort);
        list.SetFilter(filter);
        list.SetNameFilter(find);
        int rebuilds = list.FullRebuilds;

        for (int refresh = 0; refresh < 50; refresh++)
        {
            torrents = [.. torrents];
            for (int k = 0; k < 1 + refresh % 5; k++)
            {
                int i = random.Next(torrents.Count);
                torrents[i] = Change(torrents[i], random);
            }
            Assert.True(list.Update(torrents));

            var full = new TorrentList();
            full.Update(torrents);
            if (full.SortColumn != sort || full.Descending != list.Descending) full.SortBy(sort);
            if (full.Descending != list.Descending) full.ReverseSort();
            full.SetFilter(filter);
            full.SetNameFilter(find);
            Assert.Equal(full.Rows, list.Rows);
        }
        Assert.Equal(rebuilds, list.FullRebuilds);
    }

    [Fact]
    public void The_same_torrents_again_change_nothing_and_an_equal_copy_is_taken_in_place()
    {
        List<TorrentSnapshot> torrents = Torrents(100, new Random(3));
        var list = new TorrentList();
        Assert.True(list.Update(torrents));
        Assert.False(list.Update([.. torrents]));

        List<TorrentSnapshot> copies = [.. torrents];
        copies[10] = copies[10] with { };
        Assert.False(list.Update(copies)); // equal values: nothing to show again
        Assert.Contains(copies[10], list.Rows.Where(t => ReferenceEquals(t, copies[10])));
        Assert.Equal(1, list.FullRebuilds);
    }

    [Fact]
    public void A_new_or_removed_torrent_or_a_new_order_sorts_the_list_again()
    {
        List<TorrentSnapshot> torrents = Torrents(100, new Random(5));
        var list = new TorrentList();
        list.Update(torrents);

        list.Update([.. torrents, FakeBackend.Snapshot("new", 1, 0, TorrentState.Queued)]);
        Assert.Equal(2, list.FullRebuilds);
        Assert.Contains(list.Rows, t => t.Name == "new");

        list.Update(torrents);
        Assert.Equal(3, list.FullRebuilds);
        Assert.DoesNotContain(list.Rows, t => t.Name == "new");

        list.Update([.. Enumerable.Reverse(torrents)]);
        Assert.Equal(4, list.FullRebuilds);
        Assert.Equal(100, list.Rows.Count);
    }

    [Fact]
    public void Ids_are_found_without_a_walk_of_the_list()
    {
        List<TorrentSnapshot> torrents = Torrents(1000, new Random(9));
        var list = new TorrentList();
        list.Update(torrents);
        list.SortBy(TorrentColumn.Size);
        for (int row = 0; row < list.Rows.Count; row += 37)
        {
            Assert.Equal(row, list.IndexOf(list.Rows[row].Id));
            Assert.Same(list.Rows[row], list.Find(list.Rows[row].Id));
        }
        list.SetFilter(StateFilter.Seeding);
        TorrentSnapshot hidden = torrents.First(t => t.State != TorrentState.Seeding);
        Assert.Equal(-1, list.IndexOf(hidden.Id));
        Assert.Same(hidden, list.Find(hidden.Id)); // still in the session
        Assert.Equal(-1, list.IndexOf("nope"));
    }
}
