namespace RTorrent.Engine.Plugins;

/// <summary>
/// A torrent's storage failed (threw, hung, or returned nonsense); the torrent must go into its error state. Thrown
/// by <see cref="GuardedStorage"/> for the failing call and every later one.
/// </summary>
public sealed class StorageFaultedException : IOException
{
    /// <summary>Creates the exception.</summary>
    public StorageFaultedException(string componentName, string reason, Exception? innerException = null)
        : base(reason, innerException)
    {
        ComponentName = componentName;
    }

    /// <summary>The storage backend's registered name.</summary>
    public string ComponentName { get; }
}
