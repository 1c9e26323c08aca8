namespace RTorrent.Tui;

/// <summary>
/// rTorrent's throttle keys: a/z, s/x, d/c raise and lower the global upload limit by 1, 5 and 50 KiB/s; the capitals
/// do the same for the download limit. As in rTorrent, 0 means unlimited: raising from unlimited starts at the step,
/// and lowering to zero or below makes the limit go away.
/// </summary>
public static class Throttle
{
    /// <summary>Which limit a key changes.</summary>
    public enum Direction
    {
        /// <summary>The upload limit.</summary>
        Upload,
        /// <summary>The download limit.</summary>
        Download,
    }

    /// <summary>The change a throttle key makes, or null when <paramref name="key"/> is not one.</summary>
    public static (Direction Direction, long Delta)? ForKey(char key) => key switch
    {
        'a' => (Direction.Upload, 1024),
        'z' => (Direction.Upload, -1024),
        's' => (Direction.Upload, 5 * 1024),
        'x' => (Direction.Upload, -5 * 1024),
        'd' => (Direction.Upload, 50 * 1024),
        'c' => (Direction.Upload, -50 * 1024),
        'A' => (Direction.Download, 1024),
        'Z' => (Direction.Download, -1024),
        'S' => (Direction.Download, 5 * 1024),
        'X' => (Direction.Download, -5 * 1024),
        'D' => (Direction.Download, 50 * 1024),
        'C' => (Direction.Download, -50 * 1024),
        _ => null,
    };

    /// <summary>The limit after a step of <paramref name="delta"/> bytes/s from <paramref name="current"/> (0 = unlimited).</summary>
    public static long Apply(long current, long delta)
    {
        if (current <= 0) return delta > 0 ? delta : 0;
        long next = current + delta;
        return next <= 0 ? 0 : next;
    }
}
