using Microsoft.Extensions.Logging;
using RTorrent.Engine.Client;

namespace RTorrent.Remote.Transmission;

/// <summary>
/// Moving a torrent's data (<c>torrent-set-location</c> with <c>move</c>) or pointing it at data elsewhere (without, and
/// torrent-set's <c>location</c>). A move within a file system is a rename and done at once; one across file systems
/// copies every byte. The answer waits up to <see cref="TransmissionContext.RelocationAnswerWait"/>: what finishes by
/// then is answered with its outcome (an error result when it failed); a longer move carries on in the background, as
/// Transmission's does, and a failure then shows in the torrent's log (the torrent keeps its old folder).
/// </summary>
internal sealed class Relocations(TransmissionContext context)
{
    private readonly ILogger _logger = context.LoggerFactory.CreateLogger("rtorrent.rpc.transmission");

    /// <summary>Moves or points <paramref name="torrent"/> at <paramref name="location"/>; returns a refusal, or null.</summary>
    public Task<string?> SetLocationAsync(Torrent torrent, string location, bool move) =>
        RunAsync(torrent, move ? context.Session.MoveDataAsync(torrent, location) : context.Session.SetLocationAsync(torrent, location),
            $"{(move ? "moving" : "relocating")} to {location}");

    /// <summary>Waits for a move (<paramref name="operation"/>) as above; returns a refusal, or null.</summary>
    public async Task<string?> RunAsync(Torrent torrent, Task operation, string what)
    {
        Task finished;
        using (var wait = new CancellationTokenSource())
        {
            finished = await Task.WhenAny(operation, Task.Delay(context.RelocationAnswerWait, context.Time, wait.Token)).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
        }
        if (finished == operation)
        {
            try
            {
                await operation.ConfigureAwait(false);
                return null;
            }
            catch (Exception e) when (TransmissionRpcHandler.IsRefusal(e))
            {
                return $"{torrent.Name}: {e.Message}";
            }
        }
        _ = operation.ContinueWith(t => _logger.LogWarning("{Torrent}: {What} failed: {Error}", torrent.Name, what, t.Exception?.InnerException?.Message),
            CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted, TaskScheduler.Default);
        return null;
    }
}
