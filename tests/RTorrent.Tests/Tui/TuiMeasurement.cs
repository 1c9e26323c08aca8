namespace RTorrent.Tests.Tui;

internal static class TuiMeasurement
{
    public static Task<int> RunAsync(string[] args) => Task.FromResult(0);
}
