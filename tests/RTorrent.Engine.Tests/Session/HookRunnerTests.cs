using RTorrent.Engine.Session;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Testing;

namespace RTorrent.Engine.Tests.Session;

/// <summary>
/// Hook programs (issue 18, part 6) run for real from a temporary folder: the torrent reaches them only as environment
/// variables (a name that is a shell command stays a string), their output is kept bounded, a hung hook is killed with
/// the processes it started, and a program that cannot run says why.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class HookRunnerTests : IDisposable
{
    private readonly string _root = TestPaths.NewTempDir("rt-hooks");

    public void Dispose() => Directory.Delete(_root, true);

    private string Script(string name, string body)
    {
        string path = Path.Combine(_root, name);
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private HookRequest Request(string program, string name = "plain", TimeSpan? timeout = null, string? savePath = null) =>
        new(HookEvent.Completed, program, name, new string('a', 40), savePath ?? _root, ["movies", "hd"], timeout ?? TimeSpan.FromMinutes(1), "films");

    [Theory]
    [InlineData("$(touch pwned)")]
    [InlineData("`touch pwned`; touch pwned2 && touch pwned3 | touch pwned4")]
    [InlineData("x'\"; touch pwned #\n touch pwned5")]
    public async Task A_hostile_name_is_only_a_value_in_the_environment(string name)
    {
        string save = Directory.CreateDirectory(Path.Combine(_root, "save")).FullName;
        string got = Path.Combine(_root, "got");
        string hook = Script("hook.sh",
            $"printf '%s' \"$RTORRENT_NAME\" > '{got}.name'\n" +
            $"printf '%s' \"$TR_TORRENT_NAME\" > '{got}.trname'\n" +
            $"printf '%s|%s|%s|%s|%s|%s' \"$RTORRENT_EVENT\" \"$RTORRENT_HASH\" \"$RTORRENT_SAVE_PATH\" \"$RTORRENT_CATEGORY\" \"$TR_TORRENT_DIR\" \"$RTORRENT_LABELS\" > '{got}.rest'\n" +
            "echo done");
        await using var runner = new HookRunner();

        var result = await runner.RunAsync(Request(hook, name, savePath: save)).WaitAsync(TestWait.Limit);

        Assert.Null(result.Problem);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal("done\n", result.Output);
        Assert.Equal(name, File.ReadAllText(got + ".name"));
        Assert.Equal(name, File.ReadAllText(got + ".trname"));
        Assert.Equal($"completed|{new string('a', 40)}|{save}|films|{save}|movies,hd", File.ReadAllText(got + ".rest"));
        // Nothing the name says was run: no file named pwned* anywhere the hook or the test could have made one.
        foreach (string dir in new[] { _root, save, Environment.CurrentDirectory, Path.GetTempPath() })
            Assert.Empty(Directory.GetFiles(dir, "pwned*"));
    }

    [Fact]
    public async Task A_hook_that_hangs_is_killed_with_the_processes_it_started_after_its_timeout()
    {
        string childPid = Path.Combine(_root, "child.pid");
        string hook = Script("hang.sh", $"sleep 1000 &\necho $! > '{childPid}'\necho waiting\nwait");
        var clock = new ManualTimeProvider();
        await using var runner = new HookRunner(clock);
        var started = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        runner.Started += (_, pid) => started.TrySetResult(pid);

        var run = runner.RunAsync(Request(hook, timeout: TimeSpan.FromSeconds(30)));
        int pid = await started.Task.WaitAsync(TestWait.Limit);
        await TestWait.UntilAsync(() => File.Exists(childPid) && File.ReadAllText(childPid).EndsWith('\n'), "the hook's child started");
        int child = int.Parse(File.ReadAllText(childPid).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(IsAlive(pid) && IsAlive(child));
        // Nothing is killed before the timeout: 29 s on the hook's clock leave it running.
        clock.Advance(TimeSpan.FromSeconds(29));
        Assert.False(run.IsCompleted);
        // Past it (the timer is armed once the process started: advance until the run ends, bounded).
        var deadline = DateTime.UtcNow + TestWait.Limit;
        while (!run.IsCompleted && DateTime.UtcNow < deadline)
        {
            clock.Advance(TimeSpan.FromSeconds(5));
            await Task.WhenAny(run, Task.Delay(20));
        }
        var result = await run.WaitAsync(TestWait.Limit);

        Assert.True(result.TimedOut);
        Assert.Null(result.ExitCode);
        Assert.Contains("waiting", result.Output);
        await TestWait.UntilAsync(() => !IsAlive(pid) && !IsAlive(child), "the hook and its child gone");
    }

    [Fact]
    public async Task What_a_hook_writes_to_stderr_is_kept_too()
    {
        string hook = Script("errors.sh", "echo only on stderr >&2\nexit 0");
        await using var runner = new HookRunner();

        var result = await runner.RunAsync(Request(hook)).WaitAsync(TestWait.Limit);

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("only on stderr\n", result.Output);
    }

    [Fact]
    public async Task The_output_kept_is_the_end_bounded_and_the_exit_code_is_reported()
    {
        // All on stdout: the order of lines written to stdout and stderr is not kept (two pipes read side by side).
        string hook = Script("chatty.sh", "head -c 300000 /dev/zero | tr '\\0' 'x'\necho\necho the end\nexit 3");
        await using var runner = new HookRunner();

        var result = await runner.RunAsync(Request(hook)).WaitAsync(TestWait.Limit);

        Assert.Equal(3, result.ExitCode);
        Assert.False(result.TimedOut);
        Assert.True(result.Output.Length <= HookRunner.OutputLimit);
        Assert.EndsWith("the end\n", result.Output);
        Assert.StartsWith("xxxx", result.Output);
    }

    [Fact]
    public async Task A_program_that_does_not_exist_or_is_not_executable_says_so_and_nothing_runs()
    {
        await using var runner = new HookRunner();
        string missing = Path.Combine(_root, "missing.sh");
        string plain = Path.Combine(_root, "plain.sh");
        File.WriteAllText(plain, "#!/bin/sh\ntouch ran\n");
        File.SetUnixFileMode(plain, UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var a = await runner.RunAsync(Request(missing));
        var b = await runner.RunAsync(Request(plain));
        var c = await runner.RunAsync(Request("relative/hook.sh"));

        Assert.Equal($"cannot run: {missing} does not exist", a.Problem);
        Assert.Equal($"cannot run: {plain} is not executable (chmod +x)", b.Problem);
        Assert.Equal("cannot run: 'relative/hook.sh' is not an absolute path", c.Problem);
        Assert.All(new[] { a, b, c }, r => Assert.Null(r.ExitCode));
        Assert.False(File.Exists(Path.Combine(_root, "ran")));
    }

    [Fact]
    public async Task Hooks_queued_run_a_few_at_a_time_and_each_reports()
    {
        string counter = Path.Combine(_root, "count");
        string hook = Script("quick.sh", $"echo \"$RTORRENT_NAME\" >> '{counter}'");
        await using var runner = new HookRunner();
        var results = new System.Collections.Concurrent.ConcurrentBag<HookResult>();
        for (int i = 0; i < 10; i++)
            Assert.True(runner.TryQueue(Request(hook, $"t{i}"), results.Add));
        await TestWait.UntilAsync(() => results.Count == 10, "ten hooks reported");
        Assert.All(results, r => Assert.Equal(0, r.ExitCode));
        Assert.Equal(10, File.ReadAllLines(counter).Distinct().Count());
    }

    [Fact]
    public void Output_lines_for_the_log_lose_control_characters_and_keep_the_end()
    {
        string output = string.Join("\n", Enumerable.Range(0, 100).Select(i => $"line {i}")) + "\n\u001b[31mred\u001b[0m\ttab\r\n";
        var lines = ClientSession.OutputLines(output);
        Assert.Equal(ClientSession.HookOutputLines, lines.Count);
        Assert.Equal("[31mred[0m tab", lines[^1]);
        Assert.Equal("line 61", lines[0]);
    }

    private static bool IsAlive(int pid)
    {
        // A killed process may stay a zombie until its parent (or init) reaps it: that is not alive.
        string stat = $"/proc/{pid}/stat";
        try
        {
            string text = File.ReadAllText(stat);
            return text[(text.LastIndexOf(')') + 2)] is not ('Z' or 'X');
        }
        catch (IOException) { return false; }
    }
}
