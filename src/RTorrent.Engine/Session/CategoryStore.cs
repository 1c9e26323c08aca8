using System.Text.Json;
using RTorrent.Engine.Client;
using RTorrent.Engine.Resume;

namespace RTorrent.Engine.Session;

/// <summary>
/// The session's categories, kept in <c>categories.json</c> in the session folder (as qBittorrent keeps its
/// <c>categories.json</c> beside its settings; docs/CATEGORIES.md): a JSON object from each name to its folders and
/// limits. Written atomically on every change. A file that cannot be read is set aside as
/// <c>categories.json.invalid</c> with a line in the session log, so the user's file is never overwritten unread.
/// Thread-safe; readers get an immutable list.
/// </summary>
public sealed class CategoryStore
{
    /// <summary>The file's name in the session folder.</summary>
    public const string FileName = "categories.json";

    /// <summary>Largest file read (1 MiB), and most categories (10,000).</summary>
    public const int MaxFileBytes = 1 << 20, MaxCategories = 10_000;

    private readonly string? _path;
    private readonly object _lock = new();
    private readonly SemaphoreSlim _write = new(1, 1);
    private Dictionary<string, Category> _byName = new(StringComparer.Ordinal);
    private IReadOnlyList<Category> _all = [];

    /// <summary>A store in <paramref name="sessionDirectory"/>, or in memory only when it is null.</summary>
    public CategoryStore(string? sessionDirectory)
    {
        _path = sessionDirectory is null ? null : Path.Combine(sessionDirectory, FileName);
    }

    /// <summary>Every category, sorted by name.</summary>
    public IReadOnlyList<Category> All
    {
        get { lock (_lock) return _all; }
    }

    /// <summary>The category named <paramref name="name"/> (exactly), or null.</summary>
    public Category? Find(string? name)
    {
        if (name is null) return null;
        lock (_lock) return _byName.GetValueOrDefault(name);
    }

    /// <summary>Reads the file; returns a problem for the session log, or null.</summary>
    internal string? Load()
    {
        if (_path is null || !File.Exists(_path)) return null;
        try
        {
            var info = new FileInfo(_path);
            if (info.Length > MaxFileBytes) throw new FormatException($"it is larger than {MaxFileBytes} bytes");
            var categories = Parse(File.ReadAllBytes(_path));
            Replace(categories);
            return null;
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException or IOException or UnauthorizedAccessException)
        {
            string aside = _path + ".invalid";
            try { File.Move(_path, aside, overwrite: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            return $"{FileName} could not be read ({e.Message.TrimEnd('.')}); it was set aside as {Path.GetFileName(aside)} and the session starts without categories";
        }
    }

    /// <summary>Adds or replaces a category (already validated) and saves the file.</summary>
    internal async Task PutAsync(Category category)
    {
        lock (_lock)
        {
            if (!_byName.ContainsKey(category.Name) && _byName.Count >= MaxCategories)
                throw new InvalidOperationException($"A session has at most {MaxCategories} categories.");
            var next = new Dictionary<string, Category>(_byName, StringComparer.Ordinal) { [category.Name] = category };
            Set(next);
        }
        await SaveAsync().ConfigureAwait(false);
    }

    /// <summary>Removes a category and saves the file; false when there was none of that name.</summary>
    internal async Task<bool> RemoveAsync(string name)
    {
        lock (_lock)
        {
            if (!_byName.ContainsKey(name)) return false;
            var next = new Dictionary<string, Category>(_byName, StringComparer.Ordinal);
            next.Remove(name);
            Set(next);
        }
        await SaveAsync().ConfigureAwait(false);
        return true;
    }

    private void Replace(IEnumerable<Category> categories)
    {
        var next = new Dictionary<string, Category>(StringComparer.Ordinal);
        foreach (var c in categories) next[c.Name] = c;
        lock (_lock) Set(next);
    }

    private void Set(Dictionary<string, Category> next)
    {
        _byName = next;
        _all = next.Values.OrderBy(c => c.Name, StringComparer.OrdinalIgnoreCase).ThenBy(c => c.Name, StringComparer.Ordinal).ToArray();
    }

    private async Task SaveAsync()
    {
        if (_path is null) return;
        await _write.WaitAsync().ConfigureAwait(false);
        try
        {
            // The list at the time of writing: a later change writes again after this one.
            await AtomicFile.WriteAllBytesAsync(_path, Serialize(All)).ConfigureAwait(false);
        }
        finally
        {
            _write.Release();
        }
    }

    /// <summary>The file's content for <paramref name="categories"/>.</summary>
    public static byte[] Serialize(IEnumerable<Category> categories)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            foreach (var c in categories)
            {
                w.WriteStartObject(c.Name);
                if (c.SavePath is { } save) w.WriteString("savePath", save);
                if (c.IncompletePath is { } incomplete) w.WriteString("incompletePath", incomplete);
                if (c.SeedRatioLimit is { } ratio) w.WriteNumber("seedRatioLimit", ratio);
                if (c.SeedingTimeLimit is { } time) w.WriteNumber("seedingTimeLimit", time);
                if (c.IdleSeedingLimit is { } idle) w.WriteNumber("idleSeedingLimit", idle);
                w.WriteEndObject();
            }
            w.WriteEndObject();
        }
        return stream.ToArray();
    }

    /// <summary>Reads the file's content; every category is validated.</summary>
    /// <exception cref="FormatException">Not the expected shape, or an unknown key; the message names it.</exception>
    /// <exception cref="ArgumentException">A bad name, folder or limit.</exception>
    /// <exception cref="JsonException">Not JSON.</exception>
    public static IReadOnlyList<Category> Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true, MaxDepth = 4 });
        using var doc = JsonDocument.ParseValue(ref reader);
        if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException("it is not a JSON object of categories");
        var result = new List<Category>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in doc.RootElement.EnumerateObject())
        {
            if (result.Count >= MaxCategories) throw new FormatException($"it holds more than {MaxCategories} categories");
            if (entry.Value.ValueKind != JsonValueKind.Object) throw new FormatException($"category '{entry.Name}' is not an object");
            var c = new Category { Name = entry.Name };
            foreach (var field in entry.Value.EnumerateObject())
            {
                c = field.Name switch
                {
                    "savePath" => c with { SavePath = Text(field) },
                    "incompletePath" => c with { IncompletePath = Text(field) },
                    "seedRatioLimit" => c with { SeedRatioLimit = field.Value.ValueKind == JsonValueKind.Null ? null : field.Value.GetDouble() },
                    "seedingTimeLimit" => c with { SeedingTimeLimit = Minutes(field) },
                    "idleSeedingLimit" => c with { IdleSeedingLimit = Minutes(field) },
                    _ => throw new FormatException($"category '{entry.Name}': unknown key '{field.Name}'"),
                };
            }
            c = c.Validated();
            if (!seen.Add(c.Name)) throw new FormatException($"category '{c.Name}' is there twice");
            result.Add(c);
        }
        return result;
    }

    private static string? Text(JsonProperty field) => field.Value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.String => field.Value.GetString(),
        _ => throw new FormatException($"'{field.Name}' must be a string"),
    };

    private static int? Minutes(JsonProperty field) => field.Value.ValueKind switch
    {
        JsonValueKind.Null => null,
        JsonValueKind.Number when field.Value.TryGetInt32(out int m) => m,
        _ => throw new FormatException($"'{field.Name}' must be a whole number of minutes"),
    };
}
