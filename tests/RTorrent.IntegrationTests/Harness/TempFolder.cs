using RTorrent.Testing;

namespace RTorrent.IntegrationTests.Harness;

/// <summary>A fresh folder under /tmp for one test, deleted on dispose (after the processes using it are gone).</summary>
internal sealed class TempFolder : IDisposable
{
    public TempFolder(string prefix = "rt-interop")
    {
        Path = TestPaths.NewTempDir(prefix);
        // opentracker drops to 'nobody' inside its folder; the tests' folders must be traversable.
        File.SetUnixFileMode(Path, (UnixFileMode)0b111_101_101);
    }

    /// <summary>The folder.</summary>
    public string Path { get; }

    /// <summary>A sub-folder, created.</summary>
    public string Sub(params string[] parts)
    {
        var p = System.IO.Path.Combine([Path, .. parts]);
        Directory.CreateDirectory(p);
        return p;
    }

    /// <summary>A path inside the folder (not created).</summary>
    public string PathOf(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { /* left in /tmp for a post-mortem */ }
    }
}
