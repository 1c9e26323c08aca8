using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using RTorrent.Engine.Resume;

namespace RTorrent.Engine.Settings;

/// <summary>Settings that cannot be used; the message names the file and every bad field.</summary>
public sealed class SettingsException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SettingsException(string source, IReadOnlyList<string> errors, Exception? inner = null)
        : base($"{source} is not valid: {string.Join("; ", errors)}", inner)
    {
        Errors = errors;
    }

    /// <summary>One line per problem, each starting with the field's name.</summary>
    public IReadOnlyList<string> Errors { get; }
}

/// <summary>
/// Reads and writes <see cref="EngineSettings"/> as <c>settings.json</c> in the session folder: indented camelCase
/// JSON, comments and trailing commas accepted (people edit it by hand), unknown fields ignored (older versions
/// read newer files), absent fields take their defaults, a missing file means all defaults. Saving is atomic.
/// </summary>
public static class SettingsStore
{
    /// <summary>The file's name in the session folder.</summary>
    public const string FileName = "settings.json";

    /// <summary>The settings file of a session folder.</summary>
    public static string GetPath(string sessionDirectory) => Path.Combine(Path.GetFullPath(sessionDirectory), FileName);

    /// <summary>
    /// Loads the settings of <paramref name="sessionDirectory"/> (defaults when there is no file) and sets their
    /// <see cref="EngineSettings.SessionDirectory"/> to it.
    /// </summary>
    /// <exception cref="SettingsException">The file is not valid JSON, a field has the wrong type, or a value is out of range.</exception>
    /// <exception cref="IOException">The file exists but cannot be read.</exception>
    public static async Task<EngineSettings> LoadAsync(string sessionDirectory, CancellationToken cancellationToken = default)
    {
        var path = GetPath(sessionDirectory);
        byte[] json;
        try
        {
            json = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new EngineSettings { SessionDirectory = Path.GetFullPath(sessionDirectory) };
        }
        return Parse(json, path) with { SessionDirectory = Path.GetFullPath(sessionDirectory) };
    }

    /// <summary>Validates and atomically saves <paramref name="settings"/> into its <see cref="EngineSettings.SessionDirectory"/>.</summary>
    /// <exception cref="SettingsException">The settings are not valid; nothing is written.</exception>
    public static Task SaveAsync(EngineSettings settings, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var path = GetPath(settings.SessionDirectory);
        var errors = settings.Validate();
        if (errors.Count > 0) throw new SettingsException(path, errors);
        return AtomicFile.WriteAllBytesAsync(path, Serialize(settings), cancellationToken);
    }

    /// <summary>The JSON text of <paramref name="settings"/> (UTF-8, indented, ending in a newline).</summary>
    public static byte[] Serialize(EngineSettings settings)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new SettingsDocument(settings), SettingsJsonContext.Default.SettingsDocument);
        return [.. json, (byte)'\n'];
    }

    /// <summary>Parses and validates settings JSON; <paramref name="source"/> names it in errors.</summary>
    /// <exception cref="SettingsException">Not valid JSON, a wrong type, or an invalid value.</exception>
    public static EngineSettings Parse(ReadOnlySpan<byte> json, string source = FileName)
    {
        // A UTF-8 byte order mark from an editor is not an error.
        if (json.StartsWith(Encoding.UTF8.Preamble)) json = json[Encoding.UTF8.Preamble.Length..];
        if (json.Trim(" \t\r\n"u8).IsEmpty) return new EngineSettings();
        EngineSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize(json, SettingsJsonContext.Default.SettingsDocument)?.ToSettings();
        }
        catch (JsonException e)
        {
            throw new SettingsException(source, [Describe(e)], e);
        }
        if (settings is null) throw new SettingsException(source, ["the file must hold a JSON object, not null"]);
        var errors = settings.Validate();
        if (errors.Count > 0) throw new SettingsException(source, errors);
        return settings;
    }

    /// <summary>Turns a deserialization error into "field: expected ... (line N)".</summary>
    private static string Describe(JsonException e)
    {
        var where = e.LineNumber is { } line ? $" (line {line + 1})" : "";
        var field = FieldName(e.Path);
        if (field is null)
            return $"not valid JSON{where}: {FirstSentence(e.Message)}";
        var property = SettingsJsonContext.Default.SettingsDocument.Properties.FirstOrDefault(p => p.Name == field);
        var expected = property is null ? "a different value" : Expected(property);
        return $"{field}: expected {expected}{where}";
    }

    private static string? FieldName(string? path)
    {
        // "$.listenPort", "$.dhtBootstrapNodes[2]" or "$['odd name']"
        if (string.IsNullOrEmpty(path) || path == "$") return null;
        var p = path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
        int end = p.IndexOfAny(['.', '[']);
        return end > 0 ? p[..end] : p;
    }

    private static string Expected(JsonPropertyInfo property)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var what = type == typeof(int) || type == typeof(long) ? "a whole number"
            : type == typeof(double) ? "a number"
            : type == typeof(bool) ? "true or false"
            : type == typeof(string) ? "a string"
            : typeof(IEnumerable<string>).IsAssignableFrom(type) ? "a list of strings"
            : type.IsEnum ? "one of " + string.Join(", ", Enum.GetNames(type).Select(n => '"' + JsonNamingPolicy.CamelCase.ConvertName(n) + '"'))
            : type.Name;
        bool nullable = Nullable.GetUnderlyingType(property.PropertyType) is not null || (!type.IsValueType && property.IsSetNullable);
        return nullable ? what + " or null" : what + " (not null)";
    }

    private static string FirstSentence(string message)
    {
        int dot = message.IndexOf(". ", StringComparison.Ordinal);
        return dot > 0 ? message[..(dot + 1)] : message;
    }
}

/// <summary>Source-generated JSON metadata for settings.json (no reflection, trimming-safe).</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    AllowTrailingCommas = true,
    RespectNullableAnnotations = true,
    NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(SettingsDocument))]
internal sealed partial class SettingsJsonContext : JsonSerializerContext;
