using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using RTorrent.Engine.Metainfo;
using RTorrent.Engine.Peers;
using RTorrent.Engine.Peers.Encryption;

namespace RTorrent.Engine.Tests.Peers;

/// <summary>
/// Message Stream Encryption between our two sides over loopback sockets, in every pairing of modes, and RC4 against
/// the textbook vectors. libtorrent's side of it is in the integration tests (EncryptionInteropTests).
/// </summary>
public sealed class MessageStreamEncryptionTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);
    private static readonly InfoHash Torrent = new(SHA1.HashData("the torrent"u8));
    private static readonly InfoHash OtherTorrent = new(SHA1.HashData("another torrent"u8));

    [Theory]
    [InlineData("Key", "Plaintext", "BBF316E8D940AF0AD3")]
    [InlineData("Wiki", "pedia", "1021BF0420")]
    [InlineData("Secret", "Attack at dawn", "45A01F645FC35B383552544B9BF5")]
    public void Rc4_matches_the_textbook_vectors(string key, string plain, string cipherHex)
    {
        var data = System.Text.Encoding.ASCII.GetBytes(plain);
        new Rc4Cipher(System.Text.Encoding.ASCII.GetBytes(key), discard: 0).Apply(data);
        Assert.Equal(cipherHex, Convert.ToHexString(data));
    }

    [Fact]
    public void Rc4_in_pieces_equals_rc4_at_once_and_decrypts_itself()
    {
        var key = RandomNumberGenerator.GetBytes(20);
        var plain = RandomNumberGenerator.GetBytes(5000);
        var once = plain.ToArray();
        new Rc4Cipher(key).Apply(once);
        var pieces = plain.ToArray();
        var c = new Rc4Cipher(key);
        c.Apply(pieces.AsSpan(0, 1));
        c.Apply(pieces.AsSpan(1, 1023));
        c.Apply(pieces.AsSpan(1024));
        Assert.Equal(once, pieces);
        Assert.NotEqual(plain, once);
        new Rc4Cipher(key).Apply(once);
        Assert.Equal(plain, once);
    }

    [Theory]
    // dialler, listener, expected stream: "plain" = no MSE, "mse-plain" = MSE choosing plaintext, "rc4"
    [InlineData(EncryptionMode.Disabled, EncryptionMode.Disabled, "plain")]
    [InlineData(EncryptionMode.Enabled, EncryptionMode.Enabled, "plain")]
    [InlineData(EncryptionMode.Enabled, EncryptionMode.Disabled, "plain")]
    [InlineData(EncryptionMode.Preferred, EncryptionMode.Enabled, "mse-plain")]
    [InlineData(EncryptionMode.Preferred, EncryptionMode.Preferred, "rc4")]
    [InlineData(EncryptionMode.Preferred, EncryptionMode.Disabled, "plain")] // falls back to a plain handshake
    [InlineData(EncryptionMode.Required, EncryptionMode.Enabled, "rc4")]
    [InlineData(EncryptionMode.Required, EncryptionMode.Required, "rc4")]
    [InlineData(EncryptionMode.Enabled, EncryptionMode.Required, "rc4")] // plain refused, retried encrypted
    public async Task Modes_agree_on_a_stream_and_bytes_cross_it_both_ways(EncryptionMode dialler, EncryptionMode listener, string expected)
    {
        await using var server = new HandshakeServer(listener);
        var ours = await PeerHandshaker.ConnectAsync(server.EndPoint, Torrent, PeerId('A'), PeerFeatures.Extensions,
            Timeout, dialler, CancellationToken.None);
        using var dialSocket = ours.Socket;
        var theirs = await server.NextAsync();
        using var acceptSocket = theirs.Socket;

        Assert.Equal(Torrent, theirs.InfoHash);
        Assert.Equal(PeerId('A'), theirs.PeerId);
        Assert.Equal(PeerId('B'), ours.PeerId);
        Assert.Equal(PeerFeatures.Extensions, theirs.Features);
        string Kind(HandshakeResult r) => r.Ciphers.IsEncrypted ? "rc4" : r.Ciphers.ViaMse ? "mse-plain" : "plain";
        Assert.Equal(expected, Kind(ours));
        Assert.Equal(expected, Kind(theirs));

        // After the handshakes, each side's encryptor is the other's decryptor.
        await AssertCrossesAsync(ours, theirs, RandomNumberGenerator.GetBytes(70_000));
        await AssertCrossesAsync(theirs, ours, RandomNumberGenerator.GetBytes(33));
    }

    [Theory]
    [InlineData(EncryptionMode.Disabled, EncryptionMode.Required)]
    [InlineData(EncryptionMode.Required, EncryptionMode.Disabled)]
    public async Task Incompatible_modes_fail_with_a_protocol_error_not_a_hang(EncryptionMode dialler, EncryptionMode listener)
    {
        await using var server = new HandshakeServer(listener);
        var e = await Assert.ThrowsAnyAsync<Exception>(() => PeerHandshaker.ConnectAsync(server.EndPoint, Torrent, PeerId('A'),
            PeerFeatures.None, Timeout, dialler, CancellationToken.None));
        // The listener hangs up: the dialler reads the close (or a reset, if bytes were still unread), never waits.
        Assert.True(e is PeerProtocolException or SocketException, e.ToString());
        Assert.IsType<PeerProtocolException>(await server.NextErrorAsync());
    }

    [Fact]
    public async Task An_encrypted_handshake_for_a_torrent_we_do_not_have_is_refused()
    {
        await using var server = new HandshakeServer(EncryptionMode.Enabled);
        await Assert.ThrowsAsync<PeerProtocolException>(() => PeerHandshaker.ConnectAsync(server.EndPoint, OtherTorrent, PeerId('A'),
            PeerFeatures.None, Timeout, EncryptionMode.Required, CancellationToken.None));
        var error = await server.NextErrorAsync();
        Assert.Contains("torrent we do not have", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(20)]    // shorter than a key: the peer hangs up
    [InlineData(700)]   // a key's worth and more, but never the req1 marker
    public async Task Garbage_instead_of_a_handshake_is_a_protocol_error(int garbageLength)
    {
        await using var server = new HandshakeServer(EncryptionMode.Enabled);
        using (var socket = await server.DialAsync())
        {
            var garbage = RandomNumberGenerator.GetBytes(garbageLength);
            garbage[0] = 0x42; // not 0x13: not a plain handshake
            await socket.SendAsync(garbage);
            if (garbageLength < 96) socket.Shutdown(SocketShutdown.Send);
            var error = await server.NextErrorAsync();
            Assert.IsType<PeerProtocolException>(error);
        }
    }

    [Fact]
    public async Task Bytes_that_came_with_a_plain_handshake_are_handed_to_the_connection()
    {
        // The listener reads in chunks: a peer's first message in the same read as its handshake must not be lost.
        await using var server = new HandshakeServer(EncryptionMode.Enabled, readDelay: TimeSpan.FromMilliseconds(200));
        using var socket = await server.DialAsync();
        var handshake = HandshakeFor(Torrent);
        var first = "a bitfield, say"u8.ToArray();
        await socket.SendAsync(handshake.Concat(first).ToArray());

        var theirs = await server.NextAsync();
        using var accepted = theirs.Socket;
        Assert.False(theirs.Ciphers.ViaMse);
        Assert.Equal(first, theirs.Leftover);
    }

    [Fact]
    public async Task An_initial_payload_longer_than_the_handshake_reaches_the_connection_decrypted()
    {
        // IA is the dialler's handshake and may carry its first messages too; with RC4 chosen, whatever follows the
        // handshake inside IA and after it must come out of the listener's reader in clear, once.
        await using var server = new HandshakeServer(EncryptionMode.Preferred);
        using var socket = await server.DialAsync();
        var handshake = HandshakeFor(Torrent);
        var first = "the first message, inside IA"u8.ToArray();
        var ours = await MseHandshake.InitiateAsync(new HandshakeReader(new TcpPeerStream(socket)), new TcpPeerStream(socket), Torrent, handshake.Concat(first).ToArray(),
            CryptoMethod.Rc4, CancellationToken.None);

        var theirs = await server.NextAsync();
        using var accepted = theirs.Socket;
        Assert.True(ours.IsEncrypted);
        Assert.True(theirs.Ciphers.IsEncrypted);
        Assert.Equal(first, theirs.Leftover);
    }

    [Fact]
    public async Task An_encrypted_handshake_naming_another_torrent_inside_is_refused()
    {
        await using var server = new HandshakeServer(EncryptionMode.Enabled);
        using var socket = await server.DialAsync();
        var handshake = HandshakeFor(OtherTorrent); // keys for Torrent, handshake for another
        await MseHandshake.InitiateAsync(new HandshakeReader(new TcpPeerStream(socket)), new TcpPeerStream(socket), Torrent, handshake, CryptoMethod.Rc4, CancellationToken.None);

        var error = await server.NextErrorAsync();
        Assert.Contains("another torrent than its encryption", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_listener_answers_before_the_initial_payload_arrives()
    {
        // libtorrent writes IA (its BitTorrent handshake) separately from what comes before, and with Nagle on its side
        // that write waits for our ACK: a listener that reads IA before answering costs each such peer a delayed ACK
        // (40 ms, measured). This dialler sends IA only once it has the answer, so it times out against such a listener.
        await using var server = new HandshakeServer(EncryptionMode.Enabled);
        using var socket = await server.DialAsync();
        using var cts = new CancellationTokenSource(Timeout);
        var (privateKey, publicKey) = MseHandshake.NewKeyPair();
        await socket.SendAsync(publicKey); // PadA empty
        var reader = new HandshakeReader(new TcpPeerStream(socket));
        await reader.EnsureAsync(publicKey.Length, cts.Token);
        var secret = MseHandshake.SharedSecret(reader.Take(publicKey.Length), privateKey);
        var encryptor = new Rc4Cipher(MseHandshake.Hash("keyA", secret, Torrent.ToArray()));
        var decryptor = new Rc4Cipher(MseHandshake.Hash("keyB", secret, Torrent.ToArray()));
        var req2 = MseHandshake.TorrentKey(Torrent);
        MseHandshake.Xor(req2, MseHandshake.Hash("req3", secret));
        var head = new byte[8 + 4 + 2 + 2]; // VC, crypto_provide, len(PadC) = 0, len(IA)
        BinaryPrimitives.WriteUInt32BigEndian(head.AsSpan(8), (uint)CryptoMethod.Plaintext);
        BinaryPrimitives.WriteUInt16BigEndian(head.AsSpan(14), Handshake.Length);
        encryptor.Apply(head);
        await socket.SendAsync((byte[])[.. MseHandshake.Hash("req1", secret), .. req2, .. head]);

        // The answer: PadB, then ENCRYPT(VC, crypto_select, len(PadD) = 0).
        var vc = new byte[8];
        decryptor.Apply(vc);
        int at;
        while ((at = reader.Buffered.IndexOf(vc)) < 0) await reader.ReadMoreAsync(cts.Token);
        reader.Take(at + vc.Length);
        await reader.EnsureAsync(6, cts.Token);
        var answer = reader.Take(6);
        decryptor.Apply(answer);
        Assert.Equal((uint)CryptoMethod.Plaintext, BinaryPrimitives.ReadUInt32BigEndian(answer));

        var ia = HandshakeFor(Torrent);
        encryptor.Apply(ia); // IA is encrypted whatever the method chosen for the stream after it
        await socket.SendAsync(ia);
        var theirs = await server.NextAsync();
        using var accepted = theirs.Socket;
        Assert.True(theirs.Ciphers.ViaMse);
        Assert.False(theirs.Ciphers.IsEncrypted);
    }

    private static async Task AssertCrossesAsync(HandshakeResult from, HandshakeResult to, byte[] payload)
    {
        var wire = payload.ToArray();
        from.Ciphers.Encryptor?.Apply(wire);
        if (from.Ciphers.IsEncrypted) Assert.NotEqual(payload, wire);
        var send = from.Socket.SendAsync(wire);
        var received = new List<byte>(to.Leftover);
        var buffer = new byte[16 * 1024];
        using var cts = new CancellationTokenSource(Timeout);
        while (received.Count < payload.Length)
        {
            int n = await to.Socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
            Assert.True(n > 0, "closed early");
            var chunk = buffer.AsSpan(0, n).ToArray();
            to.Ciphers.Decryptor?.Apply(chunk);
            received.AddRange(chunk);
        }
        await send;
        Assert.Equal(payload, received.ToArray());
    }

    private static byte[] PeerId(char c) => System.Text.Encoding.ASCII.GetBytes("-RT0100-" + new string(c, 12));

    /// <summary>The dialler's plain BitTorrent handshake for <paramref name="torrent"/>.</summary>
    private static byte[] HandshakeFor(InfoHash torrent)
    {
        var handshake = new byte[Handshake.Length];
        Handshake.Write(handshake, torrent, PeerId('A'), PeerFeatures.None);
        return handshake;
    }

    /// <summary>Accepts connections, reads handshakes as the engine's listener does, and answers for <see cref="Torrent"/>.</summary>
    private sealed class HandshakeServer : IAsyncDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly System.Threading.Channels.Channel<object> _results = System.Threading.Channels.Channel.CreateUnbounded<object>();
        private readonly CancellationTokenSource _cts = new();
        private readonly EncryptionMode _mode;
        private readonly TimeSpan _readDelay;

        /// <param name="mode">What the listener accepts.</param>
        /// <param name="readDelay">Wait this long before reading an accepted connection, so everything sent is there.</param>
        public HandshakeServer(EncryptionMode mode, TimeSpan readDelay = default)
        {
            _mode = mode;
            _readDelay = readDelay;
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(8);
            EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
            _ = AcceptLoopAsync();
        }

        public IPEndPoint EndPoint { get; }

        /// <summary>A raw socket connected to the listener, for diallers written by hand.</summary>
        public async Task<Socket> DialAsync()
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(EndPoint);
            return socket;
        }

        private async Task AcceptLoopAsync()
        {
            while (!_cts.IsCancellationRequested)
            {
                Socket socket;
                try { socket = await _listener.AcceptAsync(_cts.Token); }
                catch (Exception) { return; }
                _ = Task.Run(async () =>
                {
                    try
                    {
                        if (_readDelay > TimeSpan.Zero) await Task.Delay(_readDelay);
                        var result = await PeerHandshaker.ReadIncomingAsync(new TcpPeerStream(socket), (IPEndPoint)socket.RemoteEndPoint!, Timeout,
                            key => key.Span.SequenceEqual(MseHandshake.TorrentKey(Torrent)) ? Torrent : null, _mode, _cts.Token);
                        await PeerHandshaker.AnswerAsync(result, PeerId('B'), PeerFeatures.Extensions, _cts.Token);
                        _results.Writer.TryWrite(result);
                    }
                    catch (Exception e)
                    {
                        socket.Dispose(); // as the engine does: the dialler sees the connection close
                        _results.Writer.TryWrite(e);
                    }
                });
            }
        }

        /// <summary>The next connection whose handshake succeeded (failed attempts before it are skipped).</summary>
        public async Task<HandshakeResult> NextAsync()
        {
            using var cts = new CancellationTokenSource(Timeout);
            while (true)
            {
                var item = await _results.Reader.ReadAsync(cts.Token);
                if (item is HandshakeResult r) return r;
            }
        }

        /// <summary>The next failed handshake's exception.</summary>
        public async Task<Exception> NextErrorAsync()
        {
            using var cts = new CancellationTokenSource(Timeout);
            while (true)
            {
                var item = await _results.Reader.ReadAsync(cts.Token);
                if (item is Exception e) return e;
                ((HandshakeResult)item).Socket.Dispose();
            }
        }

        public ValueTask DisposeAsync()
        {
            _cts.Cancel();
            _listener.Dispose();
            return ValueTask.CompletedTask;
        }
    }
}
