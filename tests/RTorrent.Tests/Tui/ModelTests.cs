using RTorrent.Abstractions;
using RTorrent.Engine.Client;
using RTorrent.Tui;

namespace RTorrent.Tests.Tui;

public class ModelTests
{
    private static readonly TorrentSnapshot Alpha = FakeBackend.Snapshot("alpha", 300, 0.5, TorrentState.Downloading, down: 100, peers: 2, known: 9, ratio: 0.1, eta: TimeSpan.FromMinutes(5));
    private static readonly TorrentSnapshot Beta = FakeBackend.Snapshot("Beta", 100, 1, TorrentState.Seeding, up: 50, peers: 1, known: 4, ratio: 2.5);
    private static readonly TorrentSnapshot Gamma = FakeBackend.Snapshot("gamma", 200, 0.2, TorrentState.Stopped, ratio: 0.0);
    private static readonly TorrentSnapshot Delta = FakeBackend.Snapshot("delta", 200, 0.0, TorrentState.Error, error: "disk full");

    private static string Names(TorrentList list) => string.Join(",", list.Rows.Select(t => t.Name));

    [Fact]
    public void The_list_sorts_by_name_by_default_ignoring_case()
    {
        var list = new TorrentList();
        list.Update([Gamma, Beta, Delta, Alpha]);
        Assert.Equal("alpha,Beta,delta,gamma", Names(list));
    }

    [Fact]
    public void Sorting_by_the_same_column_again_reverses_and_numbers_start_largest_first()
    {
        var list = new TorrentList();
        list.Update([Gamma, Beta, Delta, Alpha]);
        list.SortBy(TorrentColumn.Size);
        Assert.True(list.Descending);
        Assert.Equal("alpha,delta,gamma,Beta", Names(list)); // equal sizes fall back to the name
        list.SortBy(TorrentColumn.Size);
        Assert.False(list.Descending);
        Assert.Equal("Beta,delta,gamma,alpha", Names(list));
    }

    [Fact]
    public void Every_column_is_a_sort_key()
    {
        var list = new TorrentList();
        list.Update([Gamma, Beta, Delta, Alpha]);
        var orders = new Dictionary<TorrentColumn, string>();
        foreach (TorrentColumn column in Enum.GetValues<TorrentColumn>())
        {
            list.SortBy(column);
            if (list.SortColumn == column && list.Descending != (column is TorrentColumn.Size or TorrentColumn.Progress
                    or TorrentColumn.Down or TorrentColumn.Up or TorrentColumn.Peers or TorrentColumn.Ratio))
            {
                list.ReverseSort();
            }
            orders[column] = Names(list);
        }
        Assert.Equal("Beta,alpha,gamma,delta", orders[TorrentColumn.Progress]);
        Assert.Equal("delta,alpha,Beta,gamma", orders[TorrentColumn.State]); // errors first
        Assert.Equal("alpha,Beta,delta,gamma", orders[TorrentColumn.Down]);
        Assert.Equal("Beta,alpha,delta,gamma", orders[TorrentColumn.Up]);
        Assert.Equal("alpha,Beta,delta,gamma", orders[TorrentColumn.Peers]);
        Assert.Equal("Beta,alpha,delta,gamma", orders[TorrentColumn.Ratio]);
        Assert.Equal("alpha,Beta,delta,gamma", orders[TorrentColumn.Eta]); // unknown ETA last
    }

    [Fact]
    public void Cycling_the_sort_walks_the_columns_and_wraps()
    {
        var list = new TorrentList();
        list.CycleSort(1);
        Assert.Equal(TorrentColumn.Size, list.SortColumn);
        list.CycleSort(-1);
        list.CycleSort(-1);
        Assert.Equal(TorrentColumn.Eta, list.SortColumn);
        Assert.False(list.Descending);
    }

    [Theory]
    [InlineData(StateFilter.All, "alpha,Beta,delta,gamma")]
    [InlineData(StateFilter.Downloading, "alpha")]
    [InlineData(StateFilter.Seeding, "Beta")]
    [InlineData(StateFilter.Active, "alpha,Beta")]
    [InlineData(StateFilter.Paused, "gamma")]
    [InlineData(StateFilter.Error, "delta")]
    [InlineData(StateFilter.Checking, "")]
    public void State_filters_show_only_their_torrents(StateFilter filter, string expected)
    {
        var list = new TorrentList();
        list.Update([Gamma, Beta, Delta, Alpha]);
        list.SetFilter(filter);
        Assert.Equal(expected, Names(list));
        Assert.Equal(4, list.All.Count);
    }

    [Fact]
    public void The_name_filter_needs_every_word_in_any_case()
    {
        var list = new TorrentList();
        list.Update([FakeBackend.Snapshot("Ubuntu 24.04 desktop", 1, 1, TorrentState.Seeding),
            FakeBackend.Snapshot("ubuntu server", 1, 1, TorrentState.Seeding), Alpha]);
        list.SetNameFilter("UBUNTU");
        Assert.Equal(2, list.Rows.Count);
        list.SetNameFilter(" ubuntu desk ");
        Assert.Equal("Ubuntu 24.04 desktop", Assert.Single(list.Rows).Name);
        Assert.Equal("ubuntu desk", list.NameFilter);
        list.SetNameFilter("");
        Assert.Equal(3, list.Rows.Count);
        Assert.Equal(-1, list.IndexOf("nope"));
        Assert.Equal(0, list.IndexOf(Alpha.Id));
    }

    [Fact]
    public void The_host_column_sorts_and_counts_in_the_sort_cycle_only_when_torrents_have_hosts()
    {
        var list = new TorrentList();
        list.Update([Gamma, Beta, Delta, Alpha]);
        Assert.False(list.HasHosts);
        list.CycleSort(1);
        Assert.Equal(TorrentColumn.Size, list.SortColumn); // past the hidden Host column

        list.Update([Gamma with { Host = "nas" }, Beta with { Host = "seedbox" }, Delta with { Host = "nas" }, Alpha with { Host = "seedbox" }]);
        Assert.True(list.HasHosts);
        list.CycleSort(-1);
        Assert.Equal(TorrentColumn.Host, list.SortColumn);
        Assert.False(list.Descending);
        Assert.Equal("delta,gamma,alpha,Beta", Names(list)); // one host's torrents by name, then the next host's
    }

    [Fact]
    public void A_host_column_is_as_wide_as_the_longest_host_name_within_bounds()
    {
        int[] w = TorrentColumns.Compute(80, 7);
        Assert.Equal(7, w[(int)TorrentColumn.Host]);
        Assert.Equal(80, w.Where(x => x > 0).Sum(x => x + 1));
        Assert.True(w[(int)TorrentColumn.Name] >= TorrentColumns.MinNameWidth);
        Assert.Equal(0, w[(int)TorrentColumn.Ratio]); // the ratio gives way for it at 80 columns
        Assert.Equal(0, TorrentColumns.Compute(80)[(int)TorrentColumn.Host]);
        Assert.Equal(TorrentColumns.MaxHostWidth, TorrentColumns.Compute(120, 40)[(int)TorrentColumn.Host]);
        Assert.Equal(4, TorrentColumns.Compute(120, 2)[(int)TorrentColumn.Host]); // room for its header
    }

    [Theory]
    [InlineData(80)]
    [InlineData(100)]
    [InlineData(132)]
    [InlineData(200)]
    [InlineData(60)]
    public void Column_widths_fill_the_screen_and_keep_names_readable(int width)
    {
        int[] w = TorrentColumns.Compute(width);
        int used = w.Where(x => x > 0).Sum(x => x + 1);
        Assert.Equal(width, used);
        Assert.True(w[(int)TorrentColumn.Name] >= Math.Min(TorrentColumns.MinNameWidth, width / 4), $"name {w[0]} at {width}");
        Assert.True(w[(int)TorrentColumn.Progress] >= 11);
        Assert.True(w[(int)TorrentColumn.State] >= 12);
    }

    [Fact]
    public void Narrow_screens_hide_ratio_first_and_wide_ones_grow_the_bar()
    {
        Assert.True(TorrentColumns.Compute(80)[(int)TorrentColumn.Ratio] > 0);
        Assert.Equal(0, TorrentColumns.Compute(76)[(int)TorrentColumn.Ratio]);
        Assert.True(TorrentColumns.Compute(76)[(int)TorrentColumn.Peers] > 0);
        Assert.Equal(0, TorrentColumns.Compute(70)[(int)TorrentColumn.Peers]);
        Assert.True(TorrentColumns.Compute(160)[(int)TorrentColumn.Progress] > TorrentColumns.Compute(80)[(int)TorrentColumn.Progress]);
    }

    [Theory]
    [InlineData('a', 0, 1024)]
    [InlineData('a', 1024, 2048)]
    [InlineData('s', 1024, 6 * 1024)]
    [InlineData('d', 0, 50 * 1024)]
    [InlineData('z', 1024, 0)]
    [InlineData('z', 0, 0)]
    [InlineData('x', 3 * 1024, 0)]
    [InlineData('c', 100 * 1024, 50 * 1024)]
    public void Throttle_keys_step_the_upload_limit_like_rtorrent(char key, long before, long after)
    {
        (Throttle.Direction direction, long delta) = Throttle.ForKey(key)!.Value;
        Assert.Equal(Throttle.Direction.Upload, direction);
        Assert.Equal(after, Throttle.Apply(before, delta));
    }

    [Fact]
    public void Capital_throttle_keys_change_the_download_limit()
    {
        foreach (char c in "AZSXDC") Assert.Equal(Throttle.Direction.Download, Throttle.ForKey(c)!.Value.Direction);
        Assert.Equal(50 * 1024, Throttle.ForKey('D')!.Value.Delta);
        Assert.Equal(-5 * 1024, Throttle.ForKey('X')!.Value.Delta);
        Assert.Null(Throttle.ForKey('q'));
    }

    [Fact]
    public void Rate_history_averages_samples_into_buckets_and_fills_gaps_with_zero()
    {
        var history = new RateHistory(TimeSpan.FromSeconds(2), 4);
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        history.Add(t0, 100, 10);
        history.Add(t0.AddSeconds(1), 300, 30);
        Assert.Equal(0, history.Count); // the bucket is still open
        history.Add(t0.AddSeconds(2), 50, 5);
        Assert.Equal(1, history.Count);
        history.Add(t0.AddSeconds(8), 70, 7); // skips two buckets
        (long[] down, long[] up) = history.Latest(10);
        Assert.Equal([200, 50, 0, 0], down);
        Assert.Equal([20, 5, 0, 0], up);
        history.Add(t0.AddSeconds(10), 1, 1);
        Assert.Equal([50, 0, 0, 70], history.Latest(10).Down); // the ring keeps the newest four
        Assert.Equal([0, 70], history.Latest(2).Down);
    }

    [Fact]
    public void Sparklines_scale_to_their_maximum_and_keep_the_newest_value_at_the_right()
    {
        const string levels = " ._-=+*#@";
        Assert.Equal("   .@", Sparkline.Render([1, 100], 5, levels));
        Assert.Equal(" .#@", Sparkline.Render([0, 1, 90, 100], 4, levels));
        Assert.Equal("@@", Sparkline.Render([5, 5, 5], 2, levels));
        Assert.Equal("   ", Sparkline.Render([0, 0, 0], 3, levels));
        Assert.Equal("", Sparkline.Render([1], 0, levels));
    }

    [Fact]
    public void Piece_maps_fold_pieces_into_cells_with_distinct_characters()
    {
        PieceDisplayState H = PieceDisplayState.Have, M = PieceDisplayState.Missing, D = PieceDisplayState.Downloading, S = PieceDisplayState.Skipped;
        PieceCell[] one = PieceMap.Fold(new[] { H, M, D, S }, 1);
        Assert.Equal("#.+-", new string([.. one.Select(PieceMap.Glyph)]));
        PieceCell[] two = PieceMap.Fold(new[] { H, H, H, M, M, D, S, S, H, S }, 2);
        Assert.Equal("#:+-#", new string([.. two.Select(PieceMap.Glyph)]));
        Assert.Equal(4, PieceMap.PiecesPerCell(1000, 250));
        Assert.Equal(1, PieceMap.PiecesPerCell(10, 250));
        Assert.Equal(5, new[] { '#', ':', '+', '.', '-' }.Distinct().Count());
    }

    [Fact]
    public void The_file_tree_groups_files_by_folder_with_sums_and_mixed_priorities()
    {
        var tree = new FileTree();
        tree.Update(
        [
            new FileSnapshot { Index = 0, Path = "disc1/a.bin", Length = 100, Done = 100, Priority = Priority.Normal },
            new FileSnapshot { Index = 1, Path = "disc1/b.bin", Length = 300, Done = 0, Priority = Priority.Skip },
            new FileSnapshot { Index = 2, Path = "disc1/sub/c.bin", Length = 50, Done = 25, Priority = Priority.High },
            new FileSnapshot { Index = 3, Path = "readme.txt", Length = 10, Done = 10, Priority = Priority.Normal },
        ]);
        Assert.Equal(["disc1", "disc1/sub", "disc1/sub/c.bin", "disc1/a.bin", "disc1/b.bin", "readme.txt"], tree.Rows.Select(r => r.Path));
        FileTreeRow disc = tree.Rows[0];
        Assert.True(disc.IsFolder);
        Assert.Equal(450, disc.Length);
        Assert.Equal(125, disc.Done);
        Assert.Null(disc.Priority);
        Assert.Equal("mixed", FileTree.PriorityName(disc.Priority));
        Assert.Equal([0, 1, 2], disc.FileIndexes.Order());
        Assert.Equal(Priority.High, tree.Rows[1].Priority);
        Assert.Equal(2, tree.Rows[2].Depth);
        Assert.Equal(0, tree.ParentOf(3));
        Assert.Equal(-1, tree.ParentOf(5));

        Assert.True(tree.SetExpanded(0, false));
        Assert.Equal(["disc1", "readme.txt"], tree.Rows.Select(r => r.Path));
        tree.Update([.. tree.Rows.Select((_, i) => new FileSnapshot { Index = i, Path = i == 0 ? "disc1/a.bin" : "readme.txt", Length = 1 })]);
        Assert.False(tree.Rows[0].Expanded); // stays closed across updates
        Assert.False(tree.Toggle(1)); // a file
        Assert.True(tree.Toggle(0));
        Assert.Equal(3, tree.Rows.Count);
    }

    [Fact]
    public void Priority_steps_go_skip_low_normal_high()
    {
        Assert.Equal(Priority.Low, FileTree.Raise(Priority.Skip));
        Assert.Equal(Priority.High, FileTree.Raise(Priority.High));
        Assert.Equal(Priority.High, FileTree.Raise(null));
        Assert.Equal(Priority.Skip, FileTree.Lower(Priority.Low));
        Assert.Equal(Priority.Low, FileTree.Lower(null));
        Assert.Equal(Priority.Normal, FileTree.ToggleSkip(Priority.Skip));
        Assert.Equal(Priority.Skip, FileTree.ToggleSkip(null));
    }

    [Fact]
    public void Big_torrents_start_with_folders_closed()
    {
        var tree = new FileTree();
        tree.Update([.. Enumerable.Range(0, FileTree.ExpandAllLimit + 1).Select(i => new FileSnapshot { Index = i, Path = $"d{i % 3}/f{i}", Length = 1 })]);
        Assert.Equal(3, tree.Rows.Count);
    }
}
