namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// The real BitTorrent programs the interop tests run (Debian packages installed by ./test.sh and .ci/run). A missing
/// tool fails the test with a message saying how to get it; interop tests are never skipped.
/// </summary>
internal static class Tools
{
    /// <summary>Debian's python, which has the libtorrent binding (a pyenv python3 on PATH does not).</summary>
    public const string Python = "/usr/bin/python3";

    /// <summary>The path of <paramref name="program"/> on PATH (or as given when absolute).</summary>
    /// <exception cref="InvalidOperationException">Not installed.</exception>
    public static string Require(string program, string package)
    {
        if (Path.IsPathRooted(program))
        {
            if (File.Exists(program)) return program;
        }
        else
        {
            foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
            {
                var candidate = Path.Combine(dir, program);
                if (File.Exists(candidate)) return candidate;
            }
            foreach (var dir in new[] { "/usr/bin", "/usr/sbin", "/usr/local/bin" })
            {
                var candidate = Path.Combine(dir, program);
                if (File.Exists(candidate)) return candidate;
            }
        }
        throw new InvalidOperationException(
            $"'{program}' (Debian package {package}) is not installed. Run ./test.sh, which installs the interop test peers.");
    }

    /// <summary>Fails unless Debian's python3 can import libtorrent.</summary>
    public static string RequireLibtorrent()
    {
        Require(Python, "python3");
        if (!LibtorrentChecked.Value)
            throw new InvalidOperationException($"{Python} cannot import libtorrent (Debian package python3-libtorrent). Run ./test.sh, which installs the interop test peers.");
        return Python;
    }

    private static readonly Lazy<bool> LibtorrentChecked = new(() =>
    {
        using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(Python, ["-c", "import libtorrent"])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!;
        if (!p.WaitForExit(60_000))
        {
            p.Kill();
            return false;
        }
        return p.ExitCode == 0;
    });
}
