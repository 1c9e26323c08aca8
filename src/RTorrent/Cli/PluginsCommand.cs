using System.CommandLine;
using System.Text;
using System.Text.Json;
using RTorrent.Engine.Plugins;

namespace RTorrent.Cli;

/// <summary>
/// <c>rtorrent plugins</c>: lists every plugin found in the plugin directories (beside the program, the user's
/// <c>~/.local/share/rtorrent/plugins</c>, and <c>--plugins DIR</c>), with its kinds, version, folder and whether it
/// loaded or why not, plus the engine's built-in components.
/// </summary>
public static class PluginsCommand
{
    /// <summary>Creates the command with its own <c>--plugins</c> option and no built-ins listed.</summary>
    public static Command Create() => Create(registerBuiltIns: null);

    /// <summary>Creates the command.</summary>
    /// <param name="registerBuiltIns">
    /// Registers the engine's built-in components (as the engine does at start), so that plugins taking their names
    /// are reported as they would be at run time and the built-ins are listed; null lists plugins only.
    /// </param>
    /// <param name="pluginsOption">
    /// A shared <c>--plugins</c> option (for example a recursive one on the root command); when null the command
    /// adds its own.
    /// </param>
    /// <param name="environment">Reads environment variables (XDG_DATA_HOME, HOME); the process environment when null.</param>
    public static Command Create(Action<ComponentRegistry>? registerBuiltIns, Option<string[]>? pluginsOption = null, Func<string, string?>? environment = null)
    {
        var plugins = pluginsOption ?? new Option<string[]>("--plugins")
        {
            Description = "Also look for plugins in DIR (repeatable).",
            HelpName = "DIR",
            Arity = ArgumentArity.OneOrMore,
            AllowMultipleArgumentsPerToken = false,
        };
        var json = new Option<bool>("--json") { Description = "Print the list as JSON." };
        var command = new Command("plugins", "List the plugins found, their components, and whether each loaded or why not.");
        if (pluginsOption is null) command.Options.Add(plugins);
        command.Options.Add(json);
        command.SetAction(parseResult =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            var extra = parseResult.GetValue(plugins) ?? [];
            var missing = extra.Where(d => !Directory.Exists(d)).ToArray();
            if (missing.Length > 0)
            {
                foreach (var dir in missing) error.WriteLine($"rtorrent plugins: no such directory: {dir}");
                return 2;
            }

            var registry = new ComponentRegistry();
            registerBuiltIns?.Invoke(registry);
            var builtIns = registry.Pickers.Select(Describe).Concat(registry.PeerSources.Select(Describe)).Concat(registry.Storages.Select(Describe))
                .Concat(registry.TorrentSources.Select(Describe)).ToArray();
            using var catalog = new PluginCatalog(registry, new PluginCatalogOptions { Directories = PluginCatalogOptions.DefaultDirectories(extra, environment) });
            var report = catalog.LoadAll();
            output.Write(parseResult.GetValue(json) ? FormatJson(report, builtIns) : FormatText(report, builtIns));
            return 0;
        });
        return command;
    }

    private static ComponentDescriptor Describe<T>(RegisteredComponent<T> c) where T : class, Abstractions.IPluginComponent =>
        new(c.Kind, c.Name, c.Version, c.Description);

    /// <summary>A table a person reads: one line per plugin, the reason on the next line for failures.</summary>
    internal static string FormatText(PluginLoadReport report, IReadOnlyList<ComponentDescriptor> builtIns)
    {
        var text = new StringBuilder();
        text.AppendLine("Plugin directories:");
        foreach (var dir in report.Directories)
            text.AppendLine($"  {dir.Source,-8} {dir.Path}{(dir.Exists ? "" : "  (does not exist)")}");
        text.AppendLine();

        if (report.Plugins.Count == 0)
        {
            text.AppendLine("No plugins found. A plugin is a folder <Name>/ holding <Name>.dll in one of the directories above.");
        }
        else
        {
            string[] header = ["NAME", "STATUS", "VERSION", "KINDS", "COMPONENTS", "FOLDER"];
            var rows = report.Plugins.Select(p => new[]
            {
                p.Name,
                p.IsLoaded ? "loaded" : "failed",
                p.Version ?? "-",
                p.Kinds.Count == 0 ? "-" : string.Join(",", p.Kinds.Select(k => k.ToDisplayName())),
                p.Components.Count == 0 ? "-" : string.Join(",", p.Components.Select(c => c.Name)),
                p.Folder,
            }).ToArray();
            var widths = Enumerable.Range(0, header.Length - 1).Select(i => rows.Select(r => r[i].Length).Append(header[i].Length).Max()).ToArray();
            void Row(string[] cells) =>
                text.AppendLine(string.Join("  ", cells.Select((c, i) => i < widths.Length ? c.PadRight(widths[i]) : c)).TrimEnd());
            Row(header);
            for (var i = 0; i < rows.Length; i++)
            {
                Row(rows[i]);
                if (report.Plugins[i].Error is { } reason) text.AppendLine("    " + reason);
            }
        }

        if (builtIns.Count > 0)
        {
            text.AppendLine();
            text.AppendLine("Built in: " + string.Join("; ", builtIns.GroupBy(c => c.Kind).Select(g => $"{g.Key.ToDisplayName()} {string.Join(", ", g.Select(c => c.Name))}")));
        }
        var loaded = report.Plugins.Count(p => p.IsLoaded);
        var failed = report.Plugins.Count - loaded;
        text.AppendLine();
        text.AppendLine($"{loaded} loaded, {failed} failed.");
        return text.ToString();
    }

    /// <summary>The same as JSON, for scripts.</summary>
    internal static string FormatJson(PluginLoadReport report, IReadOnlyList<ComponentDescriptor> builtIns)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("directories");
            foreach (var dir in report.Directories)
            {
                w.WriteStartObject();
                w.WriteString("path", dir.Path);
                w.WriteString("source", dir.Source);
                w.WriteBoolean("exists", dir.Exists);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartArray("plugins");
            foreach (var p in report.Plugins)
            {
                w.WriteStartObject();
                w.WriteString("name", p.Name);
                w.WriteString("status", p.IsLoaded ? "loaded" : "failed");
                WriteNullable(w, "version", p.Version);
                w.WriteStartArray("kinds");
                foreach (var kind in p.Kinds) w.WriteStringValue(kind.ToDisplayName());
                w.WriteEndArray();
                w.WriteString("folder", p.Folder);
                WriteNullable(w, "assembly", p.AssemblyPath);
                WriteNullable(w, "error", p.Error);
                WriteComponents(w, "components", p.Components);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            WriteComponents(w, "builtIn", builtIns);
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + Environment.NewLine;
    }

    private static void WriteComponents(Utf8JsonWriter w, string name, IReadOnlyList<ComponentDescriptor> components)
    {
        w.WriteStartArray(name);
        foreach (var c in components)
        {
            w.WriteStartObject();
            w.WriteString("kind", c.Kind.ToDisplayName());
            w.WriteString("name", c.Name);
            w.WriteString("version", c.Version);
            w.WriteString("description", c.Description);
            w.WriteEndObject();
        }
        w.WriteEndArray();
    }

    private static void WriteNullable(Utf8JsonWriter w, string name, string? value)
    {
        if (value is null) w.WriteNull(name);
        else w.WriteString(name, value);
    }
}
