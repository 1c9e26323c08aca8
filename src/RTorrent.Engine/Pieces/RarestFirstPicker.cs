using RTorrent.Abstractions;

namespace RTorrent.Engine.Pieces;

/// <summary>
/// The default picker: finish pieces already started, then the rarest pieces, high priority before normal before
/// low, ties broken at random (the engine keeps equal pieces shuffled). Rarest-first spreads pieces across the swarm
/// so no piece dies out when a seed leaves.
/// </summary>
public sealed class RarestFirstPicker : IPiecePicker
{
    /// <inheritdoc/>
    public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
    {
        var wanted = swarm.Wanted;
        var has = peer.Pieces;
        var inProgress = swarm.InProgress;
        int n = 0;

        // Started pieces first, highest priority first: few open pieces means pieces complete and spread sooner.
        for (var level = Priority.High; n < ranked.Length && level >= Priority.Low; level = Lower(level))
        {
            for (int p = inProgress.NextSet(0); p >= 0 && n < ranked.Length; p = inProgress.NextSet(p + 1))
                if (swarm.GetPriority(p) == level && wanted[p] && has[p]) ranked[n++] = p;
        }

        foreach (int p in swarm.PiecesByAvailability)
        {
            if (n == ranked.Length) break;
            if (!inProgress[p] && wanted[p] && has[p]) ranked[n++] = p;
        }
        return n;
    }

    private static Priority Lower(Priority p) => p switch
    {
        Priority.High => Priority.Normal,
        Priority.Normal => Priority.Low,
        _ => (Priority)0,
    };
}

/// <summary>Registers <see cref="RarestFirstPicker"/> as "rarest-first".</summary>
public sealed class RarestFirstPickerFactory : IPiecePickerFactory
{
    /// <summary>The name users choose it by.</summary>
    public const string PickerName = "rarest-first";

    /// <inheritdoc/>
    public string Name => PickerName;

    /// <inheritdoc/>
    public string Version => "1.0";

    /// <inheritdoc/>
    public string Description => "Rarest pieces first, started pieces finished first, file priorities honoured (default).";

    /// <inheritdoc/>
    public IPiecePicker Create(PiecePickerContext context) => new RarestFirstPicker();
}
