using Microsoft.Extensions.Logging;
using RTorrent.Logging;
using RTorrent.Testing;

namespace RTorrent.Tests.Daemon;

public sealed class LineLoggerTests : IDisposable
{
    private readonly string _dir = TestPaths.NewTempDir("rt-log");

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Writes_one_line_per_event_with_level_and_source_to_the_console_and_the_file()
    {
        var console = new StringWriter();
        string file = Path.Combine(_dir, "rtorrent.log");
        await using (var provider = new LineLoggerProvider(new LineLoggerOptions { Console = console, FilePath = file }))
        {
            var log = provider.CreateLogger("rtorrent.test");
            log.LogWarning("disk {What}", "almost full");
            log.LogInformation("line one\nline two");
            log.LogDebug("not shown at the default level");
        }
        string[] lines = console.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.EndsWith("warn rtorrent.test: disk almost full", lines[0].TrimEnd('\r'), StringComparison.Ordinal);
        Assert.EndsWith("info rtorrent.test: line one | line two", lines[1].TrimEnd('\r'), StringComparison.Ordinal);
        string[] fileLines = (await File.ReadAllTextAsync(file)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, fileLines.Length);
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z warn rtorrent.test: disk almost full$", fileLines[0]);
    }

    [Fact]
    public async Task Under_systemd_console_lines_carry_syslog_priorities_and_no_time()
    {
        var console = new StringWriter();
        await using (var provider = new LineLoggerProvider(new LineLoggerOptions { Console = console, JournalFormat = true }))
        {
            var log = provider.CreateLogger("rtorrent.daemon");
            log.LogError("cannot write");
            log.LogInformation("ready");
        }
        Assert.Equal(["<3>error rtorrent.daemon: cannot write", "<6>info rtorrent.daemon: ready"],
            console.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')));
    }

    [Fact]
    public async Task The_file_is_rotated_at_its_size_cap_keeping_a_fixed_number_of_old_files()
    {
        string file = Path.Combine(_dir, "rtorrent.log");
        await using (var provider = new LineLoggerProvider(new LineLoggerOptions { FilePath = file, MaxFileBytes = 1000, KeepFiles = 2 }))
        {
            var log = provider.CreateLogger("x");
            for (int i = 0; i < 200; i++) log.LogInformation("event {Number:D4} with some padding text", i);
        }
        Assert.True(File.Exists(file));
        Assert.True(File.Exists(file + ".1"));
        Assert.True(File.Exists(file + ".2"));
        Assert.False(File.Exists(file + ".3"));
        foreach (string f in new[] { file, file + ".1", file + ".2" }) Assert.True(new FileInfo(f).Length <= 1000, $"{f} is over the cap");
        // The newest event is in the current file, older ones in .1 before .2.
        Assert.Contains("event 0199", await File.ReadAllTextAsync(file), StringComparison.Ordinal);
        int Newest(string f) => File.ReadAllLines(f).Select(l => int.Parse(l.Split("event ")[1][..4], System.Globalization.CultureInfo.InvariantCulture)).Max();
        Assert.True(Newest(file + ".1") < Newest(file));
        Assert.True(Newest(file + ".2") < Newest(file + ".1"));
    }

    [Fact]
    public async Task A_console_that_went_away_stops_console_output_but_not_the_file()
    {
        string file = Path.Combine(_dir, "rtorrent.log");
        var console = new BrokenWriter();
        await using (var provider = new LineLoggerProvider(new LineLoggerOptions { Console = console, FilePath = file }))
        {
            var log = provider.CreateLogger("x");
            log.LogInformation("first");
            log.LogInformation("second");
        }
        Assert.Equal(1, console.Attempts);
        Assert.Equal(2, File.ReadAllLines(file).Length);
    }

    [Fact]
    public async Task AspNet_request_chatter_is_left_out_unless_it_is_a_warning()
    {
        var console = new StringWriter();
        await using (var provider = new LineLoggerProvider(new LineLoggerOptions { Console = console, MinimumLevel = LogLevel.Debug }))
        {
            provider.CreateLogger("Microsoft.AspNetCore.Hosting.Diagnostics").LogInformation("Request starting");
            provider.CreateLogger("Microsoft.AspNetCore.Server.Kestrel").LogWarning("overloaded");
            provider.CreateLogger("rtorrent.engine").LogDebug("peer connected");
        }
        string text = console.ToString();
        Assert.DoesNotContain("Request starting", text, StringComparison.Ordinal);
        Assert.Contains("overloaded", text, StringComparison.Ordinal);
        Assert.Contains("peer connected", text, StringComparison.Ordinal);
    }

    private sealed class BrokenWriter : TextWriter
    {
        public int Attempts;
        public override System.Text.Encoding Encoding => System.Text.Encoding.UTF8;
        public override void WriteLine(string? value)
        {
            Attempts++;
            throw new IOException("Input/output error");
        }
    }
}
