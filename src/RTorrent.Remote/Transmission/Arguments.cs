using System.Globalization;
using System.Text.Json;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// A request's <c>arguments</c> object, read with libtransmission's conversions (tr_variantGet*): a boolean may be
/// given as 0/1 or "true"/"false", a whole number as a boolean, a real number as a number or a numeric string. A value
/// of a type Transmission would not take is a refusal naming the key and what was expected, never an exception
/// leaving the handler and never silently ignored.
/// </summary>
internal readonly struct Arguments(JsonElement arguments)
{
    private readonly JsonElement _arguments = arguments;

    /// <summary>The keys present.</summary>
    public IEnumerable<string> Keys => _arguments.ValueKind == JsonValueKind.Object ? _arguments.EnumerateObject().Select(p => p.Name) : [];

    /// <summary>Whether <paramref name="key"/> is present (null counts as present).</summary>
    public bool Has(string key) => _arguments.ValueKind == JsonValueKind.Object && _arguments.TryGetProperty(key, out _);

    /// <summary>The raw value of <paramref name="key"/>.</summary>
    public bool TryGet(string key, out JsonElement value)
    {
        value = default;
        return _arguments.ValueKind == JsonValueKind.Object && _arguments.TryGetProperty(key, out value);
    }

    public bool TryGetBool(string key, out bool value)
    {
        value = false;
        if (!TryGet(key, out var e)) return false;
        return ToBool(e, out value) ? true : throw Wrong(key, "true or false", e);
    }

    public bool TryGetLong(string key, out long value)
    {
        value = 0;
        if (!TryGet(key, out var e)) return false;
        return ToLong(e, out value) ? true : throw Wrong(key, "a whole number", e);
    }

    public bool TryGetDouble(string key, out double value)
    {
        value = 0;
        if (!TryGet(key, out var e)) return false;
        return ToDouble(e, out value) ? true : throw Wrong(key, "a number", e);
    }

    public bool TryGetString(string key, out string value)
    {
        value = "";
        if (!TryGet(key, out var e)) return false;
        if (e.ValueKind != JsonValueKind.String) throw Wrong(key, "a string", e);
        value = e.GetString()!;
        return true;
    }

    /// <summary>A list of whole numbers (file indices, torrent ids, tracker ids).</summary>
    public bool TryGetLongList(string key, out List<long> values)
    {
        values = [];
        if (!TryGet(key, out var e)) return false;
        if (e.ValueKind != JsonValueKind.Array) throw Wrong(key, "a list of numbers", e);
        foreach (var item in e.EnumerateArray())
        {
            if (!ToLong(item, out long v)) throw Wrong(key, "a list of numbers", item, "an item is ");
            values.Add(v);
        }
        return true;
    }

    /// <summary>A list of strings (labels, tracker URLs).</summary>
    public bool TryGetStringList(string key, out List<string> values)
    {
        values = [];
        if (!TryGet(key, out var e)) return false;
        if (e.ValueKind != JsonValueKind.Array) throw Wrong(key, "a list of strings", e);
        foreach (var item in e.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String) throw Wrong(key, "a list of strings", item, "an item is ");
            values.Add(item.GetString()!);
        }
        return true;
    }

    public static bool ToBool(JsonElement e, out bool value)
    {
        value = false;
        switch (e.ValueKind)
        {
            case JsonValueKind.True: value = true; return true;
            case JsonValueKind.False: return true;
            case JsonValueKind.Number when e.TryGetInt64(out long n) && n is 0 or 1: value = n == 1; return true;
            case JsonValueKind.String when e.GetString() is "true" or "false": value = e.GetString() == "true"; return true;
            default: return false;
        }
    }

    public static bool ToLong(JsonElement e, out long value)
    {
        value = 0;
        switch (e.ValueKind)
        {
            case JsonValueKind.Number:
                if (e.TryGetInt64(out value)) return true;
                // A whole number written as a real (5.0), as JavaScript clients sometimes send.
                if (e.TryGetDouble(out double d) && d == Math.Floor(d) && Math.Abs(d) < 9e15)
                {
                    value = (long)d;
                    return true;
                }
                return false;
            case JsonValueKind.True: value = 1; return true;
            case JsonValueKind.False: return true;
            default: return false;
        }
    }

    public static bool ToDouble(JsonElement e, out double value)
    {
        value = 0;
        return e.ValueKind switch
        {
            JsonValueKind.Number => e.TryGetDouble(out value) && double.IsFinite(value),
            JsonValueKind.String => double.TryParse(e.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value),
            _ => false,
        };
    }

    private static RpcException Wrong(string key, string expected, JsonElement got, string what = "") =>
        new($"'{key}' must be {expected}; {what}{Describe(got)}");

    private static string Describe(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => $"\"{Shorten(e.GetString()!)}\" is a string",
        JsonValueKind.Number => $"{e.GetRawText()} is a number",
        JsonValueKind.True or JsonValueKind.False => $"{e.GetRawText()} is a boolean",
        JsonValueKind.Null => "null was given",
        JsonValueKind.Array => "a list was given",
        JsonValueKind.Object => "an object was given",
        _ => "nothing was given",
    };

    private static string Shorten(string s) => s.Length <= 40 ? s : s[..40] + "...";
}
