using RTorrent.Engine.Plugins;
using RTorrent.Plugins.Conformance;
using Xunit.Sdk;

namespace RTorrent.Abstractions.Tests.Plugins;

/// <summary>
/// The conformance checks run against the sample plugins as loaded from their DLLs (what a user gets), and must
/// catch broken components (or they would prove nothing).
/// </summary>
public sealed class ConformanceTests : IDisposable
{
    private readonly PluginFolder _folder = new();
    private readonly ComponentRegistry _registry = new();
    private readonly PluginCatalog _catalog;

    public ConformanceTests()
    {
        _registry.RegisterBuiltIns(new BuiltIns());
        _folder.Add("SequentialPicker");
        _folder.Add("MemoryStorage");
        _folder.Add("FaultyComponents");
        _catalog = new PluginCatalog(_registry, new PluginCatalogOptions { Directories = [new PluginDirectorySpec(_folder.Path, "extra")] });
        Assert.All(_catalog.LoadAll().Plugins, p => Assert.True(p.IsLoaded, p.ToString()));
    }

    public void Dispose()
    {
        _catalog.Dispose();
        _folder.Dispose();
    }

    [Fact]
    public void The_loaded_sequential_picker_keeps_the_invariants() => PickerConformance.Invariants(_registry.GetPicker("sequential")!.Factory);

    [Fact]
    public void The_built_in_stand_in_keeps_the_invariants() => PickerConformance.Invariants(new BuiltIns.FirstWantedPickerFactory());

    [Fact]
    public Task The_loaded_memory_storage_passes_the_round_trip() => StorageConformance.RoundTripAsync(_registry.GetStorage("memory")!.Factory);

    [Theory]
    [InlineData("throwing-picker", "threw NullReferenceException")]
    [InlineData("out-of-range-picker", "out of range")]
    [InlineData("not-had-picker", "the peer does not have")]
    [InlineData("duplicate-picker", "duplicate")]
    [InlineData("overflow-picker", "returned a count of")]
    public void Broken_pickers_fail_the_invariants(string name, string expected)
    {
        var e = Assert.Throws<XunitException>(() => PickerConformance.Invariants(_registry.GetPicker(name)!.Factory));
        Assert.Contains(expected, e.Message);
        Assert.Contains($"picker '{name}' (seed", e.Message);
    }

    [Fact]
    public void A_picker_that_never_picks_fails_the_progress_check_unless_allowed()
    {
        var idle = new IdleFactory();
        var e = Assert.Throws<XunitException>(() => PickerConformance.Invariants(idle));
        Assert.Contains("returned nothing although the peer has pieces we want", e.Message);
        PickerConformance.Invariants(idle, requireProgress: false);
    }

    [Theory]
    [InlineData("throwing-storage")]
    [InlineData("nonsense-storage")]
    public async Task Broken_storages_fail_the_round_trip(string name)
    {
        // These test storages never create files, so the check after PrepareAsync is the first to fail.
        var e = await Assert.ThrowsAsync<XunitException>(() => StorageConformance.RoundTripAsync(_registry.GetStorage(name)!.Factory));
        Assert.StartsWith($"storage '{name}': after PrepareAsync", e.Message);
    }

    private sealed class IdleFactory : IPiecePickerFactory
    {
        public string Name => "idle";
        public string Version => "1";
        public string Description => "";
        public IPiecePicker Create(PiecePickerContext context) => new Idle();

        private sealed class Idle : IPiecePicker
        {
            public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked) => 0;
        }
    }
}
