using RTorrent.Engine.Session;
using RTorrent.Tui;
using RTorrent.Tui.Dialogs;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;

namespace RTorrent.Tests.Tui;

/// <summary>The queue in the interface: forced start, moves in the queue, the queue limits in the settings dialog.</summary>
[Collection(TuiCollection.Name)]
public class QueueKeysTests
{
    private static string RowOf(TuiHarness h, string name) => h.Rows.Skip(2).First(r => r.Contains(name, StringComparison.Ordinal)); // the list, not the status line

    [Fact]
    public void Bang_forces_a_start_and_brackets_move_the_torrent_in_the_queue()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        string mint = FakeBackend.IdFor("mint-22.iso");
        Assert.Contains("queued dl", RowOf(h, "mint-22.iso"));
        h.Press(Key.CursorDown, Key.CursorDown, Key.CursorDown, Key.CursorDown); // arch, debian, fedora, gentoo, mint
        h.Type("!");
        Assert.Equal($"start-now {mint}", h.Backend.Calls[^1]);
        h.Refresh();
        Assert.Contains("[F] ", RowOf(h, "mint-22.iso"));

        h.Type("[");
        Assert.Equal($"queue up {mint}", h.Backend.Calls[^1]);
        h.Type("]");
        Assert.Equal($"queue down {mint}", h.Backend.Calls[^1]);
        h.Type("{");
        Assert.Equal($"queue top {mint}", h.Backend.Calls[^1]);
        h.Type("}");
        Assert.Equal($"queue bottom {mint}", h.Backend.Calls[^1]);

        Assert.Contains(KeyHelp.Commands, c => c.Keys == "!" && c.Help.Contains("beside the queue", StringComparison.Ordinal));
        Assert.Contains(KeyHelp.Commands, c => c.Keys == "{  }");
    }

    [Fact]
    public void The_settings_dialog_edits_the_queue_limits_empty_meaning_none()
    {
        var backend = MainListTests.SampleBackend();
        backend.SaveSettingsAsync(backend.Settings with { MaxActiveSeeds = 4, QueueStalledMinutes = 30 });
        using var h = new TuiHarness(backend);
        string? error = null;
        h.OnDialog<SettingsDialog>(d =>
        {
            Assert.Equal("", d.QueueDownloadsField.Text);
            Assert.Equal("4", d.QueueSeedsField.Text);
            Assert.Equal("30", d.QueueStalledField.Text);
            d.QueueDownloadsField.Text = "-2";
            h.App.InjectKey(Key.Enter);
            error = d.ErrorText;
            d.QueueDownloadsField.Text = "3";
            d.QueueSeedsField.Text = "";
            d.QueueTotalField.Text = "6";
            d.QueueStalledField.Text = "";
            h.App.InjectKey(Key.Enter);
        });
        h.Type("o");
        Assert.Equal("Queue downloads is empty (no limit) or a number from 0 to 100000.", error);
        EditableSettings saved = h.Backend.Settings;
        Assert.Equal((3, (int?)null, 6, (int?)null), (saved.MaxActiveDownloads, saved.MaxActiveSeeds, saved.MaxActiveTorrents, saved.QueueStalledMinutes));
    }
}
