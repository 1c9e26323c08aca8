using System.CommandLine;
using System.Text.Json;
using RTorrent.Cli;
using RTorrent.Engine.Plugins;
using RTorrent.Testing;

namespace RTorrent.Tests.Cli;

/// <summary>
/// Runs <c>rtorrent plugins</c> in-process against the sample plugins as the program's build placed them
/// (src/RTorrent/bin/&lt;configuration&gt;/net10.0/plugins) plus a folder with a corrupt plugin.
/// </summary>
public sealed class PluginsCommandTests : IDisposable
{
    private readonly string _extra = TestPaths.NewTempDir("rt-cli-plugins");
    private readonly string _home = TestPaths.NewTempDir("rt-cli-home");

    public void Dispose()
    {
        Directory.Delete(_extra, recursive: true);
        Directory.Delete(_home, recursive: true);
    }

    /// <summary>The program's own plugins folder from the build of the same configuration as this test.</summary>
    private static string ProgramPlugins()
    {
        // AppContext.BaseDirectory is tests/RTorrent.Tests/bin/<configuration>/<tfm>/
        var tfm = new DirectoryInfo(AppContext.BaseDirectory);
        var configuration = tfm.Parent!.Name;
        var path = Path.Combine(TestPaths.RepoRoot, "src", "RTorrent", "bin", configuration, tfm.Name, "plugins");
        Assert.True(Directory.Exists(path), $"{path} is missing: building src/RTorrent copies the sample plugins there");
        return path;
    }

    private (int Exit, string Output, string Error) Run(params string[] args)
    {
        var root = new RootCommand { PluginsCommand.Create(registerBuiltIns: r => r.RegisterBuiltIns(new FakeBuiltIns()), environment: Environment) };
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = root.Parse(["plugins", .. args]).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (exit, output.ToString(), error.ToString());
    }

    private string? Environment(string name) => name == "HOME" ? _home : null;

    private void AddCorruptPlugin()
    {
        Directory.CreateDirectory(Path.Combine(_extra, "Corrupt"));
        File.WriteAllBytes(Path.Combine(_extra, "Corrupt", "Corrupt.dll"), [1, 2, 3, 4, 5]);
    }

    [Fact]
    public void Lists_the_built_sample_plugins_as_loaded_and_a_broken_one_with_its_reason()
    {
        AddCorruptPlugin();

        var (exit, output, error) = Run("--plugins", ProgramPlugins(), "--plugins", _extra);

        Assert.Equal(0, exit);
        Assert.Equal("", error);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToArray();
        Assert.Contains(lines, l => l.StartsWith("SequentialPicker") && l.Contains("loaded") && l.Contains("picker") && l.Contains("sequential"));
        Assert.Contains(lines, l => l.StartsWith("LocalPeerDiscovery") && l.Contains("loaded") && l.Contains("peer-source") && l.Contains("lsd"));
        Assert.Contains(lines, l => l.StartsWith("MemoryStorage") && l.Contains("loaded") && l.Contains("storage") && l.Contains("memory"));
        Assert.Contains(lines, l => l.StartsWith("JsonFeed") && l.Contains("loaded") && l.Contains("torrent-source") && l.Contains("jsonfeed"));
        var corrupt = Array.FindIndex(lines, l => l.StartsWith("Corrupt"));
        Assert.Contains("failed", lines[corrupt]);
        Assert.Contains("not a valid .NET assembly", lines[corrupt + 1]);
        Assert.Contains(lines, l => l.StartsWith("  user") && l.Contains(Path.Combine(_home, ".local", "share", "rtorrent", "plugins")) && l.EndsWith("(does not exist)"));
        Assert.Contains("Built in: picker rarest-first; storage file", output);
        Assert.Contains("4 loaded, 1 failed.", output);
    }

    [Fact]
    public void Json_output_has_every_plugin_with_status_kinds_version_and_folder()
    {
        AddCorruptPlugin();

        var (exit, output, _) = Run("--plugins", ProgramPlugins(), "--plugins", _extra, "--json");

        Assert.Equal(0, exit);
        using var json = JsonDocument.Parse(output);
        var plugins = json.RootElement.GetProperty("plugins").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        var memory = plugins["MemoryStorage"];
        Assert.Equal("loaded", memory.GetProperty("status").GetString());
        Assert.Equal("1.0.0", memory.GetProperty("version").GetString());
        Assert.Equal(["storage"], memory.GetProperty("kinds").EnumerateArray().Select(k => k.GetString()));
        Assert.Equal(Path.Combine(ProgramPlugins(), "MemoryStorage"), memory.GetProperty("folder").GetString());
        Assert.Equal(JsonValueKind.Null, memory.GetProperty("error").ValueKind);
        Assert.Equal("failed", plugins["Corrupt"].GetProperty("status").GetString());
        Assert.Contains("not a valid .NET assembly", plugins["Corrupt"].GetProperty("error").GetString());
        Assert.Contains(json.RootElement.GetProperty("builtIn").EnumerateArray(), c => c.GetProperty("name").GetString() == "rarest-first");
    }

    [Fact]
    public void A_plugins_directory_that_does_not_exist_is_an_error()
    {
        var (exit, _, error) = Run("--plugins", Path.Combine(_extra, "nope"));

        Assert.Equal(2, exit);
        Assert.Contains("no such directory", error);
    }

    private sealed class FakeBuiltIns : Abstractions.IRTorrentPlugin
    {
        public void Register(Abstractions.IPluginRegistry registry)
        {
            registry.AddPiecePicker(new Picker());
            registry.AddStorage(new Storage());
        }

        private sealed class Picker : Abstractions.IPiecePickerFactory
        {
            public string Name => "rarest-first";
            public string Version => "1.0";
            public string Description => "Built-in.";
            public Abstractions.IPiecePicker Create(Abstractions.PiecePickerContext context) => throw new NotSupportedException();
        }

        private sealed class Storage : Abstractions.IStorageFactory
        {
            public string Name => "file";
            public string Version => "1.0";
            public string Description => "Built-in.";
            public Abstractions.ITorrentStorage Open(Abstractions.StorageContext context) => throw new NotSupportedException();
        }
    }
}
