namespace RTorrent.Cli;

/// <summary>The program's exit codes.</summary>
public static class ExitCodes
{
    /// <summary>Done.</summary>
    public const int Ok = 0;

    /// <summary>Any other failure: bad usage, I/O errors while writing, a bug.</summary>
    public const int Failure = 1;

    /// <summary>The input (a .torrent, a magnet link, a path) is unreadable or not usable.</summary>
    public const int UnusableInput = 2;
}
