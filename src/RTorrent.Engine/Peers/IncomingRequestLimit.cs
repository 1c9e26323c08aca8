namespace RTorrent.Engine.Peers;

/// <summary>
/// Issue 14: block requests a peer sends past the queue we advertise ('reqq', <c>EngineConfig.MaxIncomingRequests</c>)
/// are not queued; a peer that sends more than <see cref="MaxIgnored"/> of them over a connection is not a downloader
/// that raced a cancel but a flood, and is dropped (libtorrent likewise disconnects after a few hundred bad requests).
/// </summary>
internal static class IncomingRequestLimit
{
    /// <summary>Requests past the advertised queue a peer may send before it is dropped.</summary>
    public const int MaxIgnored = 500;

    /// <summary>
    /// Notes one request that found its peer's queue full in <paramref name="ignored"/> (the peer's own count, kept on
    /// the peer for the life of its connection); throws once they are too many.
    /// </summary>
    /// <exception cref="PeerProtocolException">More than <see cref="MaxIgnored"/> so far.</exception>
    public static void Overflowed(ref int ignored, int queueLimit)
    {
        if (++ignored > MaxIgnored)
            throw new PeerProtocolException($"more than {MaxIgnored} block requests past the queue of {queueLimit} we advertised");
    }

    /// <summary>
    /// Notes one request refused for another reason (<paramref name="why"/>, such as "while choked"); past the queue we
    /// advertise plus <see cref="MaxIgnored"/> since the count was reset, the peer is a flood.
    /// </summary>
    /// <exception cref="PeerProtocolException">Too many.</exception>
    public static void Overflowed(ref int refused, int queueLimit, string why)
    {
        if (++refused > queueLimit + MaxIgnored)
            throw new PeerProtocolException($"more than {queueLimit + MaxIgnored} block requests {why}");
    }
}
