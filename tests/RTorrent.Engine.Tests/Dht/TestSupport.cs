using System.Net;
using System.Threading.Channels;
using RTorrent.Engine.Dht;

namespace RTorrent.Engine.Tests.Dht;

/// <summary>A clock that moves only when told to. Timers are the system's (tests using it do not rely on them).</summary>
internal sealed class ManualTimeProvider : TimeProvider
{
    private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private long _ticks;

    public override DateTimeOffset GetUtcNow() => _now;

    public override long GetTimestamp() => _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public void Advance(TimeSpan by)
    {
        _now += by;
        _ticks += by.Ticks;
    }
}

/// <summary>A transport that records what is sent and receives nothing (tests feed packets to the engine directly).</summary>
internal sealed class RecordingTransport(IPEndPoint local) : IDhtTransport
{
    private readonly Channel<(byte[] Data, IPEndPoint From)> _incoming = Channel.CreateUnbounded<(byte[], IPEndPoint)>();

    public IPEndPoint LocalEndPoint { get; } = local;
    public List<(byte[] Data, IPEndPoint To)> Sent { get; } = [];
    public long SentBytes { get; private set; }
    public bool KeepPackets { get; set; } = true;

    public bool TrySend(ReadOnlySpan<byte> datagram, IPEndPoint to)
    {
        lock (Sent)
        {
            SentBytes += datagram.Length;
            if (KeepPackets) Sent.Add((datagram.ToArray(), to));
        }
        return true;
    }

    public void Deliver(byte[] data, IPEndPoint from) => _incoming.Writer.TryWrite((data, from));

    public async ValueTask<DhtDatagram> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        var (data, from) = await _incoming.Reader.ReadAsync(cancellationToken);
        data.CopyTo(buffer);
        return new DhtDatagram(data.Length, from);
    }

    public void Dispose() => _incoming.Writer.TryComplete();
}

internal static class DhtTestData
{
    public static string Corpus(string file) => Path.Combine(RTorrent.Testing.TestPaths.Corpus, "dht", file);

    /// <summary>Rows of a corpus TSV as dictionaries by column name.</summary>
    public static List<Dictionary<string, string>> ReadTsv(string file)
    {
        var lines = File.ReadAllLines(Corpus(file)).Where(l => l.Length > 0).ToList();
        var header = lines[0].Split('\t');
        return lines.Skip(1).Select(l =>
        {
            var cells = l.Split('\t');
            var row = new Dictionary<string, string>();
            for (int i = 0; i < header.Length; i++) row[header[i]] = i < cells.Length ? cells[i] : "";
            return row;
        }).ToList();
    }

    public static IPEndPoint Ep(string text) => IPEndPoint.Parse(text);
}
