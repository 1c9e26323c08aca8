using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Trackers;

/// <summary>
/// Scrapes of one tracker URL for many torrents, sent together: a torrent asks for its counts, and the asks that
/// arrive while a scrape waits for its turn at the tracker or is in flight go out in the next request, up to
/// <see cref="MaxBatch"/> info-hashes each (BEP 15's 74 per UDP packet; 64 over HTTP, opentracker's multi-scrape
/// limit). One request per URL at a time, so a thousand torrents scraping together make a few requests, not a thousand.
/// </summary>
internal sealed class TrackerScrapeBatcher(ITrackerClient client, TrackerGate gate, AnnounceScheduler scheduler)
{
    /// <summary>Info-hashes in one HTTP scrape (opentracker answers at most 64 per request).</summary>
    public const int MaxHttpBatch = 64;

    private readonly Lock _lock = new();
    private readonly List<Ask> _pending = [];
    private bool _pumping;
    private int _requests;
    private int _found;

    public int MaxBatch { get; } = client is UdpTrackerClient ? UdpTrackerProtocol.MaxScrapeHashes : MaxHttpBatch;

    /// <summary>Scrape requests sent so far (for tests and diagnostics).</summary>
    public int RequestsSent => Volatile.Read(ref _requests);

    /// <summary>Asks waiting for the next request (for tests and diagnostics).</summary>
    public int Pending
    {
        get { lock (_lock) return _pending.Count; }
    }

    /// <summary>Info-hashes the tracker's answers included so far (for tests and diagnostics).</summary>
    public int HashesFound => Volatile.Read(ref _found);

    /// <summary>
    /// The tracker's counts for one torrent, or null when its answer leaves the torrent out (trackers leave out
    /// torrents nobody is on).
    /// </summary>
    /// <param name="infoHash">The torrent.</param>
    /// <param name="timeout">How long the request carrying it may take once sent.</param>
    /// <param name="backoff">The delay for the tracker's n-th failure in a row, should the request fail for the tracker.</param>
    /// <param name="cancellationToken">Gives up (the request may still go for others).</param>
    /// <exception cref="TrackerException">The scrape failed.</exception>
    /// <exception cref="TrackerDeferredException">The tracker is backing off; nothing was sent.</exception>
    public async Task<ScrapeCounts?> ScrapeAsync(InfoHash infoHash, TimeSpan timeout, Func<int, TimeSpan> backoff,
        CancellationToken cancellationToken)
    {
        var ask = new Ask(infoHash, timeout, backoff);
        bool start;
        lock (_lock)
        {
            _pending.Add(ask);
            start = !_pumping;
            _pumping = true;
        }
        if (start) _ = Task.Run(PumpAsync, CancellationToken.None);
        await using var registration = cancellationToken.UnsafeRegister(static (state, token) =>
        {
            var (batcher, a) = ((TrackerScrapeBatcher, Ask))state!;
            lock (batcher._lock) batcher._pending.Remove(a);
            a.Done.TrySetCanceled(token);
        }, (this, ask)).ConfigureAwait(false);
        return await ask.Done.Task.ConfigureAwait(false);
    }

    private async Task PumpAsync()
    {
        while (true)
        {
            TrackerPermit? permit = null;
            Exception? refused = null;
            try
            {
                // Asks keep joining while this waits for the tracker's turn.
                permit = await gate.EnterAsync(TrackerRequestKind.Scrape, force: false, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                refused = e;
            }
            List<Ask> batch;
            lock (_lock)
            {
                if (refused is not null)
                {
                    batch = [.. _pending];
                    _pending.Clear();
                }
                else
                {
                    batch = TakeBatchLocked();
                }
                if (batch.Count == 0)
                {
                    _pumping = false;
                    permit?.Dispose();
                    return;
                }
            }
            if (refused is not null)
            {
                foreach (var a in batch) a.Done.TrySetException(refused);
            }
            else
            {
                await SendAsync(permit!, batch).ConfigureAwait(false);
            }
            lock (_lock)
            {
                if (_pending.Count == 0)
                {
                    _pumping = false;
                    return;
                }
            }
        }
    }

    /// <summary>The first asks, up to <see cref="MaxBatch"/> distinct info-hashes (with every other ask for one of them).</summary>
    private List<Ask> TakeBatchLocked()
    {
        var hashes = new HashSet<InfoHash>();
        var batch = new List<Ask>();
        for (int i = 0; i < _pending.Count;)
        {
            var a = _pending[i];
            if (hashes.Contains(a.InfoHash) || hashes.Count < MaxBatch)
            {
                hashes.Add(a.InfoHash);
                batch.Add(a);
                _pending.RemoveAt(i);
            }
            else
            {
                i++;
            }
        }
        return batch;
    }

    private async Task SendAsync(TrackerPermit permit, List<Ask> batch)
    {
        using (permit)
        {
            InfoHash[] hashes = [.. batch.Select(a => a.InfoHash).Distinct()];
            var timeout = batch.Max(a => a.Timeout);
            using var global = await scheduler.EnterAsync(CancellationToken.None).ConfigureAwait(false);
            using var cts = new CancellationTokenSource(timeout, scheduler.Time);
            Interlocked.Increment(ref _requests);
            try
            {
                TrackerScrapeResponse response;
                try
                {
                    response = await client.ScrapeAsync(hashes, cts.Token).ConfigureAwait(false);
                }
                catch (OperationCanceledException e) when (cts.IsCancellationRequested)
                {
                    throw new TrackerException(TrackerErrorKind.Timeout,
                        $"The tracker did not answer the scrape within {timeout.TotalSeconds:0.#} s.", e);
                }
                permit.Complete(TrackerOutcome.Answered);
                Interlocked.Add(ref _found, hashes.Count(response.Files.ContainsKey));
                foreach (var a in batch)
                    a.Done.TrySetResult(response.Files.TryGetValue(a.InfoHash, out var counts) ? counts : null);
            }
            catch (Exception e)
            {
                permit.Complete(TrackerPermit.OutcomeOf(e), e, batch[0].Backoff);
                foreach (var a in batch) a.Done.TrySetException(e);
            }
        }
    }

    private sealed class Ask(InfoHash infoHash, TimeSpan timeout, Func<int, TimeSpan> backoff)
    {
        public InfoHash InfoHash { get; } = infoHash;
        public TimeSpan Timeout { get; } = timeout;
        public Func<int, TimeSpan> Backoff { get; } = backoff;
        public TaskCompletionSource<ScrapeCounts?> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}
