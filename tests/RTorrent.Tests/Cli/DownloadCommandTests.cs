using System.Text;
using RTorrent.Cli;
using RTorrent.Engine.Metainfo;
using RTorrent.Testing;

namespace RTorrent.Tests.Cli;

/// <summary>
/// <c>rtorrent download</c> and <c>rtorrent seed</c> in-process, without peers: what they print on stderr and the exit
/// codes (0 complete or stopped while seeding, 1 stopped before complete, 2 unusable input).
/// </summary>
public sealed class DownloadCommandTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);
    private readonly string _dir = TestPaths.NewTempDir("rt-cli-download");
    private readonly string _content;
    private readonly string _torrent;

    public DownloadCommandTests()
    {
        _content = Path.Combine(_dir, "content");
        Directory.CreateDirectory(_content);
        File.WriteAllBytes(Path.Combine(_content, "file.bin"), Enumerable.Range(0, 100_000).Select(i => (byte)(i * 7)).ToArray());
        _torrent = Path.Combine(_dir, "file.torrent");
        var created = TorrentCreator.CreateAsync(Path.Combine(_content, "file.bin"), new TorrentCreatorOptions { PieceLength = 16 * 1024 })
            .GetAwaiter().GetResult();
        File.WriteAllBytes(_torrent, created.TorrentFile);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string[] Args(string command, string save, params string[] more) =>
        [command, _torrent, "--save", save, "--session", Path.Combine(_dir, "session"), "--bind", "127.0.0.1", "--no-dht", "--no-pex", "--no-lsd", .. more];

    private static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    [Fact]
    public async Task Download_of_data_already_there_reports_it_verified_and_exits_0()
    {
        var r = await CliRunner.RunAsync(Args("download", _content));
        Assert.Equal(ExitCodes.Ok, r.ExitCode);
        var lines = Lines(r.Error);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("[####################] 100.0%  97.7 KiB/97.7 KiB  down 0 B/s  up 0 B/s  peers 0/", lines[0]);
        Assert.EndsWith("  seeding", lines[0]);
        Assert.Equal("Complete: 'file.bin' verified.", lines[1]);
        Assert.Equal("", r.Output);
    }

    [Fact]
    public async Task Seed_without_the_data_says_how_much_is_there_and_exits_2()
    {
        var empty = Path.Combine(_dir, "empty");
        var r = await CliRunner.RunAsync(Args("seed", empty));
        Assert.Equal(ExitCodes.UnusableInput, r.ExitCode);
        Assert.Equal([$"Only 0 of 7 pieces of 'file.bin' are in {empty}; use 'rtorrent download' to complete it."], Lines(r.Error));
    }

    [Fact]
    public async Task An_unknown_storage_is_refused_with_exit_code_2()
    {
        var r = await CliRunner.RunAsync(Args("download", _content, "--storage", "nowhere"));
        Assert.Equal(ExitCodes.UnusableInput, r.ExitCode);
        var line = Assert.Single(Lines(r.Error));
        Assert.StartsWith("Cannot add the torrent: ", line);
        Assert.Contains("nowhere", line);
    }

    [Fact]
    public async Task Seed_announces_its_port_and_a_stop_while_seeding_exits_0()
    {
        var (code, error) = await RunUntilAsync(Args("seed", _content), "' on port ");
        Assert.Equal(ExitCodes.Ok, code);
        var lines = Lines(error);
        Assert.Matches(@"^Seeding 'file\.bin' on port [1-9][0-9]*\.$", Assert.Single(lines, l => l.StartsWith("Seeding", StringComparison.Ordinal)));
        Assert.Equal("Stopped.", lines[^1]);
        Assert.True(lines.Length >= 3, error); // a progress line comes first
    }

    [Fact]
    public async Task Download_with_seed_keeps_seeding_until_stopped_and_exits_0()
    {
        var (code, error) = await RunUntilAsync(Args("download", _content, "--seed"), "Complete: ");
        Assert.Equal(ExitCodes.Ok, code);
        var lines = Lines(error);
        Assert.Contains("Complete: 'file.bin' verified.", lines);
        Assert.Equal("Stopped.", lines[^1]);
    }

    [Fact]
    public async Task A_stop_before_the_download_completes_exits_1_and_says_how_to_resume()
    {
        var empty = Path.Combine(_dir, "empty");
        var (code, error) = await RunUntilAsync(Args("download", empty), "downloading", progressLines: true);
        Assert.Equal(ExitCodes.Failure, code);
        Assert.Equal("Stopped; run the same command again to resume.", Lines(error)[^1]);
    }

    /// <summary>Runs the command until stderr shows <paramref name="text"/>, then cancels it (as Ctrl+C does) and waits for its end.</summary>
    private static async Task<(int Code, string Error)> RunUntilAsync(string[] args, string text, bool progressLines = false)
    {
        var error = new WatchedWriter();
        using var stop = new CancellationTokenSource();
        var run = CliApp.RunAsync(args, TextWriter.Null, error, stop.Token);
        // Without a terminal a progress line is written every 5 s; the first one shows the torrent downloading.
        await error.Seen(text).WaitAsync(progressLines ? Limit * 2 : Limit);
        await stop.CancelAsync();
        int code = await run.WaitAsync(Limit);
        return (code, error.ToString());
    }

    /// <summary>Remembers what is written and says when some text has appeared.</summary>
    private sealed class WatchedWriter : TextWriter
    {
        private readonly StringBuilder _text = new();
        private readonly List<(string Text, TaskCompletionSource Seen)> _waits = [];

        public override Encoding Encoding => Encoding.UTF8;

        public override void Write(char value)
        {
            lock (_text)
            {
                _text.Append(value);
                var all = _text.ToString();
                foreach (var (text, seen) in _waits)
                    if (all.Contains(text, StringComparison.Ordinal)) seen.TrySetResult();
            }
        }

        public override void Write(string? value)
        {
            foreach (char c in value ?? "") Write(c);
        }

        public Task Seen(string text)
        {
            var seen = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            lock (_text)
            {
                _waits.Add((text, seen));
                if (_text.ToString().Contains(text, StringComparison.Ordinal)) seen.TrySetResult();
            }
            return seen.Task;
        }

        public override string ToString()
        {
            lock (_text) return _text.ToString();
        }
    }
}
