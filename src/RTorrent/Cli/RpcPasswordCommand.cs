using System.CommandLine;
using RTorrent.Engine.Settings;
using RTorrent.Remote.Security;

namespace RTorrent.Cli;

/// <summary>
/// <c>rtorrent rpc-password --user NAME</c>: sets the RPC's user and password in settings.json (the password as a
/// PBKDF2 hash, never in clear). Reads the password twice from the terminal without echo, or one line from standard
/// input when that is not a terminal (scripts). <c>--clear</c> removes both. A running daemon uses them after a restart.
/// </summary>
public static class RpcPasswordCommand
{
    /// <summary>Builds the command.</summary>
    public static Command Create()
    {
        var command = new Command("rpc-password", "Set (or --clear) the user and password the daemon's RPC asks for; stored hashed in settings.json.");
        var session = new Option<string?>("--session") { Description = "Session folder. Default: $XDG_DATA_HOME/rtorrent." };
        var user = new Option<string?>("--user", "-u") { Description = "The user name." };
        var clear = new Option<bool>("--clear") { Description = "Remove the user and password (the RPC then only serves loopback addresses)." };
        command.Options.Add(session);
        command.Options.Add(user);
        command.Options.Add(clear);
        command.SetAction(async (parseResult, ct) =>
        {
            var output = parseResult.InvocationConfiguration.Output;
            var error = parseResult.InvocationConfiguration.Error;
            string dir = parseResult.GetValue(session) ?? DefaultPaths.SessionDirectory;
            EngineSettings settings;
            try
            {
                settings = await SettingsStore.LoadAsync(dir, ct);
            }
            catch (SettingsException e)
            {
                await error.WriteLineAsync($"rtorrent rpc-password: {SettingsStore.GetPath(dir)}: {string.Join("; ", e.Errors)}");
                return ExitCodes.UnusableInput;
            }
            if (parseResult.GetValue(clear))
            {
                await SettingsStore.SaveAsync(settings with { RpcUsername = null, RpcPasswordHash = null }, ct);
                await output.WriteLineAsync($"RPC user and password removed from {SettingsStore.GetPath(dir)}.");
                return ExitCodes.Ok;
            }
            string? name = parseResult.GetValue(user);
            if (string.IsNullOrEmpty(name) || name.Contains(':'))
            {
                await error.WriteLineAsync("rtorrent rpc-password: give --user NAME (a name without ':'), or --clear");
                return ExitCodes.UnusableInput;
            }
            string? password = PasswordPrompt.Read("New RPC password: ", confirm: true, error);
            if (string.IsNullOrEmpty(password))
            {
                await error.WriteLineAsync("rtorrent rpc-password: no password given (or the two did not match); nothing changed");
                return ExitCodes.UnusableInput;
            }
            await SettingsStore.SaveAsync(settings with { RpcUsername = name, RpcPasswordHash = RpcPassword.Hash(password) }, ct);
            await output.WriteLineAsync($"RPC user '{name}' and password saved in {SettingsStore.GetPath(dir)}; restart a running daemon to use them.");
            return ExitCodes.Ok;
        });
        return command;
    }
}
