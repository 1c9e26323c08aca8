using RTorrent.Abstractions;
using Xunit;
using Xunit.Sdk;

namespace RTorrent.Plugins.Conformance;

/// <summary>
/// Checks that a piece picker keeps the rules the engine enforces (an engine would disable a picker that breaks
/// them): every returned index is in range, the peer has it, we want it (so we do not have it), none twice, and the
/// count fits the span. It also checks that the picker makes progress: given room and a wanted piece the peer has,
/// it returns at least one piece.
/// </summary>
public static class PickerConformance
{
    /// <summary>
    /// Runs the picker over many generated swarms (sizes 1 to 2000 pieces, random have/priority/availability/peer
    /// bitfields, stream positions inside and outside the torrent, span lengths 0 to 200) and fails with the first
    /// broken rule.
    /// </summary>
    /// <param name="factory">The picker factory under test.</param>
    /// <param name="rounds">Swarms to try.</param>
    /// <param name="seed">Random seed; a failure message names it so the case can be replayed.</param>
    /// <param name="requireProgress">Check that the picker returns something when it can (true unless a picker deliberately idles).</param>
    public static void Invariants(IPiecePickerFactory factory, int rounds = 300, int seed = 20260101, bool requireProgress = true)
    {
        ArgumentNullException.ThrowIfNull(factory);
        Assert.False(string.IsNullOrWhiteSpace(factory.Name), "A picker factory needs a name.");
        var random = new Random(seed);
        int[] sizes = [1, 2, 7, 64, 333, 2000];
        for (var round = 0; round < rounds; round++)
        {
            var pieceCount = sizes[round % sizes.Length];
            const long pieceLength = 16 * 1024;
            var swarm = RandomSwarm(random, pieceCount, pieceLength);
            var peer = RandomPeer(random, pieceCount);
            var context = new PiecePickerContext(pieceCount, pieceLength, pieceCount * pieceLength,
                [new PickerFileSpan("file.bin", 0, pieceCount * pieceLength, 0, pieceCount - 1, false)]);
            var picker = factory.Create(context);
            Assert.NotNull(picker);
            // A picker is called many times with changing state; call it a few times per swarm, changing it.
            for (var call = 0; call < 4; call++)
            {
                var room = random.Next(4) switch { 0 => 0, 1 => 1, 2 => random.Next(2, 20), _ => random.Next(20, 200) };
                var ranked = new int[room];
                int count;
                try
                {
                    count = picker.RankPieces(swarm, peer, ranked);
                }
                catch (Exception e)
                {
                    throw new XunitException($"{Where(factory, seed, round, call)}: RankPieces threw {e.GetType().Name}: {e.Message}");
                }
                if (CheckRanking(swarm, peer, ranked, count) is { } problem)
                    throw new XunitException($"{Where(factory, seed, round, call)}: {problem}");
                if (requireProgress && room > 0 && count == 0 && HasWantedPiece(swarm, peer))
                    throw new XunitException($"{Where(factory, seed, round, call)}: returned nothing although the peer has pieces we want");
                // The engine downloads some of what was ranked; pretend the first one completed.
                if (count > 0)
                {
                    swarm.Have[ranked[0]] = true;
                    swarm.InProgress[ranked[0]] = false;
                }
            }
        }
    }

    /// <summary>What is wrong with a ranking, or null when it keeps every rule. Useful in an author's own tests.</summary>
    public static string? CheckRanking(ISwarmView swarm, IPeerView peer, ReadOnlySpan<int> ranked, int count)
    {
        if (count < 0 || count > ranked.Length) return $"returned a count of {count} for a span of {ranked.Length}";
        var seen = new HashSet<int>();
        for (var i = 0; i < count; i++)
        {
            var p = ranked[i];
            if (p < 0 || p >= swarm.PieceCount) return $"ranked[{i}] = {p} is out of range (0..{swarm.PieceCount - 1})";
            if (!seen.Add(p)) return $"ranked[{i}] = {p} is a duplicate";
            if (!peer.Pieces[p]) return $"ranked[{i}] = {p} is a piece the peer does not have";
            if (swarm.Have[p]) return $"ranked[{i}] = {p} is a piece we already have";
            if (!swarm.Wanted[p]) return $"ranked[{i}] = {p} is not wanted (skipped)";
        }
        return null;
    }

    private static bool HasWantedPiece(ISwarmView swarm, IPeerView peer)
    {
        for (var p = swarm.Wanted.NextSet(0); p >= 0; p = swarm.Wanted.NextSet(p + 1))
            if (peer.Pieces[p]) return true;
        return false;
    }

    private static FakeSwarm RandomSwarm(Random random, int pieceCount, long pieceLength)
    {
        var swarm = new FakeSwarm(pieceCount);
        var haveRatio = random.NextDouble();
        Priority[] priorities = [Priority.Skip, Priority.Low, Priority.Normal, Priority.Normal, Priority.High];
        for (var p = 0; p < pieceCount; p++)
        {
            swarm.Have[p] = random.NextDouble() < haveRatio;
            swarm.SetPriority(p, priorities[random.Next(priorities.Length)]);
            swarm.SetAvailability(p, random.Next(0, 50));
            swarm.InProgress[p] = !swarm.Have[p] && random.Next(10) == 0;
        }
        swarm.StreamPosition = random.Next(4) switch
        {
            0 => null,
            1 => random.NextInt64(0, pieceCount * pieceLength),
            2 => 0,
            _ => pieceCount * pieceLength + random.Next(1, 1000), // past the end: a picker must cope
        };
        swarm.IsEndgame = random.Next(8) == 0;
        return swarm;
    }

    private static FakePeer RandomPeer(Random random, int pieceCount)
    {
        var kind = random.Next(4);
        var pieces = new FakeBitfield(pieceCount);
        var ratio = random.NextDouble();
        for (var p = 0; p < pieceCount; p++) pieces[p] = kind switch { 0 => true, 1 => false, _ => random.NextDouble() < ratio };
        return new FakePeer(pieces) { DownloadRate = random.Next(0, 10_000_000) };
    }

    private static string Where(IPiecePickerFactory factory, int seed, int round, int call) =>
        $"picker '{factory.Name}' (seed {seed}, round {round}, call {call})";
}
