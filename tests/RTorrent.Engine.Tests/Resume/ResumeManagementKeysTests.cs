using System.Security.Cryptography;
using RTorrent.Engine.Bencode;
using RTorrent.Engine.Client;
using RTorrent.Engine.Resume;

namespace RTorrent.Engine.Tests.Resume;

/// <summary>
/// The resume keys added for remote management (labels, edited trackers, queue position, seed ratio mode, times):
/// they round-trip, and files written before them still read, with the defaults they imply.
/// </summary>
public class ResumeManagementKeysTests
{
    private static ResumeData Full() => ResumeDataTests.Sample() with
    {
        SecondsDownloading = 3600,
        SecondsSeeding = 86_400,
        ActivityAt = DateTimeOffset.FromUnixTimeSeconds(1_700_000_500),
        Settings = ResumeDataTests.Sample().Settings with
        {
            Labels = ["tv", "hd"],
            Trackers = [["http://a/announce", "udp://b:6969"], ["https://c/announce"]],
            QueuePosition = 17,
            SeedRatioMode = SeedRatioMode.Unlimited,
            SeedRatioLimit = 2.25,
            MaxConnections = 12,
        },
    };

    [Fact]
    public void The_new_keys_round_trip()
    {
        var original = Full();
        var back = ResumeData.Decode(original.Encode());
        Assert.Equal(["tv", "hd"], back.Settings.Labels);
        Assert.Equal(original.Settings.Trackers, back.Settings.Trackers);
        Assert.Equal(17, back.Settings.QueuePosition);
        Assert.Equal(SeedRatioMode.Unlimited, back.Settings.SeedRatioMode);
        Assert.Equal(2.25, back.Settings.SeedRatioLimit);
        Assert.Equal(12, back.Settings.MaxConnections);
        Assert.Equal((3600L, 86_400L), (back.SecondsDownloading, back.SecondsSeeding));
        Assert.Equal(original.ActivityAt, back.ActivityAt);
        Assert.Equal(original.Encode(), back.Encode());
    }

    /// <summary>The file as the code before these keys wrote it: the same data without them, checksummed again.</summary>
    private static byte[] WithoutNewKeys(ResumeData data)
    {
        var d = (BDictionary)BencodeReader.Decode(data.Encode());
        var settings = d.Get<BDictionary>("settings")!;
        var oldSettings = new BDictionary();
        foreach (var (k, v) in settings)
            if (k.Text is not ("seed-ratio-mode" or "labels" or "trackers" or "queue-position")) oldSettings.Add(k.Text, v);
        var old = new BDictionary();
        foreach (var (k, v) in d)
        {
            if (k.Text is "checksum" or "seconds-downloading" or "seconds-seeding" or "activity") continue;
            old.Add(k.Text, k.Text == "settings" ? oldSettings : v);
        }
        old["checksum"] = new BString(SHA1.HashData(BencodeWriter.Encode(old)));
        return BencodeWriter.Encode(old);
    }

    [Fact]
    public void Forced_round_trips_and_is_absent_unless_set()
    {
        var forced = Full() with { Settings = Full().Settings with { Forced = true } };
        Assert.True(ResumeData.Decode(forced.Encode()).Settings.Forced);
        // Written only when set: files of torrents that are not forced are as before (Full() has no "forced" key).
        var plain = (BDictionary)BencodeReader.Decode(Full().Encode());
        Assert.False(plain.Get<BDictionary>("settings")!.ContainsKey("forced"));
        Assert.False(ResumeData.Decode(Full().Encode()).Settings.Forced);
    }

    [Fact]
    public void A_file_written_before_the_new_keys_reads_with_their_defaults()
    {
        var back = ResumeData.Decode(WithoutNewKeys(Full()));
        Assert.Empty(back.Settings.Labels);
        Assert.Null(back.Settings.Trackers);
        Assert.Null(back.Settings.QueuePosition);
        Assert.Equal((0L, 0L), (back.SecondsDownloading, back.SecondsSeeding));
        Assert.Null(back.ActivityAt);
        // A limit without a mode meant "this torrent's own limit".
        Assert.Equal((SeedRatioMode.Custom, 2.25), (back.Settings.SeedRatioMode, back.Settings.SeedRatioLimit));
        Assert.Equal(12, back.Settings.MaxConnections);

        var noLimit = ResumeData.Decode(WithoutNewKeys(Full() with { Settings = Full().Settings with { SeedRatioLimit = null } }));
        Assert.Equal(SeedRatioMode.Global, noLimit.Settings.SeedRatioMode);
    }

    [Fact]
    public void Malformed_new_keys_make_the_file_corrupt_not_a_crash()
    {
        var d = (BDictionary)BencodeReader.Decode(Full().Encode());
        d.Get<BDictionary>("settings")!["labels"] = new BList { new BInteger(5) };
        var signed = new BDictionary();
        foreach (var (k, v) in d) if (k.Text != "checksum") signed.Add(k.Text, v);
        signed["checksum"] = new BString(SHA1.HashData(BencodeWriter.Encode(signed)));
        var e = Assert.Throws<ResumeException>(() => ResumeData.Decode(BencodeWriter.Encode(signed)));
        Assert.Equal(ResumeProblem.Corrupt, e.Problem);
        Assert.Contains("labels", e.Message);
    }

    [Fact]
    public void Seeding_rule_keys_round_trip_are_absent_by_default_and_a_custom_mode_without_a_limit_is_corrupt()
    {
        var plain = ResumeDataTests.Sample();
        var settings = ((BDictionary)BencodeReader.Decode(plain.Encode())).Get<BDictionary>("settings")!;
        Assert.DoesNotContain(settings, kv => kv.Key.Text.StartsWith("seed-idle") || kv.Key.Text.StartsWith("seeding-time") || kv.Key.Text == "min-seeding-minutes");
        var back = ResumeData.Decode(plain.Encode()).Settings;
        Assert.Equal((SeedRatioMode.Global, (int?)null, SeedRatioMode.Global, (int?)null, (int?)null),
            (back.SeedIdleMode, back.SeedIdleLimit, back.SeedingTimeMode, back.SeedingTimeLimit, back.MinSeedingTime));

        var own = plain with
        {
            Settings = plain.Settings with
            {
                SeedIdleMode = SeedRatioMode.Custom, SeedIdleLimit = 90, SeedingTimeMode = SeedRatioMode.Unlimited, SeedingTimeLimit = 600, MinSeedingTime = 0,
            },
        };
        back = ResumeData.Decode(own.Encode()).Settings;
        Assert.Equal((SeedRatioMode.Custom, (int?)90, SeedRatioMode.Unlimited, (int?)600, (int?)0),
            (back.SeedIdleMode, back.SeedIdleLimit, back.SeedingTimeMode, back.SeedingTimeLimit, back.MinSeedingTime));

        var broken = own with { Settings = own.Settings with { SeedIdleLimit = null } }; // mode 1 written, its minutes not
        var e = Assert.Throws<ResumeException>(() => ResumeData.Decode(broken.Encode()));
        Assert.Equal(ResumeProblem.Corrupt, e.Problem);
    }
}
