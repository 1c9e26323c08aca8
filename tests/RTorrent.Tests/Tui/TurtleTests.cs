using RTorrent.Engine.Client;
using RTorrent.Engine.Session;
using RTorrent.Testing;
using RTorrent.Tui;
using RTorrent.Tui.Dialogs;
using Terminal.Gui.Input;
using Terminal.Gui.Testing;
using Terminal.Gui.Views;

namespace RTorrent.Tests.Tui;

/// <summary>Turtle mode in the interface: ^T, the status line, and the settings screen's turtle and hook fields.</summary>
public sealed class TurtleTests : IDisposable
{
    private readonly string _folder = TestPaths.NewTempDir("rt-turtle-tui");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Ctrl_T_switches_turtle_mode_and_the_status_line_says_so()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        Assert.DoesNotContain(StatusLine.TurtleMark, h.Rows[22]);

        h.Press(Key.T.WithCtrl);
        h.PumpUntil(() => h.Rows[22].StartsWith(StatusLine.TurtleMark, StringComparison.Ordinal), 10_000);
        Assert.True(h.Backend.Settings.AltSpeedEnabled);
        Assert.Contains("Turtle mode on", h.Rows[23]);

        h.Press(Key.T.WithCtrl);
        h.PumpUntil(() => !h.Rows[22].Contains(StatusLine.TurtleMark, StringComparison.Ordinal), 10_000);
        Assert.False(h.Backend.Settings.AltSpeedEnabled);
        Assert.Contains("Turtle mode off", h.Rows[23]);
    }

    [Fact]
    public void The_status_line_starts_with_the_turtle_mark_and_keeps_it_when_narrow()
    {
        var session = new SessionSnapshot { Torrents = [], DownloadLimit = 50_000, UploadLimit = 20_000, AltSpeedEnabled = true, ListenPort = 6890 };
        string wide = StatusLine.Build(session, 1L << 30, 120);
        Assert.StartsWith("TURTLE  Down 0B/s (max ", wide);
        Assert.StartsWith("TURTLE", StatusLine.Build(session, 1L << 30, 50));
        Assert.DoesNotContain("TURTLE", StatusLine.Build(session with { AltSpeedEnabled = false }, 1L << 30, 120));
    }

    [Fact]
    public void The_settings_screen_edits_the_turtle_limits_the_schedule_and_the_hooks()
    {
        string hook = Path.Combine(_folder, "done.sh");
        File.WriteAllText(hook, "#!/bin/sh\n");
        using var h = new TuiHarness(MainListTests.SampleBackend());
        string? error = null;
        h.OnDialog<SettingsDialog>(d =>
        {
            Assert.Equal("09:00", d.ScheduleFromField.Text);
            Assert.Equal("17:00", d.ScheduleToField.Text);
            Assert.Equal("every day", d.ScheduleDaysField.Text);
            d.ScheduleDaysField.Text = "Someday";
            h.App.InjectKey(Key.Enter);
            error = d.ErrorText;
            d.AltDownloadLimitField.Text = "20";
            d.AltUploadLimitField.Text = "";
            d.ScheduleBox.Value = CheckState.Checked;
            d.ScheduleFromField.Text = "22:30";
            d.ScheduleToField.Text = "6:00";
            d.ScheduleDaysField.Text = "Mon-Fri";
            d.CompletedHookField.Text = hook;
            h.App.InjectKey(Key.Enter);
        });
        h.Type("o");
        Assert.Equal("The schedule's days: Mon-Fri, Sat,Sun, every day, or a list of day names.", error);
        EditableSettings saved = h.Backend.Settings;
        Assert.Equal((20 * 1024L, 0L), (saved.AltDownloadLimit, saved.AltUploadLimit));
        Assert.Equal((true, 22 * 60 + 30, 360, 0b0111110), (saved.AltSpeedScheduleEnabled, saved.AltSpeedScheduleBegin, saved.AltSpeedScheduleEnd,
            saved.AltSpeedScheduleDays));
        Assert.Equal((hook, "", ""), (saved.CompletedHook, saved.AddedHook, saved.RemovedHook));
    }

    [Fact]
    public void Saving_the_settings_screen_keeps_a_turtle_switch_made_while_it_was_open()
    {
        using var h = new TuiHarness(MainListTests.SampleBackend());
        Assert.False(h.Backend.Settings.AltSpeedEnabled);
        h.OnDialog<SettingsDialog>(d =>
        {
            // The schedule switches turtle mode on while the screen shows the settings it loaded (off).
            h.Backend.SaveSettingsAsync(h.Backend.Settings with { AltSpeedEnabled = true }).GetAwaiter().GetResult();
            d.SlotsField.Text = "5";
            h.App.InjectKey(Key.Enter);
        });
        h.Type("o");
        h.PumpUntil(() => h.Backend.Settings.UploadSlots == 5, 10_000);
        Assert.True(h.Backend.Settings.AltSpeedEnabled);
    }

    [Theory]
    [InlineData("every day", 127)]
    [InlineData("Mon-Fri", 62)]
    [InlineData("sat,sun", 65)]
    [InlineData("Fri-Mon", 0b1100011)]
    [InlineData("Monday, Wednesday", 0b0001010)]
    [InlineData("weekends", 65)]
    [InlineData("never", 0)]
    [InlineData("42", 42)]
    [InlineData("Someday", null)]
    [InlineData("", null)]
    [InlineData("200", null)]
    public void Days_are_read_as_people_write_them(string text, int? mask)
    {
        Assert.Equal(mask, Units.ParseDays(text));
        if (mask is { } m) Assert.Equal(m, Units.ParseDays(Units.Days(m)));
    }
}
