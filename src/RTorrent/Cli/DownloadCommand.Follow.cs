using System.Globalization;
using RTorrent.Engine.Client;
using RTorrent.Engine.Session;

namespace RTorrent.Cli;

/// <summary>Following the torrent of <c>rtorrent download</c> and <c>rtorrent seed</c> until it is done.</summary>
public static partial class DownloadCommand
{
    /// <summary>What a snapshot says about the end of the follow.</summary>
    private enum Outcome
    {
        /// <summary>Nothing yet.</summary>
        None,
        /// <summary>Complete and seeding.</summary>
        Complete,
        /// <summary>Stopped by an error.</summary>
        Failed,
    }

    /// <summary>
    /// Follows the torrent until it completes or fails, and with <c>--seed</c> on until stopped; returns the exit code.
    /// A progress line comes at the reporting pace (every half second on a terminal, every 5 s otherwise), and the
    /// outcome as soon as the engine says the torrent changed. What it reads of the torrent is the engine's snapshots:
    /// the engine's event (raised on its loop) only wakes it.
    /// </summary>
    private static async Task<int> FollowAsync(ClientSession session, Torrent torrent, string id, Options o, TextWriter error, CancellationToken stop)
    {
        bool terminal = CliApp.IsTerminal(error);
        var progress = new ProgressReporter(error, terminal);
        using var changes = new ChangeSignal(session.Engine, torrent);
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(terminal ? 500 : 5000));
        bool complete = false;
        try
        {
            Task tick = timer.WaitForNextTickAsync(stop).AsTask();
            bool ticked = false; // the first look reports only an outcome, as a change does
            while (true)
            {
                changes.Reset(); // before the snapshot: a change after it wakes the next wait
                var (snapshot, port) = await SnapshotAsync(session, id);
                var outcome = complete ? Outcome.None : OutcomeOf(snapshot);
                if (snapshot is not null && (ticked || outcome != Outcome.None)) progress.Report(snapshot);
                if (outcome == Outcome.Failed)
                {
                    progress.Finish();
                    await error.WriteLineAsync($"Failed: {snapshot!.Error}");
                    return ExitCodes.Failure;
                }
                if (outcome == Outcome.Complete)
                {
                    complete = true;
                    progress.Finish();
                    await error.WriteLineAsync(o.SeedOnly ? $"Seeding '{snapshot!.Name}' on port {port}." : $"Complete: '{snapshot!.Name}' verified.");
                    if (!o.Seed) return ExitCodes.Ok;
                }
                // The next tick, or (until it is complete) the next change, whichever comes first.
                ticked = complete || await Task.WhenAny(tick, changes.Next) == tick;
                if (ticked)
                {
                    await tick;
                    tick = timer.WaitForNextTickAsync(stop).AsTask();
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return await StoppedAsync(session, id, o, progress, error);
        }
    }

    /// <summary>
    /// A signal stopped the follow: says whether the download can be resumed; 1 if it stopped short of complete without
    /// <c>--seed</c>.
    /// </summary>
    private static async Task<int> StoppedAsync(ClientSession session, string id, Options o, ProgressReporter progress, TextWriter error)
    {
        progress.Finish();
        var (snapshot, _) = await SnapshotAsync(session, id);
        bool complete = snapshot is not null && IsComplete(snapshot);
        await error.WriteLineAsync(complete ? "Stopped." : "Stopped; run the same command again to resume.");
        return complete || o.Seed ? ExitCodes.Ok : ExitCodes.Failure;
    }

    /// <summary>The torrent's snapshot (null if it left the session) and the port the session listens on.</summary>
    private static async Task<(TorrentSnapshot? Torrent, int ListenPort)> SnapshotAsync(ClientSession session, string id)
    {
        var snapshot = await session.Engine.GetSnapshotAsync();
        return (snapshot.Torrents.FirstOrDefault(t => t.Id == id), snapshot.ListenPort);
    }

    private static Outcome OutcomeOf(TorrentSnapshot? snapshot) => snapshot?.State switch
    {
        TorrentState.Seeding => Outcome.Complete,
        TorrentState.Error => Outcome.Failed,
        _ => Outcome.None,
    };

    /// <summary>Every wanted byte is verified (the metadata is known and nothing is left to download).</summary>
    private static bool IsComplete(TorrentSnapshot snapshot) => snapshot.PieceCount > 0 && snapshot.Done == snapshot.Size;

    /// <summary>
    /// Wakes the follow when the engine says the torrent changed state, completed or failed. The engine raises its event
    /// on its loop; the handler only compares references and completes a task. Reset before reading a snapshot, so a
    /// change after the read is never lost.
    /// </summary>
    private sealed class ChangeSignal : IDisposable
    {
        private readonly ClientEngine _engine;
        private readonly Torrent _torrent;
        private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ChangeSignal(ClientEngine engine, Torrent torrent)
        {
            _engine = engine;
            _torrent = torrent;
            engine.TorrentChanged += OnChanged;
        }

        /// <summary>Completes at the first change since the last <see cref="Reset"/>.</summary>
        public Task Next => Volatile.Read(ref _changed).Task;

        public void Reset()
        {
            var current = Volatile.Read(ref _changed);
            if (current.Task.IsCompleted)
                Interlocked.CompareExchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously), current);
        }

        private void OnChanged(Torrent torrent)
        {
            if (ReferenceEquals(torrent, _torrent)) Volatile.Read(ref _changed).TrySetResult();
        }

        public void Dispose() => _engine.TorrentChanged -= OnChanged;
    }

    /// <summary>Draws progress: an updating line on a terminal, plain lines otherwise.</summary>
    private sealed class ProgressReporter(TextWriter output, bool terminal)
    {
        private int _lastLength;

        public void Report(TorrentSnapshot s)
        {
            string state = s.State switch
            {
                TorrentState.Checking => $"checking {s.Progress * 100:0.0}%",
                TorrentState.FetchingMetadata => "fetching metadata",
                TorrentState.Seeding => "seeding",
                TorrentState.Error => "error",
                TorrentState.Stopped => "stopped",
                _ => "downloading",
            };
            var bar = Bar(s.State == TorrentState.Checking ? 0 : s.Progress, 20);
            var eta = s.Eta is { } e ? $" ETA {(int)e.TotalHours}:{e.Minutes:00}:{e.Seconds:00}" : "";
            var line = string.Create(CultureInfo.InvariantCulture,
                $"{bar} {s.Progress * 100,5:0.0}%  {Format.Size(s.Done)}/{Format.Size(s.Size)}  down {Format.Size(s.DownloadRate)}/s  up {Format.Size(s.UploadRate)}/s  peers {s.PeersConnected}/{s.PeersKnown}  {state}{eta}");
            if (terminal)
            {
                var pad = _lastLength > line.Length ? new string(' ', _lastLength - line.Length) : "";
                output.Write("\r" + line + pad);
                _lastLength = line.Length;
            }
            else output.WriteLine(line);
            output.Flush();
        }

        public void Finish()
        {
            if (terminal && _lastLength > 0) output.WriteLine();
            _lastLength = 0;
        }

        private static string Bar(double fraction, int width)
        {
            int filled = (int)Math.Round(Math.Clamp(fraction, 0, 1) * width);
            return "[" + new string('#', filled) + new string('.', width - filled) + "]";
        }
    }
}
