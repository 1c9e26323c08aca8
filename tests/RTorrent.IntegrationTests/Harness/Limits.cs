namespace RTorrent.IntegrationTests.Harness;

/// <summary>
/// Upper bounds for the waits in the interop tests. They only bound a failing test (a passing one finishes as soon
/// as the condition holds), so they are generous: the build machine has two cores shared with other work.
/// </summary>
internal static class Limits
{
    /// <summary>A program starting and becoming ready (listening, data checked, seeding).</summary>
    public static readonly TimeSpan Startup = TimeSpan.FromSeconds(90);

    /// <summary>A transfer of a few MiB over loopback, from process start to verified exit.</summary>
    public static readonly TimeSpan Transfer = TimeSpan.FromSeconds(150);

    /// <summary>A program asked to stop (SIGTERM, SIGINT) saving its state and exiting.</summary>
    public static readonly TimeSpan Shutdown = TimeSpan.FromSeconds(45);
}
