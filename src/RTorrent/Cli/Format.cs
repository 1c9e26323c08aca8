using System.Globalization;

namespace RTorrent.Cli;

/// <summary>Numbers for people.</summary>
internal static class Format
{
    private static readonly string[] Units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];

    /// <summary>1536 -> "1.5 KiB"; below 1 KiB the exact count of bytes.</summary>
    public static string Size(long bytes)
    {
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        double value = bytes;
        int unit = 0;
        while (value >= 1024 && unit < Units.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        return value.ToString(value >= 100 ? "0" : value >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture) + " " + Units[unit];
    }

    /// <summary>An exact count with thousands separators: "1,048,576".</summary>
    public static string Count(long n) => n.ToString("N0", CultureInfo.InvariantCulture);
}
