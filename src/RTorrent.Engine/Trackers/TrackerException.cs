namespace RTorrent.Engine.Trackers;

/// <summary>Why a tracker request failed.</summary>
public enum TrackerErrorKind
{
    /// <summary>The tracker could not be reached (DNS, refused connection, reset, TLS failure).</summary>
    Network,
    /// <summary>The tracker did not answer in time.</summary>
    Timeout,
    /// <summary>The tracker answered with an HTTP error status and no failure reason.</summary>
    HttpStatus,
    /// <summary>The answer was not a valid tracker response (not bencode, HTML, truncated, wrong types, too large).</summary>
    InvalidResponse,
    /// <summary>The tracker refused the request and said why (<c>failure reason</c>, or a UDP error packet).</summary>
    TrackerFailure,
    /// <summary>The tracker or URL cannot do what was asked (for example scrape, or an unknown scheme).</summary>
    Unsupported,
}

/// <summary>
/// A tracker request failed. The message is meant for the user as it is (it names the tracker's own reason where
/// there is one) and never contains raw binary.
/// </summary>
public sealed class TrackerException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrackerException(TrackerErrorKind kind, string message, Exception? innerException = null)
        : base(message, innerException) => Kind = kind;

    /// <summary>What went wrong.</summary>
    public TrackerErrorKind Kind { get; }

    /// <summary>
    /// How long the tracker asked us to wait before trying again (BEP 31 <c>retry in</c>), if it said.
    /// </summary>
    public TimeSpan? RetryIn { get; init; }

    /// <summary>The HTTP status of an <see cref="TrackerErrorKind.HttpStatus"/> failure.</summary>
    public int? StatusCode { get; init; }
}
