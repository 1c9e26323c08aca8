using System.Runtime.CompilerServices;

namespace RTorrent.Tests.Tui;

/// <summary>Makes Terminal.Gui headless before any test touches it.</summary>
internal static class TuiTestSetup
{
    /// <summary>
    /// Without this, a test run inside a real terminal would switch it to the alternate screen and wait for input.
    /// </summary>
    [ModuleInitializer]
    internal static void DisableRealDriverIo() => Environment.SetEnvironmentVariable("DisableRealDriverIO", "1");
}

/// <summary>Terminal.Gui keeps static state: every UI test runs in this one non-parallel collection.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TuiCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "Terminal.Gui";
}
