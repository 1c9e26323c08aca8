using System.Runtime.CompilerServices;

namespace RTorrent.Engine.Client.Extensions;

/// <summary>
/// Issue 14: how many ut_metadata requests a peer may have waiting for their answers. A request counts as waiting
/// while the peer's send queue has not drained since it was answered; a peer that reads what it asks for is back at
/// zero every loop turn. Past <see cref="MaxPending"/> the peer is dropped. We ask for 4 pieces at a time ourselves,
/// libtorrent and Transmission for fewer.
/// </summary>
internal sealed class MetadataRequestLimit
{
    /// <summary>ut_metadata requests a peer may have unanswered at once.</summary>
    public const int MaxPending = 16;

    private readonly ConditionalWeakTable<object, Counter> _pending = new();

    private sealed class Counter
    {
        public int Value;
    }

    /// <summary>
    /// Counts a request from <paramref name="peer"/>, whose send queue holds <paramref name="queuedBytes"/>; false when
    /// it is one too many (the peer is to be dropped).
    /// </summary>
    public bool TryAdmit(object peer, int queuedBytes)
    {
        var c = _pending.GetOrCreateValue(peer);
        if (queuedBytes == 0) c.Value = 0; // everything answered so far has left
        return ++c.Value <= MaxPending;
    }
}
