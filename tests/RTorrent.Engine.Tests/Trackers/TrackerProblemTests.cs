using RTorrent.Abstractions;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Tests.Trackers.Fakes;
using RTorrent.Engine.Trackers;

namespace RTorrent.Engine.Tests.Trackers;

/// <summary>
/// <see cref="TrackerPeerSource.Problem"/>: what a torrent's <c>error</c> says in Transmission's RPC. A refusal by the
/// torrent's only tracker is an error, a warning message from a tracker that answered is a warning; a tracker that
/// cannot be reached is neither (as in Transmission), and a later success clears the error.
/// </summary>
public class TrackerProblemTests
{
    private static readonly InfoHash Hash = InfoHash.FromHex("2222222222222222222222222222222222222222");

    private static TrackerPeerSource Create(IReadOnlyList<IReadOnlyList<string>> tiers)
    {
        var context = new PeerSourceContext(Hash.ToArray(), "-RT0100-000000000000"u8.ToArray(), isPrivate: false, tiers, 6881,
            new RecordingPeerSink(), () => new TransferTotals(0, 0, 100));
        return new TrackerPeerSource(context, new TrackerPeerSourceOptions
        {
            AnnounceTimeout = TimeSpan.FromSeconds(5),
            StopTimeout = TimeSpan.FromSeconds(3),
            FirstScrapeDelay = TimeSpan.FromDays(1),
        }, clients: null, new AnnounceScheduler(new AnnounceSchedulerOptions { BurstSize = 1000 }), null, null, new UnshuffledRandom());
    }

    private static FakeHttpResponse Refusal(string reason) => FakeHttpResponse.Bencoded(new BDictionary { ["failure reason"] = new BString(reason) });

    private static FakeHttpResponse Answer(string? warning = null)
    {
        var d = new BDictionary { ["interval"] = new BInteger(1800), ["peers"] = new BString(Array.Empty<byte>()) };
        if (warning is not null) d["warning message"] = new BString(warning);
        return FakeHttpResponse.Bencoded(d);
    }

    [Fact]
    public async Task The_only_tracker_refusing_is_an_error_with_its_reason()
    {
        await using var tracker = new FakeHttpTracker(_ => Refusal("unregistered torrent"));
        await using var source = Create([[tracker.AnnounceUrl]]);
        Assert.Null(source.Problem());
        await source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => source.Problem() is not null, "the refusal");
        Assert.Equal(new TrackerProblem(true, "unregistered torrent"), source.Problem());
        Assert.Equal(source.Problem(), TrackerPeerSource.ProblemOf([source]));
        await source.StopAsync(CancellationToken.None);
        Assert.Null(source.Problem());
    }

    [Fact]
    public async Task A_warning_from_a_tracker_that_answered_is_a_warning()
    {
        await using var tracker = new FakeHttpTracker(_ => Answer(warning: "slow down"));
        await using var source = Create([[tracker.AnnounceUrl]]);
        await source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => source.Problem() is not null, "the warning");
        Assert.Equal(new TrackerProblem(false, "slow down"), source.Problem());
    }

    [Fact]
    public async Task One_refusal_among_several_trackers_and_an_unreachable_tracker_are_not_reported()
    {
        await using var refusing = new FakeHttpTracker(_ => Refusal("go away"));
        await using var working = new FakeHttpTracker(_ => Answer());
        await using var source = Create([[refusing.AnnounceUrl], [working.AnnounceUrl]]);
        await source.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => source.GetStatus().All(s => s.State is "working" or "error"), "both answers");
        Assert.Null(source.Problem());

        await using var unreachable = Create([["http://127.0.0.1:1/announce"]]);
        await unreachable.StartAsync(CancellationToken.None);
        await TestWait.UntilAsync(() => unreachable.GetStatus().Single().State == "error", "the failed announce");
        Assert.Null(unreachable.Problem());
    }
}
