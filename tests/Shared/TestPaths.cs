namespace RTorrent.Testing;

/// <summary>Where tests find the repository and the shared corpus (../shared beside the project root).</summary>
internal static class TestPaths
{
    private static readonly Lazy<string> Root = new(() =>
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "RTorrent.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("RTorrent.sln not found above " + AppContext.BaseDirectory);
    });

    /// <summary>The repository root (the folder holding RTorrent.sln).</summary>
    public static string RepoRoot => Root.Value;

    /// <summary>The shared material: $RTORRENT_SHARED, else ../shared beside the repository.</summary>
    public static string Shared =>
        Environment.GetEnvironmentVariable("RTORRENT_SHARED") is { Length: > 0 } s ? s : Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared"));

    /// <summary>../shared/corpus.</summary>
    public static string Corpus => Path.Combine(Shared, "corpus");

    /// <summary>A fresh empty temporary folder, deleted by the caller (or left in /tmp for post-mortems).</summary>
    public static string NewTempDir(string prefix = "rt-test")
    {
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(path);
        return path;
    }
}
