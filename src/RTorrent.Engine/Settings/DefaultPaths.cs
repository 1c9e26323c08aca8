namespace RTorrent.Engine.Settings;

/// <summary>
/// Where RTorrent keeps things by default, following the XDG base directory spec on Linux and BSD, and the usual
/// per-user folders elsewhere.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Session folder (settings.json, resume data, saved .torrent files): <c>$XDG_DATA_HOME/rtorrent</c>, by default
/// <c>~/.local/share/rtorrent</c> (on Windows <c>%LOCALAPPDATA%\rtorrent</c>, on macOS <c>~/Library/Application Support/rtorrent</c>).
/// The plugins folder is <c>plugins/</c> inside it.</item>
/// <item>Download folder: <c>$XDG_DOWNLOAD_DIR</c>, else the <c>XDG_DOWNLOAD_DIR</c> line of
/// <c>$XDG_CONFIG_HOME/user-dirs.dirs</c> (what desktop environments write), else <c>~/Downloads</c>.</item>
/// </list>
/// Relative values of the XDG variables are ignored, as the spec says.
/// </remarks>
public static class DefaultPaths
{
    /// <summary>The default session folder.</summary>
    public static string SessionDirectory => GetSessionDirectory(Environment.GetEnvironmentVariable);

    /// <summary>The default download folder.</summary>
    public static string DownloadDirectory => GetDownloadDirectory(Environment.GetEnvironmentVariable);

    internal static string Home(Func<string, string?> env) =>
        Absolute(env("HOME")) ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);

    internal static string GetSessionDirectory(Func<string, string?> env)
    {
        if (OperatingSystem.IsWindows())
            return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData), "rtorrent");
        if (Absolute(env("XDG_DATA_HOME")) is { } dataHome) return Path.Combine(dataHome, "rtorrent");
        if (OperatingSystem.IsMacOS())
            return Path.Combine(Home(env), "Library", "Application Support", "rtorrent");
        return Path.Combine(Home(env), ".local", "share", "rtorrent");
    }

    internal static string GetDownloadDirectory(Func<string, string?> env)
    {
        var home = Home(env);
        if (Absolute(env("XDG_DOWNLOAD_DIR")) is { } direct) return direct;
        if (!OperatingSystem.IsWindows())
        {
            var config = Absolute(env("XDG_CONFIG_HOME")) ?? Path.Combine(home, ".config");
            if (ReadUserDirsDownload(Path.Combine(config, "user-dirs.dirs"), home) is { } fromFile) return fromFile;
        }
        return Path.Combine(home, "Downloads");
    }

    /// <summary>Reads <c>XDG_DOWNLOAD_DIR="$HOME/..."</c> from a user-dirs.dirs file (shell syntax, only $HOME is expanded).</summary>
    internal static string? ReadUserDirsDownload(string file, string home)
    {
        try
        {
            if (!File.Exists(file)) return null;
            foreach (var raw in File.ReadLines(file))
            {
                var line = raw.Trim();
                if (!line.StartsWith("XDG_DOWNLOAD_DIR=", StringComparison.Ordinal)) continue;
                var value = line["XDG_DOWNLOAD_DIR=".Length..].Trim('"');
                if (value.StartsWith("$HOME", StringComparison.Ordinal)) value = home + value["$HOME".Length..];
                return Absolute(value);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // An unreadable file is as good as none: fall back to ~/Downloads.
        }
        return null;
    }

    private static string? Absolute(string? path) =>
        !string.IsNullOrWhiteSpace(path) && Path.IsPathFullyQualified(path) ? Path.TrimEndingDirectorySeparator(path) : null;
}
