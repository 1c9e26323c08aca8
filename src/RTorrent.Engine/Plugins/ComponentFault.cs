namespace RTorrent.Engine.Plugins;

/// <summary>Why a plugin component was disabled (picker, peer source) or failed (storage) for one torrent.</summary>
/// <param name="Kind">The component's kind.</param>
/// <param name="ComponentName">Its registered name.</param>
/// <param name="Reason">One line for the user, e.g. "picker 'sequential' returned piece 12, which the peer does not have".</param>
/// <param name="Exception">The exception the component threw, if any (for the log).</param>
/// <param name="Time">When it happened.</param>
public sealed record ComponentFault(ComponentKind Kind, string ComponentName, string Reason, Exception? Exception, DateTimeOffset Time)
{
    /// <inheritdoc />
    public override string ToString() => Reason;
}
