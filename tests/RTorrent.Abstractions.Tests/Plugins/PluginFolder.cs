using RTorrent.Testing;

namespace RTorrent.Abstractions.Tests.Plugins;

/// <summary>
/// A temporary plugins directory filled with copies of the plugins this test project builds into
/// <c>testplugins/</c> (the real DLLs), deleted on dispose.
/// </summary>
internal sealed class PluginFolder : IDisposable
{
    /// <summary>Where the build put every test and sample plugin.</summary>
    public static string BuiltPlugins => System.IO.Path.Combine(AppContext.BaseDirectory, "testplugins");

    public PluginFolder() => Path = TestPaths.NewTempDir("rt-plugins");

    public string Path { get; }

    /// <summary>Copies a built plugin's folder in; returns the copy's folder.</summary>
    public string Add(string name)
    {
        var source = System.IO.Path.Combine(BuiltPlugins, name);
        if (!Directory.Exists(source))
            throw new InvalidOperationException($"{source} is missing: the test project's build copies every test plugin there (plugins/PluginOutputs.targets).");
        var target = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(source))
            File.Copy(file, System.IO.Path.Combine(target, System.IO.Path.GetFileName(file)));
        return target;
    }

    /// <summary>Creates <c>name/name.dll</c> full of random bytes.</summary>
    public string AddCorrupt(string name)
    {
        var folder = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(folder);
        var bytes = new byte[4096];
        new Random(42).NextBytes(bytes);
        File.WriteAllBytes(System.IO.Path.Combine(folder, name + ".dll"), bytes);
        return folder;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Loaded plugin files may still be mapped; /tmp is cleaned eventually.
        }
    }
}
