using System.Reflection;
using RTorrent.Abstractions;

namespace RTorrent.Engine.Plugins;

/// <summary>Turns what goes wrong while loading a plugin into one line a user can act on.</summary>
internal static class PluginLoadErrors
{
    private static readonly AssemblyName Contracts = typeof(IRTorrentPlugin).Assembly.GetName();

    public static string Describe(Exception error) => error switch
    {
        PluginLoadException or PluginRegistrationException => error.Message,
        TargetInvocationException { InnerException: { } inner } => Describe(inner),
        BadImageFormatException e =>
            $"not a valid .NET assembly (corrupt, truncated, or not built for .NET): {FirstLine(e.Message)}",
        ReflectionTypeLoadException e => DescribeTypeLoad(e),
        FileNotFoundException or FileLoadException => DescribeMissing((IOException)error),
        TypeLoadException or MissingMemberException =>
            $"built against a different RTorrent.Abstractions than this program has ({FirstLine(error.Message)}); rebuild it against this program's RTorrent.Abstractions ({Contracts.Version})",
        _ => $"{error.GetType().Name}: {FirstLine(error.Message)}",
    };

    /// <summary>Describes an exception thrown by plugin code (a constructor or Register).</summary>
    public static string DescribeThrown(string where, Exception error) => error switch
    {
        // These come from the runtime binding the plugin's code to our contracts, not from the plugin's own logic.
        TypeLoadException or MissingMemberException => $"{where} failed: {Describe(error)}",
        // An assembly display name ("Name, Version=...") means the runtime could not bind a dependency; a plain path
        // is the plugin's own file handling.
        FileNotFoundException { FileName: { } f } when IsAssemblyName(f) => $"{where} failed: {Describe(error)}",
        FileLoadException { FileName: { } f } when IsAssemblyName(f) => $"{where} failed: {Describe(error)}",
        _ => $"{where} threw {error.GetType().Name}: {FirstLine(error.Message)}",
    };

    private static string DescribeTypeLoad(ReflectionTypeLoadException e)
    {
        var causes = e.LoaderExceptions.OfType<Exception>().ToArray();
        // Prefer the cause that names the contracts: it explains every other failure that follows from it.
        var contracts = causes.OfType<IOException>().FirstOrDefault(c => NamesContracts(FileNameOf(c)));
        if (contracts is not null) return DescribeMissing(contracts);
        var first = causes.FirstOrDefault();
        return first is null ? $"its types could not be loaded: {FirstLine(e.Message)}" : Describe(first);
    }

    private static string DescribeMissing(IOException error)
    {
        var fileName = FileNameOf(error);
        if (NamesContracts(fileName))
        {
            var wanted = TryParse(fileName)?.Version;
            return wanted is not null && wanted != Contracts.Version
                ? $"built against RTorrent.Abstractions {wanted}, but this program has {Contracts.Version} (the contracts assembly version never changes): rebuild the plugin against this program's RTorrent.Abstractions"
                : $"RTorrent.Abstractions could not be bound ({FirstLine(error.Message)}); reference it with Private=false and ExcludeAssets=runtime";
        }
        var name = TryParse(fileName)?.Name ?? fileName ?? "unknown";
        return $"a dependency is missing or cannot be loaded: {name} ({FirstLine(error.Message)}); copy the plugin's whole build output into its folder";
    }

    private static string? FileNameOf(IOException error) => error switch
    {
        FileNotFoundException f => f.FileName,
        FileLoadException f => f.FileName,
        _ => null,
    };

    private static bool IsAssemblyName(string fileName) => fileName.Contains(", Version=", StringComparison.Ordinal);

    private static bool NamesContracts(string? fileName) =>
        TryParse(fileName) is { } name && string.Equals(name.Name, Contracts.Name, StringComparison.OrdinalIgnoreCase);

    private static AssemblyName? TryParse(string? fileName)
    {
        if (string.IsNullOrWhiteSpace(fileName)) return null;
        try
        {
            return new AssemblyName(fileName);
        }
        catch (Exception e) when (e is ArgumentException or FileLoadException)
        {
            // A path rather than a display name: the file name is the assembly name.
            return new AssemblyName(Path.GetFileNameWithoutExtension(fileName));
        }
    }

    internal static string FirstLine(string message)
    {
        var end = message.AsSpan().IndexOfAny('\r', '\n');
        return (end < 0 ? message : message[..end]).Trim();
    }
}
