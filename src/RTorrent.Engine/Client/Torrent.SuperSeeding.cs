using RTorrent.Abstractions;

namespace RTorrent.Engine.Client;

/// <summary>BEP 16 super-seeding: the option, and the <see cref="SuperSeeder"/> while it acts.</summary>
public sealed partial class Torrent
{
    private SuperSeeder? _superSeeder;

    /// <summary>Super-seeding is on for this torrent (it acts while the torrent seeds with every piece).</summary>
    public bool SuperSeeding => Options.SuperSeeding;

    /// <summary>Super-seeding acts now: new peers see no bitfield and get one piece at a time.</summary>
    internal bool SuperSeedingActive => _superSeeder is not null;

    private int _superSeedRevealsBefore;

    /// <summary>Pieces super-seeding has shown peers, over every time it acted (tests).</summary>
    internal int SuperSeedReveals => _superSeedRevealsBefore + (_superSeeder?.Reveals ?? 0);

    /// <summary>
    /// Turns BEP 16 super-seeding on or off (kept with the torrent). On acts while the torrent seeds with every piece,
    /// for peers that connect from then on (the ones connected already know what we have); off at once tells the
    /// peers it held back every piece. It also turns itself off once every piece has been seen in the swarm.
    /// </summary>
    public Task SetSuperSeedingAsync(bool on) => _host.Loop.InvokeAsync(() =>
    {
        if (Options.SuperSeeding == on) return;
        Options = Options with { SuperSeeding = on };
        Log(PluginLogLevel.Information, on ? "super-seeding on" : "super-seeding off");
        if (on) UpdateSuperSeeding();
        else EndSuperSeeding(null);
        _host.OnTorrentChanged(this);
        _host.RequestResumeSave(this);
    });

    /// <summary>Starts the super-seeder when the torrent seeds every piece with the option on; forgets it when it no longer seeds.</summary>
    private void UpdateSuperSeeding()
    {
        bool want = Options.SuperSeeding && State == TorrentState.Seeding && _metainfo is not null && _pieces.HaveField.AllSet;
        if (want == (_superSeeder is not null)) return;
        if (want)
        {
            _superSeeder = new SuperSeeder(this, Meta.PieceCount);
            Log(PluginLogLevel.Information, "super-seeding: new peers see no pieces and get one at a time");
        }
        else
        {
            // Stopped or downloading again: its peers are gone or will hear of pieces as usual.
            _superSeedRevealsBefore += _superSeeder!.Reveals;
            _superSeeder = null;
        }
        Extensions.BroadcastUploadOnly(_peers);
    }

    /// <summary>Ends super-seeding: held-back peers hear every piece; with a reason, the option goes off too.</summary>
    private void EndSuperSeeding(string? reason)
    {
        if (reason is not null && Options.SuperSeeding)
        {
            Options = Options with { SuperSeeding = false };
            Log(PluginLogLevel.Information, "super-seeding done: " + reason);
            _host.OnTorrentChanged(this);
            _host.RequestResumeSave(this);
        }
        if (_superSeeder is not { } s) return;
        _superSeeder = null;
        _superSeedRevealsBefore += s.Reveals;
        s.End();
        Extensions.BroadcastUploadOnly(_peers);
    }
}
