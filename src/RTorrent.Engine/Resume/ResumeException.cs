namespace RTorrent.Engine.Resume;

/// <summary>Why resume data cannot be used.</summary>
public enum ResumeProblem
{
    /// <summary>The file ends early (a crash during a non-atomic copy, a full disk).</summary>
    Truncated,
    /// <summary>The content is damaged or malformed.</summary>
    Corrupt,
    /// <summary>Written in a newer format than this version reads.</summary>
    UnsupportedVersion,
    /// <summary>Valid, but for another torrent (info-hash, piece count or file count differ).</summary>
    Mismatch,
    /// <summary>The file exists but cannot be read.</summary>
    Unreadable,
}

/// <summary>
/// Resume data that cannot be used. The caller reports <see cref="Exception.Message"/> on the torrent and rechecks
/// its data; it never stops the program.
/// </summary>
public sealed class ResumeException : Exception
{
    /// <summary>Creates the exception; <paramref name="reason"/> completes "Resume data cannot be used: ...".</summary>
    public ResumeException(ResumeProblem problem, string reason, Exception? inner = null)
        : base($"Resume data cannot be used: {reason}", inner)
    {
        Problem = problem;
        Reason = reason;
    }

    /// <summary>What kind of problem it is.</summary>
    public ResumeProblem Problem { get; }

    /// <summary>The reason alone, without the leading sentence.</summary>
    public string Reason { get; }
}
