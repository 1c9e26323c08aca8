using System.CommandLine;

namespace RTorrent.Cli;

/// <summary>
/// The command line. To add a subcommand, write a class with a <c>static Command Create()</c> in its own file under
/// Cli/ and add it in <see cref="BuildRootCommand"/>. Actions write to <c>parseResult.InvocationConfiguration.Output</c>
/// and <c>.Error</c> (never Console directly) so tests can run them in-process, and return an <see cref="ExitCodes"/> value.
/// </summary>
public static class CliApp
{
    /// <summary>The root command with every subcommand.</summary>
    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand("RTorrent: a BitTorrent client.");
        root.Subcommands.Add(InfoCommand.Create());
        root.Subcommands.Add(CreateCommand.Create());
        root.Subcommands.Add(DownloadCommand.CreateDownload());
        root.Subcommands.Add(DownloadCommand.CreateSeed());
        root.Subcommands.Add(PluginsCommand.Create(RTorrent.Engine.Session.ClientSession.RegisterBuiltIns));
        root.Subcommands.Add(InterfaceCommand.CreateDemo());
        root.Subcommands.Add(DaemonCommand.Create());
        root.Subcommands.Add(RpcPasswordCommand.Create());
        InterfaceCommand.Attach(root);
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>; output and error default to the console.</summary>
    public static Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        // Commands that run until stopped (download, seed, daemon, the interface) handle SIGINT and SIGTERM themselves
        // and save before they exit; System.CommandLine's own handling would kill them two seconds later, mid-save.
        var configuration = new InvocationConfiguration { ProcessTerminationTimeout = null };
        if (output is not null) configuration.Output = output;
        if (error is not null) configuration.Error = error;
        return BuildRootCommand().Parse(args).InvokeAsync(configuration, cancellationToken);
    }

    /// <summary>Whether <paramref name="writer"/> is the console's error stream and that is a terminal (for progress lines).</summary>
    internal static bool IsTerminal(TextWriter writer) =>
        (ReferenceEquals(writer, Console.Error) && !Console.IsErrorRedirected)
        || (ReferenceEquals(writer, Console.Out) && !Console.IsOutputRedirected);
}
