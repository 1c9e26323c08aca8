namespace RTorrent.Engine.WebSeeds;

/// <summary>How a web seed failed, which decides how long it waits and how soon it is given up.</summary>
internal enum WebSeedFailure
{
    /// <summary>The network or the server is having trouble (refused, reset, timeout, stall, 5xx, 429, a short body): worth retrying.</summary>
    Transient,

    /// <summary>The server answers wrongly (404, wrong length, ignored range, endless body, redirect loop): it will not get better soon.</summary>
    Protocol,
}

/// <summary>What a web seed is doing.</summary>
public enum WebSeedState
{
    /// <summary>Nothing to fetch (not downloading, or every piece is had or taken).</summary>
    Idle,

    /// <summary>Fetching.</summary>
    Active,

    /// <summary>Demoted: waiting after a failure or a bad piece before it is asked again.</summary>
    Backoff,

    /// <summary>Given up for this run of the torrent (its pieces are fetched elsewhere).</summary>
    Dropped,
}

/// <summary>When a web seed is demoted and when it is dropped (<see cref="WebSeedHealth"/>).</summary>
internal sealed record WebSeedPolicy
{
    /// <summary>The first wait after a failure; each consecutive failure doubles it.</summary>
    public TimeSpan BaseBackoff { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The longest wait a failure makes (a server's Retry-After may ask for more, up to <see cref="MaxRetryAfter"/>).</summary>
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest Retry-After honoured.</summary>
    public TimeSpan MaxRetryAfter { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Transient failures in a row that drop a seed (about a quarter of an hour of backoff at the defaults).</summary>
    public int MaxTransientFailures { get; init; } = 10;

    /// <summary>Protocol failures in a row that drop a seed: a server that answers wrongly three times will not learn.</summary>
    public int MaxProtocolFailures { get; init; } = 3;

    /// <summary>Pieces that failed their hash check that drop a seed (the first only demotes it: a file may be half replaced).</summary>
    public int MaxBadPieces { get; init; } = 2;

    /// <summary>Without a byte for this long, a request has stalled (a failure).</summary>
    public TimeSpan StallTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Redirects followed for one request (libtorrent and curl's default range; .NET's is 50).</summary>
    public int MaxRedirects { get; init; } = 5;

    public static WebSeedPolicy Default { get; } = new();
}

/// <summary>
/// A web seed's record of failures (on the torrent's loop; time from the engine's clock, so tests fake it). A failure
/// demotes the seed: it waits <see cref="WebSeedPolicy.BaseBackoff"/> × 2^(failures in a row − 1), capped, or the
/// server's Retry-After, before it is asked again. Enough failures in a row, or enough bad pieces, drop it for the
/// rest of the torrent's run. A success ends the run of failures (bad pieces are never forgotten).
/// </summary>
internal sealed class WebSeedHealth(WebSeedPolicy policy)
{
    private int _transientInRow;
    private int _protocolInRow;

    public WebSeedPolicy Policy => policy;

    /// <summary>Not asked before this time.</summary>
    public DateTimeOffset RetryAt { get; private set; } = DateTimeOffset.MinValue;

    /// <summary>The last failure, kept after a success so the interface can show it.</summary>
    public string? LastError { get; private set; }

    /// <summary>Why it was dropped, or null.</summary>
    public string? DroppedBecause { get; private set; }

    public bool IsDropped => DroppedBecause is not null;

    /// <summary>Failures in a row (both kinds).</summary>
    public int FailuresInRow => _transientInRow + _protocolInRow;

    /// <summary>Pieces it sent that failed their hash check.</summary>
    public int BadPieces { get; private set; }

    public bool IsReady(DateTimeOffset now) => !IsDropped && now >= RetryAt;

    public void Succeeded()
    {
        _transientInRow = 0;
        _protocolInRow = 0;
    }

    /// <summary>A request failed: the seed waits, and is dropped after too many failures in a row.</summary>
    /// <param name="retryAfter">The server's Retry-After, if it gave one.</param>
    public void Failed(DateTimeOffset now, WebSeedFailure kind, string error, TimeSpan? retryAfter = null)
    {
        LastError = error;
        if (IsDropped) return;
        if (kind == WebSeedFailure.Protocol) _protocolInRow++;
        else _transientInRow++;
        if (_protocolInRow >= policy.MaxProtocolFailures)
        {
            DroppedBecause = $"{error} ({_protocolInRow} times in a row)";
            return;
        }
        if (_transientInRow + _protocolInRow >= policy.MaxTransientFailures)
        {
            DroppedBecause = $"{error} ({FailuresInRow} failures in a row)";
            return;
        }
        var wait = Backoff(FailuresInRow);
        if (retryAfter is { } ra && ra > wait) wait = ra < policy.MaxRetryAfter ? ra : policy.MaxRetryAfter;
        RetryAt = now + wait;
    }

    /// <summary>A piece it sent alone failed its hash check: demoted, or dropped at <see cref="WebSeedPolicy.MaxBadPieces"/>.</summary>
    public void BadPiece(DateTimeOffset now, int piece)
    {
        BadPieces++;
        LastError = $"piece {piece} failed its hash check";
        if (IsDropped) return;
        if (BadPieces >= policy.MaxBadPieces)
        {
            DroppedBecause = $"sent {BadPieces} pieces with wrong data";
            return;
        }
        var wait = Backoff(Math.Max(1, FailuresInRow + 1));
        if (now + wait > RetryAt) RetryAt = now + wait;
    }

    private TimeSpan Backoff(int failures)
    {
        double ticks = policy.BaseBackoff.Ticks * Math.Pow(2, Math.Min(failures - 1, 30));
        return ticks >= policy.MaxBackoff.Ticks ? policy.MaxBackoff : TimeSpan.FromTicks((long)ticks);
    }
}
