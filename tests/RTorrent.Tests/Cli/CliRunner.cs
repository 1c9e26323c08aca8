using RTorrent.Cli;

namespace RTorrent.Tests.Cli;

/// <summary>Runs the program's command line in-process and captures what it prints.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static async Task<Result> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        int code = await CliApp.RunAsync(args, output, error, timeout.Token);
        return new Result(code, output.ToString(), error.ToString());
    }
}
