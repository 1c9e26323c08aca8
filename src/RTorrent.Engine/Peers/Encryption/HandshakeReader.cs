
namespace RTorrent.Engine.Peers.Encryption;

/// <summary>
/// Buffered reads from a socket during the handshakes, where messages have variable lengths and a peer's bytes may
/// run ahead of what we have parsed. What is left when the handshake is done is handed to the connection
/// (<see cref="TakeRemaining"/>), already decrypted.
/// </summary>
internal sealed class HandshakeReader
{
    /// <summary>The most a handshake may buffer: 96 + 512 + 20 + 20 + 8 + 4 + 2 + 512 + 2 + IA, with room to spare.</summary>
    private const int Capacity = 8 * 1024;

    private readonly PeerStream _socket;
    private readonly byte[] _buffer = new byte[Capacity];
    private int _start, _end;
    private Rc4Cipher? _decryptor;

    public HandshakeReader(PeerStream socket) => _socket = socket;

    /// <summary>Bytes buffered and not yet consumed.</summary>
    public int Available => _end - _start;

    /// <summary>The buffered, unconsumed bytes.</summary>
    public Span<byte> Buffered => _buffer.AsSpan(_start, _end - _start);

    /// <summary>Reads until at least <paramref name="count"/> bytes are buffered.</summary>
    /// <exception cref="PeerProtocolException">The peer closed the connection first, or sent more than a handshake may.</exception>
    public async ValueTask EnsureAsync(int count, CancellationToken ct)
    {
        while (_end - _start < count)
        {
            if (_start > 0 && _end + (count - (_end - _start)) > _buffer.Length)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) throw new PeerProtocolException("handshake too long");
            int n = await _socket.ReceiveAsync(_buffer.AsMemory(_end), ct).ConfigureAwait(false);
            if (n == 0) throw PeerProtocolException.HungUpDuringHandshake();
            _decryptor?.Apply(_buffer.AsSpan(_end, n));
            _end += n;
        }
    }

    /// <summary>Reads more bytes, whatever arrives (at least one).</summary>
    public ValueTask ReadMoreAsync(CancellationToken ct) => EnsureAsync(Available + 1, ct);

    /// <summary>Consumes <paramref name="count"/> buffered bytes and returns them (valid until the next read).</summary>
    public Span<byte> Take(int count)
    {
        if (count > _end - _start) throw new InvalidOperationException("not buffered");
        var span = _buffer.AsSpan(_start, count);
        _start += count;
        return span;
    }

    /// <summary>Gives back the last <paramref name="count"/> bytes taken, so they are read again.</summary>
    public void Unread(int count)
    {
        if (count > _start) throw new InvalidOperationException("nothing to unread");
        _start -= count;
    }

    /// <summary>
    /// From now on every byte after the first <paramref name="alreadyPlain"/> buffered ones is decrypted with
    /// <paramref name="decryptor"/> as it is read (those already buffered at once).
    /// </summary>
    public void DecryptFromHere(Rc4Cipher decryptor, int alreadyPlain = 0)
    {
        _decryptor = decryptor;
        decryptor.Apply(_buffer.AsSpan(_start + alreadyPlain, _end - _start - alreadyPlain));
    }

    /// <summary>The bytes read past the handshake, for the connection to parse first.</summary>
    public byte[] TakeRemaining()
    {
        var rest = _buffer.AsSpan(_start, _end - _start).ToArray();
        _start = _end;
        return rest;
    }
}
