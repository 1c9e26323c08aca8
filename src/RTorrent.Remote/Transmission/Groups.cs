using System.Text.Json;
using RTorrent.Engine.Client;
using RTorrent.Remote.Hosting;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// <c>group-get</c> and <c>group-set</c>: Transmission 4's bandwidth groups carry RTorrent's categories
/// (docs/CATEGORIES.md). A group has Transmission's fields (RTorrent's categories have no speed limits of their own, so
/// <c>honorsSessionLimits</c> is true and the limits are off; setting them is refused) and RTorrent's own: the
/// category's folders and seeding limits. <c>group-set</c> creates or changes one category by <c>name</c> (fields not
/// given stay as they are) or, with RTorrent's <c>remove: true</c>, removes it.
/// </summary>
internal sealed class Groups(TransmissionContext context)
{
    public void Get(Arguments args, Utf8JsonWriter w)
    {
        HashSet<string>? names = null;
        if (args.TryGet("group", out var g) && g.ValueKind == JsonValueKind.String) names = [g.GetString()!];
        else if (args.TryGetStringList("group", out var list)) names = [.. list];
        string folder = context.Session.DownloadFolder;
        w.WriteStartObject();
        w.WriteStartArray("group");
        foreach (var c in context.Session.Categories.All)
        {
            if (names is not null && !names.Contains(c.Name)) continue;
            w.WriteStartObject();
            w.WriteString("name", c.Name);
            w.WriteBoolean("honorsSessionLimits", true);
            w.WriteBoolean("speed-limit-down-enabled", false);
            w.WriteNumber("speed-limit-down", 0);
            w.WriteBoolean("speed-limit-up-enabled", false);
            w.WriteNumber("speed-limit-up", 0);
            w.WriteString("savePath", c.ResolveSavePath(folder));
            w.WriteString("incompletePath", c.ResolveIncompletePath(folder) ?? "");
            if (c.SeedRatioLimit is { } ratio) w.WriteNumber("seedRatioLimit", ratio);
            if (c.SeedingTimeLimit is { } time) w.WriteNumber("seedingTimeLimit", time);
            if (c.IdleSeedingLimit is { } idle) w.WriteNumber("idleSeedingLimit", idle);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    public async Task<string> SetAsync(Arguments args)
    {
        if (!args.TryGetString("name", out var rawName) || rawName.Trim().Length == 0) throw new RpcException("group-set needs a 'name'");
        string name;
        try { name = CategoryNames.Normalize(rawName); }
        catch (ArgumentException e) { throw new RpcException($"name: {e.Message}"); }
        if (args.TryGetBool("remove", out bool remove) && remove)
        {
            await context.Session.RemoveCategoryAsync(name).ConfigureAwait(false);
            return "success";
        }
        if (args.TryGetBool("honorsSessionLimits", out bool honors) && !honors)
            throw new RpcException("honorsSessionLimits: a category always honours the session's limits in RTorrent");
        if ((args.TryGetBool("speed-limit-down-enabled", out bool down) && down) || (args.TryGetBool("speed-limit-up-enabled", out bool up) && up))
            throw new RpcException("speed-limit-*: RTorrent's categories have no speed limits of their own");
        var c = context.Session.Categories.Find(name) ?? new Category { Name = name };
        if (args.TryGetString("savePath", out var save)) c = c with { SavePath = Folder(save, "savePath") };
        if (args.TryGetString("incompletePath", out var incomplete)) c = c with { IncompletePath = Folder(incomplete, "incompletePath") };
        if (args.Has("seedRatioLimit"))
            c = c with { SeedRatioLimit = args.TryGetDouble("seedRatioLimit", out double r) && r >= 0 ? r : null };
        if (args.Has("seedingTimeLimit")) c = c with { SeedingTimeLimit = Minutes(args, "seedingTimeLimit") };
        if (args.Has("idleSeedingLimit")) c = c with { IdleSeedingLimit = Minutes(args, "idleSeedingLimit") };
        await context.Session.SaveCategoryAsync(c).ConfigureAwait(false);
        context.Journal.Invalidate();
        return "success";
    }

    private static string? Folder(string value, string key)
    {
        if (value.Trim().Length == 0) return null; // the default
        if (!Path.IsPathFullyQualified(value)) throw new RpcException($"{key}: the path is not absolute");
        return value;
    }

    /// <summary>Minutes; -1, 0 or null: none (the session's).</summary>
    private static int? Minutes(Arguments args, string key)
    {
        if (!args.TryGetLong(key, out long m)) return null;
        if (m <= 0) return null;
        if (m > SeedingRules.MaxMinutes) throw new RpcException($"{key} must be 1-{SeedingRules.MaxMinutes} minutes, not {m}");
        return (int)m;
    }
}
