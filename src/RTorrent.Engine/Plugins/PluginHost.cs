using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Plugins;

/// <summary>
/// The services the engine gives one plugin: a logger named after the plugin and its settings. Settings come from
/// the dictionary the engine passes (the program's settings file) and then from <c>RTORRENT_&lt;KEY&gt;</c>
/// environment variables, so a setting such as <c>lsd.port</c> can be given as <c>RTORRENT_LSD_PORT=6771</c>.
/// </summary>
public sealed class PluginHost : IPluginHost
{
    private readonly ILogger _logger;
    private readonly IReadOnlyDictionary<string, string>? _settings;
    private readonly Func<string, string?> _environment;

    /// <summary>Creates a host.</summary>
    /// <param name="logger">Where plugin log lines go; <see cref="NullLogger"/> when null.</param>
    /// <param name="settings">Plugin settings by key (keys compared without regard to case).</param>
    /// <param name="environment">Reads an environment variable; <see cref="Environment.GetEnvironmentVariable(string)"/> when null.</param>
    public PluginHost(ILogger? logger = null, IReadOnlyDictionary<string, string>? settings = null, Func<string, string?>? environment = null)
    {
        _logger = logger ?? NullLogger.Instance;
        _settings = settings;
        _environment = environment ?? Environment.GetEnvironmentVariable;
    }

    /// <inheritdoc />
    public Version ContractsVersion => PluginContracts.Version;

    /// <inheritdoc />
    public void Log(PluginLogLevel level, string message)
    {
        var logLevel = level switch
        {
            PluginLogLevel.Debug => LogLevel.Debug,
            PluginLogLevel.Information => LogLevel.Information,
            PluginLogLevel.Warning => LogLevel.Warning,
            PluginLogLevel.Error => LogLevel.Error,
            _ => LogLevel.Information,
        };
        // The message is the plugin's own text; pass it as an argument so braces in it are not read as a template.
        _logger.Log(logLevel, "{PluginMessage}", message);
    }

    /// <inheritdoc />
    public string? GetSetting(string key)
    {
        if (string.IsNullOrWhiteSpace(key)) return null;
        if (_settings is not null)
        {
            if (_settings.TryGetValue(key, out var value)) return value;
            // Keys are case-insensitive whatever comparer the caller's dictionary uses.
            foreach (var (k, v) in _settings)
                if (string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) return v;
        }
        return _environment(EnvironmentVariableName(key));
    }

    /// <summary>The environment variable that holds a setting: <c>lsd.port</c> is <c>RTORRENT_LSD_PORT</c>.</summary>
    public static string EnvironmentVariableName(string key)
    {
        var chars = key.Trim().ToUpperInvariant().ToCharArray();
        for (var i = 0; i < chars.Length; i++)
            if (!char.IsAsciiLetterOrDigit(chars[i])) chars[i] = '_';
        return "RTORRENT_" + new string(chars);
    }
}
