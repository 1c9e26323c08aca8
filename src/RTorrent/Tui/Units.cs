using System.Globalization;

namespace RTorrent.Tui;

/// <summary>
/// Byte counts and rates as people read them. Binary units throughout (1 KiB = 1024 bytes), as rTorrent and
/// libtorrent-based clients show them; rate limits typed by the user are KiB/s unless they say otherwise.
/// </summary>
public static class Units
{
    private static readonly string[] CompactSuffixes = ["B", "K", "M", "G", "T", "P", "E"];
    private static readonly string[] LongSuffixes = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];

    /// <summary>At most four characters for table columns: <c>999B</c>, <c>1.5K</c>, <c>512M</c>, <c>2.0G</c>.</summary>
    public static string CompactSize(long bytes)
    {
        if (bytes < 0) return "?";
        if (bytes < 1000) return bytes.ToString(CultureInfo.InvariantCulture) + "B";
        double value = bytes;
        int unit = 0;
        while (value >= 999.5 && unit < CompactSuffixes.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        // One decimal below 10 keeps four characters ("9.9K"); whole numbers above ("123K").
        string number = value < 9.95
            ? value.ToString("0.0", CultureInfo.InvariantCulture)
            : Math.Round(value).ToString("0", CultureInfo.InvariantCulture);
        return number + CompactSuffixes[unit];
    }

    /// <summary>A size with its unit: <c>999 B</c>, <c>1.50 KiB</c>, <c>12.3 MiB</c>, <c>512 GiB</c>.</summary>
    public static string Size(long bytes)
    {
        if (bytes < 0) return "?";
        if (bytes < 1024) return bytes.ToString(CultureInfo.InvariantCulture) + " B";
        double value = bytes;
        int unit = 0;
        while (value >= 1000 && unit < LongSuffixes.Length - 1)
        {
            value /= 1024;
            unit++;
        }
        string format = value < 10 ? "0.00" : value < 100 ? "0.0" : "0";
        return value.ToString(format, CultureInfo.InvariantCulture) + " " + LongSuffixes[unit];
    }

    /// <summary>A rate: <c>0 B/s</c>, <c>1.50 MiB/s</c>.</summary>
    public static string Rate(long bytesPerSecond) => Size(bytesPerSecond) + "/s";

    /// <summary>A rate for a table column, at most four characters, or "-" when nothing moves.</summary>
    public static string CompactRate(long bytesPerSecond) => bytesPerSecond <= 0 ? "-" : CompactSize(bytesPerSecond);

    /// <summary>A rate limit: <c>none</c> for 0, otherwise the rate.</summary>
    public static string Limit(long bytesPerSecond) => bytesPerSecond <= 0 ? "none" : Rate(bytesPerSecond);

    /// <summary>A rate limit for a text field: KiB/s as a plain number, empty for none.</summary>
    public static string LimitForEditing(long bytesPerSecond)
    {
        if (bytesPerSecond <= 0) return "";
        double kib = bytesPerSecond / 1024.0;
        return kib.ToString("0.##", CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Reads a rate limit typed by a user. A plain number is KiB/s (rTorrent's unit); <c>K</c>, <c>M</c>, <c>G</c>
    /// (with or without <c>iB</c>, <c>B</c>, <c>/s</c>) and <c>B</c> say otherwise. Empty, <c>0</c>, <c>none</c>
    /// and <c>unlimited</c> mean no limit.
    /// </summary>
    public static bool TryParseLimit(string? text, out long bytesPerSecond, out string? error)
    {
        bytesPerSecond = 0;
        error = null;
        string s = (text ?? "").Trim().ToLowerInvariant().Replace(" ", "", StringComparison.Ordinal);
        if (s.EndsWith("/s", StringComparison.Ordinal)) s = s[..^2];
        if (s is "" or "none" or "unlimited" or "-" or "0") return true;

        long multiplier = 1024;
        string[] suffixes = ["kib", "kb", "k", "mib", "mb", "m", "gib", "gb", "g", "b"];
        foreach (string suffix in suffixes)
        {
            if (!s.EndsWith(suffix, StringComparison.Ordinal)) continue;
            multiplier = suffix[0] switch { 'k' => 1024L, 'm' => 1024L * 1024, 'g' => 1024L * 1024 * 1024, _ => 1 };
            s = s[..^suffix.Length];
            break;
        }

        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || double.IsNaN(value))
        {
            error = $"'{text}' is not a rate: type a number of KiB/s (e.g. 500), or with a unit (1.5M), or leave it empty for no limit.";
            return false;
        }
        if (value < 0)
        {
            error = "A rate limit cannot be negative.";
            return false;
        }
        double bytes = Math.Round(value * multiplier);
        if (bytes > long.MaxValue / 2)
        {
            error = $"'{text}' is too large for a rate limit.";
            return false;
        }
        bytesPerSecond = (long)bytes;
        return true;
    }

    private static readonly string[] DayNames = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

    /// <summary>Minutes after midnight as HH:MM.</summary>
    public static string MinuteOfDay(int minutes) => string.Create(CultureInfo.InvariantCulture, $"{minutes / 60:00}:{minutes % 60:00}");

    /// <summary>HH:MM (or H:MM) as minutes after midnight, or null.</summary>
    public static int? ParseMinuteOfDay(string? text)
    {
        var parts = (text ?? "").Trim().Split(':');
        return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int h) &&
               int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int m) && h is >= 0 and < 24 && m is >= 0 and < 60 &&
               parts[1].Length == 2
            ? h * 60 + m
            : null;
    }

    /// <summary>Transmission's day bitmask (Sunday 1 ... Saturday 64) for people: "every day", "Mon-Fri", "Sat,Sun", "Mon,Wed", "never".</summary>
    public static string Days(int mask)
    {
        mask &= 127;
        if (mask == 127) return "every day";
        if (mask == 0) return "never";
        if (mask == 0b0111110) return "Mon-Fri";
        // Monday first, as people read a week.
        return string.Join(",", new[] { 1, 2, 3, 4, 5, 6, 0 }.Where(d => (mask & (1 << d)) != 0).Select(d => DayNames[d]));
    }

    /// <summary>Days as <see cref="Days"/> writes them (also ranges such as Sat-Sun, names of any case, or the bitmask); null when not understood.</summary>
    public static int? ParseDays(string? text)
    {
        string t = (text ?? "").Trim();
        if (t.Equals("every day", StringComparison.OrdinalIgnoreCase) || t.Equals("daily", StringComparison.OrdinalIgnoreCase)) return 127;
        if (t.Equals("never", StringComparison.OrdinalIgnoreCase)) return 0;
        if (t.Equals("weekdays", StringComparison.OrdinalIgnoreCase)) return 0b0111110;
        if (t.Equals("weekends", StringComparison.OrdinalIgnoreCase)) return 0b1000001;
        if (int.TryParse(t, NumberStyles.None, CultureInfo.InvariantCulture, out int n)) return n is >= 0 and <= 127 ? n : null;
        if (t.Length == 0) return null;
        int mask = 0;
        foreach (string part in t.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            string[] range = part.Split('-', StringSplitOptions.TrimEntries);
            if (range.Length is < 1 or > 2 || Day(range[0]) is not { } first) return null;
            int last = first;
            if (range.Length == 2 && Day(range[1]) is not { } l) return null;
            else if (range.Length == 2) last = Day(range[1])!.Value;
            // Monday-based order, so Fri-Mon wraps over the weekend.
            for (int d = first; ; d = (d + 1) % 7)
            {
                mask |= 1 << d;
                if (d == last) break;
            }
        }
        return mask;

        static int? Day(string name)
        {
            if (name.Length < 2) return null;
            for (int i = 0; i < DayNames.Length; i++)
                if (DayNames[i].StartsWith(name[..Math.Min(3, name.Length)], StringComparison.OrdinalIgnoreCase) &&
                    (name.Length <= 3 || CultureInfo.InvariantCulture.DateTimeFormat.DayNames[i].StartsWith(name, StringComparison.OrdinalIgnoreCase)))
                    return i;
            return null;
        }
    }
}
