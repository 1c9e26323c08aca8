using RTorrent.Engine.Client;
using RTorrent.Tui;
using RTorrent.Tui.Dialogs;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.Views;

namespace RTorrent.Tests.Tui;

/// <summary>Categories and tags in the interface (docs/CATEGORIES.md): g, G, v/V, and the list's category and tag filter.</summary>
[Collection(TuiCollection.Name)]
public sealed class CategoryKeysTests
{
    private static TorrentSnapshot T(string name, string category = "", params string[] tags) =>
        FakeBackend.Snapshot(name, 1000, 1, TorrentState.Seeding) with { Category = category, Labels = EquatableList.Of(tags) };

    [Fact]
    public void The_filter_offers_all_each_category_no_category_and_each_tag_and_shows_only_what_matches()
    {
        var list = new TorrentList();
        list.Update([T("a", "tv", "hd"), T("b", "", "hd", "old"), T("c", "Movies")]);
        Assert.Equal(["", "category Movies", "category spare", "category tv", "no category", "tag hd", "tag old"],
            list.GroupChoices(["spare"]).Select(c => c.Title));
        list.CycleGroupFilter(1, []); // Movies
        Assert.Equal(["c"], list.Rows.Select(r => r.Name));
        list.CycleGroupFilter(1, []); // tv
        Assert.Equal(["a"], list.Rows.Select(r => r.Name));
        list.CycleGroupFilter(1, []); // no category
        Assert.Equal(["b"], list.Rows.Select(r => r.Name));
        list.CycleGroupFilter(1, []); // tag hd
        Assert.Equal(["a", "b"], list.Rows.Select(r => r.Name));
        list.CycleGroupFilter(2, []); // past tag old, back to all
        Assert.Equal(GroupFilter.All, list.Group);
        Assert.Equal(3, list.Rows.Count);
        list.CycleGroupFilter(-1, []); // backwards from all: the last, tag old
        Assert.Equal(["b"], list.Rows.Select(r => r.Name));
        list.Update([T("a", "tv", "hd"), T("b", "", "hd"), T("c", "Movies", "old")]); // the filter follows changes
        Assert.Equal(["c"], list.Rows.Select(r => r.Name));
    }

    [Fact]
    public void g_sets_category_and_tags_of_the_torrent_and_refuses_a_name_that_is_a_path()
    {
        FakeBackend backend = MainListTests.SampleBackend();
        backend.Categories.Add(new Category { Name = "linux" });
        using var h = new TuiHarness(backend);
        string id = h.Window.CurrentTorrent!.Id;
        h.OnDialog<CategoryDialog>(d =>
        {
            Assert.Contains("Categories: linux", h.Screen);
            d.CategoryField.Text = "../etc";
            Assert.False(d.TryAccept());
            Assert.StartsWith("Category: A category name cannot contain '/'", d.ErrorText);
            d.CategoryField.Text = " iso ";
            d.TagsField.Text = "lts, , amd64";
            h.App.InjectKey(Key.Enter);
        });
        h.Type("g");
        h.PumpUntil(() => backend.Calls.Any(c => c.StartsWith("category ", StringComparison.Ordinal)));
        Assert.Equal([$"tags {id} lts,amd64", $"category {id} iso"], backend.Calls.TakeLast(2));
        h.PumpUntil(() => h.Screen.Contains("category iso, tags lts, amd64.", StringComparison.Ordinal));

        // v: the category filter shows it in the title line.
        h.Type("v");
        Assert.Contains("|  category iso", h.Rows[0]);
        Assert.Contains("(1 shown)", h.Rows[0]);
        h.Type("V");
        Assert.DoesNotContain("category", h.Rows[0]);
    }

    [Fact]
    public void Capital_G_edits_the_torrents_category_or_removes_it()
    {
        FakeBackend backend = MainListTests.SampleBackend();
        backend.Categories.Add(new Category { Name = "linux", SavePath = "/srv/linux", SeedRatioLimit = 2 });
        using var h = new TuiHarness(backend);
        string id = h.Window.CurrentTorrent!.Id;
        backend.Update(id, t => t with { Category = "linux" });
        h.Window.RefreshNow();
        h.PumpUntil(() => h.Window.CurrentTorrent?.Category == "linux");

        h.OnDialog<CategoryEditDialog>(d =>
        {
            Assert.Equal("linux", d.NameField.Text);
            Assert.Equal("/srv/linux", d.FolderField.Text);
            d.IncompleteField.Text = "/srv/incoming";
            h.App.InjectKey(Key.Enter);
        });
        h.Type("G");
        h.PumpUntil(() => backend.Calls.Contains("category-save linux /srv/linux /srv/incoming"));
        Assert.Equal(2, backend.Categories.Single().SeedRatioLimit); // limits set elsewhere are kept

        h.OnDialog<CategoryEditDialog>(d =>
        {
            d.RemoveBox.Value = CheckState.Checked;
            h.App.InjectKey(Key.Enter);
        });
        h.Type("G");
        h.PumpUntil(() => backend.Calls.Contains("category-remove linux"));
        Assert.Empty(backend.Categories);
    }
}
