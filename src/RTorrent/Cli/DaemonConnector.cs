using System.Security.Cryptography.X509Certificates;
using RTorrent.Engine.Session;
using RTorrent.Remote.Native;

namespace RTorrent.Cli;

/// <summary>
/// Finds the daemon(s) the interface attaches to: the daemon running on the session folder (through its
/// <c>rpc.sock</c>), or the <c>--connect</c> URLs, asking for passwords where needed before the interface takes the
/// terminal.
/// </summary>
internal static class DaemonConnector
{
    /// <summary>How long the socket of a session folder gets to answer before the interface opens the session itself.</summary>
    public static readonly TimeSpan LocalProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>How long a <c>--connect</c> daemon gets to answer at start.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The daemon on <paramref name="sessionDirectory"/>, or null when none answers there (no socket, or a socket
    /// left behind by a daemon that was killed).
    /// </summary>
    public static async Task<RemoteBackend?> TryLocalAsync(string sessionDirectory, CancellationToken cancellationToken)
    {
        var target = RemoteTarget.ForSession(sessionDirectory);
        if (!File.Exists(target.SocketPath)) return null;
        var backend = new RemoteBackend(target);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(LocalProbeTimeout);
            await backend.ConnectAsync(timeout.Token).ConfigureAwait(false);
            return backend;
        }
        catch (Exception e) when (e is BackendUnavailableException or OperationCanceledException or InvalidOperationException)
        {
            backend.Dispose();
            return null;
        }
    }

    /// <summary>
    /// Connects to every <c>--connect</c> target. Credentials come from the URL, from <paramref name="passwordFile"/>,
    /// or from a prompt on the terminal (asked once per daemon, before the interface starts).
    /// </summary>
    /// <returns>The backends (a daemon that does not answer yet is included when others do: it shows as disconnected).</returns>
    /// <exception cref="InvalidOperationException">A URL, the password file or the certificate is unusable, or no daemon answers; the message says which.</exception>
    public static async Task<IReadOnlyList<RemoteBackend>> ConnectAsync(IReadOnlyList<string> urls, string? passwordFile, string? caCertificate,
        TextWriter error, CancellationToken cancellationToken)
    {
        X509Certificate2? trusted = null;
        if (caCertificate is not null)
        {
            try
            {
                trusted = X509CertificateLoader.LoadCertificateFromFile(caCertificate);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
            {
                throw new InvalidOperationException($"--ca-cert {caCertificate}: {e.Message}", e);
            }
        }
        string? filePassword = passwordFile is null ? null : ReadPasswordFile(passwordFile);
        var backends = new List<RemoteBackend>();
        var unreachable = new List<string>();
        foreach (string url in urls)
        {
            RemoteTarget target;
            try
            {
                target = RemoteTarget.Parse(url) with { TrustedCertificate = trusted };
            }
            catch (FormatException e)
            {
                throw new InvalidOperationException($"--connect: {e.Message}", e);
            }
            if (target.User is not null && target.Password is null)
            {
                target = target with { Password = filePassword ?? Prompt($"Password for {target.User} at {target.Name}: ", error) };
            }
            RemoteBackend? connected = null;
            for (int attempt = 0; attempt < 3 && connected is null; attempt++)
            {
                var backend = new RemoteBackend(target);
                try
                {
                    using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    timeout.CancelAfter(ConnectTimeout);
                    await backend.ConnectAsync(timeout.Token).ConfigureAwait(false);
                    connected = backend;
                }
                catch (RemoteAuthenticationException e)
                {
                    backend.Dispose();
                    if (Console.IsInputRedirected) throw new InvalidOperationException(e.Message, e);
                    await error.WriteLineAsync(e.Message).ConfigureAwait(false);
                    string user = target.User ?? PromptVisible($"User at {target.Name}: ", error);
                    target = target with { User = user, Password = Prompt($"Password for {user} at {target.Name}: ", error) };
                }
                catch (Exception e) when (e is BackendUnavailableException or OperationCanceledException)
                {
                    // Not there now: shown as disconnected and tried again with backoff, as when it goes away later.
                    unreachable.Add($"{target.Name}: {(e is OperationCanceledException ? "no answer" : e.Message)}");
                    connected = backend;
                }
            }
            if (connected is null) throw new InvalidOperationException($"{target.Name}: the user and password were refused three times");
            backends.Add(connected);
        }
        if (unreachable.Count == backends.Count)
        {
            foreach (var b in backends) b.Dispose();
            throw new InvalidOperationException("no daemon answers: " + string.Join("; ", unreachable));
        }
        return backends;
    }

    /// <summary>The first line of a password file that only its owner can read.</summary>
    private static string ReadPasswordFile(string path)
    {
        try
        {
            if (!OperatingSystem.IsWindows())
            {
                var mode = File.GetUnixFileMode(path);
                if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
                    throw new InvalidOperationException($"--password-file {path} can be read or written by other users; 'chmod 600 {path}' first");
            }
            using var reader = new StreamReader(path);
            return reader.ReadLine() ?? throw new InvalidOperationException($"--password-file {path} is empty");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidOperationException($"--password-file {path}: {e.Message}", e);
        }
    }

    private static string Prompt(string prompt, TextWriter error)
    {
        if (Console.IsInputRedirected)
            throw new InvalidOperationException("a password is needed: put it in the URL or in a file given with --password-file");
        return PasswordPrompt.ReadHidden(prompt, error);
    }

    private static string PromptVisible(string prompt, TextWriter error)
    {
        error.Write(prompt);
        error.Flush();
        return Console.ReadLine()?.Trim() ?? "";
    }
}
