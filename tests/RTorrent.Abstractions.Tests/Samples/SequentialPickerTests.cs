using RTorrent.Plugins.Conformance;
using RTorrent.Plugins.SequentialPicker;

namespace RTorrent.Abstractions.Tests.Samples;

public sealed class SequentialPickerTests
{
    private const long PieceLength = 1024 * 1024;

    private static SequentialPiecePicker Picker(int pieces, int window) =>
        new(new PiecePickerContext(pieces, PieceLength, pieces * PieceLength, [new PickerFileSpan("movie.mkv", 0, pieces * PieceLength, 0, pieces - 1, false)]),
            new SequentialPickerOptions { WindowBytes = window * PieceLength, MinWindowPieces = 1 });

    private static int[] Rank(IPiecePicker picker, ISwarmView swarm, IPeerView peer, int room)
    {
        var ranked = new int[room];
        var n = picker.RankPieces(swarm, peer, ranked);
        Assert.Null(PickerConformance.CheckRanking(swarm, peer, ranked, n));
        return ranked[..n];
    }

    [Fact]
    public void Without_a_stream_position_it_downloads_in_order_from_the_first_missing_piece()
    {
        var swarm = new FakeSwarm(20);
        swarm.Have[0] = swarm.Have[1] = swarm.Have[3] = true;

        Assert.Equal([2, 4, 5, 6, 7, 8], Rank(Picker(20, 4), swarm, FakePeer.Seed(20), 6));
    }

    [Fact]
    public void The_window_after_the_playback_position_comes_first_then_the_rest_in_order_wrapping_around()
    {
        var swarm = new FakeSwarm(20) { StreamPosition = 10 * PieceLength + 5 };

        Assert.Equal([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9], Rank(Picker(20, 4), swarm, FakePeer.Seed(20), 20));
    }

    [Fact]
    public void The_window_beats_priorities_and_the_rest_follows_them()
    {
        var swarm = new FakeSwarm(20) { StreamPosition = 10 * PieceLength };
        swarm.SetPriority(0, 1, Priority.High);   // another file the user wants first
        swarm.SetPriority(16, 17, Priority.Low);
        swarm.SetPriority(18, 19, Priority.Skip);

        Assert.Equal([10, 11, 12, 13, 0, 1, 14, 15, 2, 3, 4, 5, 6, 7, 8, 9, 16, 17], Rank(Picker(20, 4), swarm, FakePeer.Seed(20), 20));
    }

    [Fact]
    public void Only_pieces_the_peer_has_and_that_we_want_are_ranked()
    {
        var swarm = new FakeSwarm(12) { StreamPosition = 0 };
        swarm.Have[1] = true;
        var peer = new FakePeer(FakeBitfield.Of(12, [0, 1, 3, 7, 11]));

        Assert.Equal([0, 3, 7, 11], Rank(Picker(12, 4), swarm, peer, 10));
    }

    [Fact]
    public void A_position_past_everything_wanted_falls_back_to_the_first_wanted_piece()
    {
        var swarm = new FakeSwarm(10) { StreamPosition = 8 * PieceLength };
        for (var p = 8; p < 10; p++) swarm.Have[p] = true;

        Assert.Equal([0, 1, 2], Rank(Picker(10, 2), swarm, FakePeer.Seed(10), 3));
        swarm.StreamPosition = 1000 * PieceLength; // beyond the torrent
        Assert.Equal([0, 1, 2], Rank(Picker(10, 2), swarm, FakePeer.Seed(10), 3));
    }

    [Fact]
    public void Nothing_wanted_or_no_room_gives_nothing()
    {
        var swarm = new FakeSwarm(4);
        for (var p = 0; p < 4; p++) swarm.Have[p] = true;
        Assert.Empty(Rank(Picker(4, 2), swarm, FakePeer.Seed(4), 4));
        Assert.Empty(Rank(Picker(4, 2), new FakeSwarm(4), FakePeer.Seed(4), 0));
    }

    [Fact]
    public void The_window_covers_the_configured_bytes_and_never_fewer_than_the_minimum_pieces()
    {
        var options = new SequentialPickerOptions();
        Assert.Equal(16, options.WindowPieces(1024 * 1024));
        Assert.Equal(4, options.WindowPieces(16 * 1024 * 1024)); // huge pieces: the minimum
        Assert.Equal(1024, options.WindowPieces(16 * 1024));
    }

    [Fact]
    public void Settings_come_from_the_host_and_bad_values_keep_the_default_with_a_warning()
    {
        var host = new FakeHost(new() { ["sequential.window-bytes"] = "1048576", ["sequential.min-window-pieces"] = "zero" });

        var options = SequentialPickerOptions.FromHost(host);

        Assert.Equal(1048576, options.WindowBytes);
        Assert.Equal(4, options.MinWindowPieces);
        Assert.Contains(host.Lines, l => l.Contains("sequential.min-window-pieces"));
    }

    [Fact]
    public void It_keeps_the_picker_invariants() => PickerConformance.Invariants(new SequentialPickerFactory());
}

/// <summary>A host with fixed settings that records log lines.</summary>
internal sealed class FakeHost(Dictionary<string, string>? settings = null) : IPluginHost
{
    public List<string> Lines { get; } = [];

    public Version ContractsVersion => PluginContracts.Version;

    public void Log(PluginLogLevel level, string message)
    {
        lock (Lines) Lines.Add($"{level}: {message}");
    }

    public string? GetSetting(string key) => settings?.GetValueOrDefault(key);
}
