using RTorrent.Abstractions;

namespace RTorrent.Engine.Plugins;

/// <summary>
/// Runs a plugin's piece picker for one torrent and keeps its faults inside: it catches exceptions, checks every
/// ranking (indexes in range, pieces the peer has, pieces we want, no duplicates, count within the span), and times
/// every call. On a fault the picker is disabled for this torrent, <see cref="Disabled"/> is raised once with the
/// reason, and this call and all later ones are answered by the fallback (the engine's default picker).
/// </summary>
/// <remarks>
/// <para>
/// Exceptions and invalid rankings disable the picker at the first occurrence: a picker that returns nonsense once
/// is broken. Slowness is judged by elapsed time per call (measured with <see cref="TimeProvider"/>): a call over
/// <see cref="PluginGuardOptions.PickerHangBudget"/> disables at once; calls over
/// <see cref="PluginGuardOptions.PickerCallBudget"/> are counted, and the picker is disabled at
/// <see cref="PluginGuardOptions.PickerMaxSlowCalls"/>. A valid ranking from a slow call is still used.
/// </para>
/// <para>
/// Pickers run synchronously on the engine loop and cannot be interrupted: a picker that never returns blocks the
/// loop, and no wrapper can prevent that (only running it on another thread could, which would cost every healthy
/// picker a thread hop on the hottest path). The guard only sees how long a call took after it returned.
/// </para>
/// <para>Not thread-safe, like the pickers it wraps: call it from the engine loop only.</para>
/// </remarks>
public sealed class GuardedPiecePicker : IPiecePicker
{
    private readonly PluginGuardOptions _options;
    private readonly TimeProvider _time;
    private ulong[] _seen = [];
    private int _slowCalls;
    private volatile ComponentFault? _fault;

    /// <summary>Wraps <paramref name="inner"/>, answered by <paramref name="fallback"/> once disabled.</summary>
    /// <param name="inner">The plugin's picker for this torrent.</param>
    /// <param name="fallback">The picker that takes over (the engine's default); its results are not checked.</param>
    /// <param name="componentName">The registered name, for messages.</param>
    /// <param name="options">Time budgets; <see cref="PluginGuardOptions.Default"/> when null.</param>
    /// <param name="time">Clock for measuring calls; <see cref="TimeProvider.System"/> when null.</param>
    public GuardedPiecePicker(IPiecePicker inner, IPiecePicker fallback, string componentName, PluginGuardOptions? options = null, TimeProvider? time = null)
        : this(fallback, componentName, options, time)
    {
        Inner = inner ?? throw new ArgumentNullException(nameof(inner));
    }

    private GuardedPiecePicker(IPiecePicker fallback, string componentName, PluginGuardOptions? options, TimeProvider? time)
    {
        Fallback = fallback ?? throw new ArgumentNullException(nameof(fallback));
        ComponentName = componentName ?? throw new ArgumentNullException(nameof(componentName));
        _options = options ?? PluginGuardOptions.Default;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>
    /// Creates the plugin's picker for a torrent through its factory and guards it. When the factory throws or
    /// returns null, the result is already disabled (check <see cref="IsDisabled"/> and <see cref="Fault"/>: the
    /// <see cref="Disabled"/> event cannot reach handlers attached afterwards).
    /// </summary>
    public static GuardedPiecePicker Create(IPiecePickerFactory factory, string componentName, PiecePickerContext context, IPiecePicker fallback,
        PluginGuardOptions? options = null, TimeProvider? time = null)
    {
        ArgumentNullException.ThrowIfNull(factory);
        IPiecePicker? inner;
        Exception? error = null;
        try
        {
            inner = factory.Create(context);
        }
        catch (Exception e)
        {
            inner = null;
            error = e;
        }
        if (inner is not null) return new GuardedPiecePicker(inner, fallback, componentName, options, time);
        var guard = new GuardedPiecePicker(fallback, componentName, options, time) { Inner = NoPicker.Instance };
        guard.Disable(error is null
            ? $"picker '{componentName}' could not be created: its factory returned null"
            : $"picker '{componentName}' could not be created: {error.GetType().Name}: {PluginLoadErrors.FirstLine(error.Message)}", error);
        return guard;
    }

    /// <summary>The plugin's picker.</summary>
    public IPiecePicker Inner { get; private init; } = null!;

    /// <summary>The picker that answers once the plugin's is disabled.</summary>
    public IPiecePicker Fallback { get; }

    /// <summary>The plugin picker's registered name.</summary>
    public string ComponentName { get; }

    /// <summary>Whether the plugin's picker has been disabled for this torrent.</summary>
    public bool IsDisabled => _fault is not null;

    /// <summary>Why it was disabled, or null.</summary>
    public ComponentFault? Fault => _fault;

    /// <summary>Raised once, on the engine loop, when the picker is disabled.</summary>
    public event EventHandler<ComponentFault>? Disabled;

    /// <inheritdoc />
    public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked)
    {
        if (_fault is not null) return Fallback.RankPieces(swarm, peer, ranked);

        var started = _time.GetTimestamp();
        int count;
        try
        {
            count = Inner.RankPieces(swarm, peer, ranked);
        }
        catch (Exception e)
        {
            Disable($"picker '{ComponentName}' threw {e.GetType().Name}: {PluginLoadErrors.FirstLine(e.Message)}", e);
            return Fallback.RankPieces(swarm, peer, ranked);
        }
        var elapsed = _time.GetElapsedTime(started);

        if (Validate(swarm, peer, ranked, count) is { } invalid)
        {
            Disable($"picker '{ComponentName}' {invalid}", null);
            return Fallback.RankPieces(swarm, peer, ranked);
        }
        if (elapsed > _options.PickerHangBudget)
            Disable($"picker '{ComponentName}' took {elapsed.TotalMilliseconds:0} ms for one call (limit {_options.PickerHangBudget.TotalMilliseconds:0} ms)", null);
        else if (elapsed > _options.PickerCallBudget && ++_slowCalls >= _options.PickerMaxSlowCalls)
            Disable($"picker '{ComponentName}' was too slow: {_slowCalls} calls over {_options.PickerCallBudget.TotalMilliseconds:0} ms (the last took {elapsed.TotalMilliseconds:0} ms)", null);
        // The ranking itself was valid, so it is used even when this call was the one that disabled the picker.
        return count;
    }

    /// <summary>Returns what is wrong with a ranking ("returned piece 7, which ..."), or null when it is valid.</summary>
    private string? Validate(ISwarmView swarm, IPeerView peer, ReadOnlySpan<int> ranked, int count)
    {
        if (count < 0 || count > ranked.Length)
            return $"returned a count of {count} for room for {ranked.Length} pieces";
        var pieceCount = swarm.PieceCount;
        var words = (pieceCount + 63) >> 6;
        if (_seen.Length < words) _seen = new ulong[words];
        string? problem = null;
        var checkedUpTo = 0;
        for (; checkedUpTo < count; checkedUpTo++)
        {
            var piece = ranked[checkedUpTo];
            if ((uint)piece >= (uint)pieceCount) { problem = $"returned piece {piece}, out of range (the torrent has {pieceCount} pieces)"; break; }
            ref var word = ref _seen[piece >> 6];
            var bit = 1UL << (piece & 63);
            if ((word & bit) != 0) { problem = $"returned piece {piece} twice in one ranking"; break; }
            word |= bit;
            if (!peer.Pieces[piece]) { problem = $"returned piece {piece}, which the peer does not have"; break; }
            if (!swarm.Wanted[piece])
            {
                problem = swarm.Have[piece]
                    ? $"returned piece {piece}, which we already have"
                    : $"returned piece {piece}, which is not wanted (its files are skipped)";
                break;
            }
        }
        // Clear only the bits this call set, so the check costs O(count), not O(pieces).
        for (var i = 0; i < count && i <= checkedUpTo; i++)
        {
            var piece = ranked[i];
            if ((uint)piece < (uint)pieceCount) _seen[piece >> 6] &= ~(1UL << (piece & 63));
        }
        return problem;
    }

    private void Disable(string reason, Exception? error)
    {
        if (_fault is not null) return;
        var fault = new ComponentFault(ComponentKind.Picker, ComponentName, reason, error, _time.GetUtcNow());
        _fault = fault;
        Disabled?.Invoke(this, fault);
    }

    /// <summary>Stands in for a picker that could not be created; never called because the guard starts disabled.</summary>
    private sealed class NoPicker : IPiecePicker
    {
        public static NoPicker Instance { get; } = new();

        public int RankPieces(ISwarmView swarm, IPeerView peer, Span<int> ranked) => 0;
    }
}
