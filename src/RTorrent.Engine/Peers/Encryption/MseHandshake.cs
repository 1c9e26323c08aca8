using System.Buffers.Binary;
using System.Net.Sockets;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using RTorrent.Engine.Metainfo;

namespace RTorrent.Engine.Peers.Encryption;

/// <summary>What the connection carries after the handshake.</summary>
[Flags]
internal enum CryptoMethod
{
    None = 0,
    Plaintext = 1,
    Rc4 = 2,
}

/// <summary>The ciphers a connection applies after its handshake (both null for a plaintext stream).</summary>
/// <param name="ViaMse">The handshake was MSE (even if it chose plaintext for the stream).</param>
internal sealed record StreamCiphers(Rc4Cipher? Encryptor, Rc4Cipher? Decryptor, bool ViaMse)
{
    /// <summary>A plain BitTorrent handshake.</summary>
    public static readonly StreamCiphers Plain = new(null, null, false);

    /// <summary>An MSE handshake that chose plaintext.</summary>
    public static readonly StreamCiphers MsePlaintext = new(null, null, true);

    /// <summary>The stream is RC4-encrypted.</summary>
    public bool IsEncrypted => Encryptor is not null;
}

/// <summary>
/// Message Stream Encryption: a Diffie-Hellman exchange over a 768-bit prime, then RC4 keyed from the shared secret
/// and the info-hash. A = the side that connects, B = the side that accepts:
/// <code>
/// 1 A->B: Ya, PadA
/// 2 B->A: Yb, PadB
/// 3 A->B: HASH('req1', S), HASH('req2', SKEY) xor HASH('req3', S), ENCRYPT(VC, crypto_provide, len(PadC), PadC, len(IA)), ENCRYPT(IA)
/// 4 B->A: ENCRYPT(VC, crypto_select, len(padD), padD), ENCRYPT2(payload)
/// 5 A->B: ENCRYPT2(payload)
/// </code>
/// IA is A's BitTorrent handshake. The info-hash is never sent in clear: B finds the torrent by trying req2 of each.
/// </summary>
internal static class MseHandshake
{
    private const int KeyLength = 96;
    private const int MaxPad = 512;
    private const int MaxInitialPayload = 4096;

    private static readonly BigInteger Prime = BigInteger.Parse(
        "0FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DDEF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A63A36210000000000090563",
        System.Globalization.NumberStyles.HexNumber);

    /// <summary>Connects side A: returns the chosen method's ciphers; the peer's BT handshake follows in <paramref name="reader"/>.</summary>
    /// <param name="reader">The connected socket's reader.</param>
    /// <param name="socket">The connected socket.</param>
    /// <param name="infoHash">SKEY.</param>
    /// <param name="initialPayload">Our BitTorrent handshake, sent as IA inside the encrypted part.</param>
    /// <param name="provide">What we offer.</param>
    /// <param name="ct">Cancels (timeouts included).</param>
    /// <exception cref="PeerProtocolException">The peer does not speak MSE, or chose something we did not offer.</exception>
    public static async Task<StreamCiphers> InitiateAsync(HandshakeReader reader, PeerStream socket, InfoHash infoHash,
        ReadOnlyMemory<byte> initialPayload, CryptoMethod provide, CancellationToken ct)
    {
        var (privateKey, publicKey) = NewKeyPair();
        await PeerHandshaker.SendAllAsync(socket, Concat(publicKey, RandomPad()), ct).ConfigureAwait(false);

        await reader.EnsureAsync(KeyLength, ct).ConfigureAwait(false);
        var secret = SharedSecret(reader.Take(KeyLength), privateKey);
        var skey = infoHash.ToArray();
        var encryptor = new Rc4Cipher(Hash("keyA", secret, skey));
        var decryptor = new Rc4Cipher(Hash("keyB", secret, skey));

        var req2 = TorrentKey(infoHash);
        Xor(req2, Hash("req3", secret));
        var encrypted = new byte[8 + 4 + 2 + 2 + initialPayload.Length];
        BinaryPrimitives.WriteUInt32BigEndian(encrypted.AsSpan(8), (uint)provide);
        // len(PadC) = 0: the spec reserves PadC, and every client sends it empty.
        BinaryPrimitives.WriteUInt16BigEndian(encrypted.AsSpan(14), (ushort)initialPayload.Length);
        initialPayload.Span.CopyTo(encrypted.AsSpan(16));
        encryptor.Apply(encrypted);
        await PeerHandshaker.SendAllAsync(socket, Concat(Hash("req1", secret), req2, encrypted), ct).ConfigureAwait(false);

        // B's PadB is 0-512 random bytes, then ENCRYPT(VC): find the keystream's first 8 bytes.
        var vc = new byte[8];
        decryptor.Apply(vc);
        await SynchronizeAsync(reader, vc, MaxPad + vc.Length, "the peer does not speak MSE", ct).ConfigureAwait(false);

        await reader.EnsureAsync(6, ct).ConfigureAwait(false);
        var head = reader.Take(6);
        decryptor.Apply(head);
        var select = (CryptoMethod)BinaryPrimitives.ReadUInt32BigEndian(head);
        int padD = BinaryPrimitives.ReadUInt16BigEndian(head[4..]);
        if (padD > MaxPad) throw new PeerProtocolException("MSE: padD too long");
        if (select is not (CryptoMethod.Plaintext or CryptoMethod.Rc4) || (select & provide) == 0)
            throw new PeerProtocolException($"MSE: the peer chose method {(int)select}, which we did not offer");
        await reader.EnsureAsync(padD, ct).ConfigureAwait(false);
        decryptor.Apply(reader.Take(padD));

        if (select == CryptoMethod.Plaintext) return StreamCiphers.MsePlaintext;
        reader.DecryptFromHere(decryptor);
        return new StreamCiphers(encryptor, decryptor, true);
    }

    /// <summary>
    /// Accepts side B, after the first bytes showed this is not a plain handshake. Returns the torrent, the ciphers
    /// and leaves the peer's decrypted BitTorrent handshake (IA, and what follows) at the front of <paramref name="reader"/>.
    /// </summary>
    /// <param name="reader">The accepted socket's reader (Ya is being read through it).</param>
    /// <param name="socket">The accepted socket.</param>
    /// <param name="findTorrent">Finds the info-hash whose HASH('req2', info-hash) is the given 20 bytes.</param>
    /// <param name="allowed">Methods we accept.</param>
    /// <param name="preferRc4">Choose RC4 when the peer offers both.</param>
    /// <param name="ct">Cancels (timeouts included).</param>
    /// <exception cref="PeerProtocolException">Garbage, an unknown torrent, or nothing acceptable offered.</exception>
    public static async Task<(InfoHash InfoHash, StreamCiphers Ciphers)> RespondAsync(HandshakeReader reader, PeerStream socket,
        Func<ReadOnlyMemory<byte>, InfoHash?> findTorrent, CryptoMethod allowed, bool preferRc4, CancellationToken ct)
    {
        await reader.EnsureAsync(KeyLength, ct).ConfigureAwait(false);
        var (privateKey, publicKey) = NewKeyPair();
        var secret = SharedSecret(reader.Take(KeyLength), privateKey);
        await PeerHandshaker.SendAllAsync(socket, Concat(publicKey, RandomPad()), ct).ConfigureAwait(false);

        await SynchronizeAsync(reader, Hash("req1", secret), MaxPad + 20, "not a BitTorrent handshake", ct).ConfigureAwait(false);
        await reader.EnsureAsync(20, ct).ConfigureAwait(false);
        var req2 = reader.Take(20).ToArray();
        Xor(req2, Hash("req3", secret)); // leaves HASH('req2', SKEY)
        if (findTorrent(req2) is not { } infoHash) throw new PeerProtocolException("MSE handshake for a torrent we do not have");

        var skey = infoHash.ToArray();
        var decryptor = new Rc4Cipher(Hash("keyA", secret, skey));
        var encryptor = new Rc4Cipher(Hash("keyB", secret, skey));

        await reader.EnsureAsync(14, ct).ConfigureAwait(false);
        var head = reader.Take(14);
        decryptor.Apply(head);
        if (head[..8].ContainsAnyExcept((byte)0)) throw new PeerProtocolException("MSE: bad verification constant");
        var provide = (CryptoMethod)BinaryPrimitives.ReadUInt32BigEndian(head[8..]);
        int padC = BinaryPrimitives.ReadUInt16BigEndian(head[12..]);
        if (padC > MaxPad) throw new PeerProtocolException("MSE: PadC too long");
        await reader.EnsureAsync(padC + 2, ct).ConfigureAwait(false);
        var padAndLength = reader.Take(padC + 2);
        decryptor.Apply(padAndLength);
        int iaLength = BinaryPrimitives.ReadUInt16BigEndian(padAndLength[padC..]);
        if (iaLength > MaxInitialPayload) throw new PeerProtocolException("MSE: initial payload too long");

        var offered = provide & allowed;
        var select = (offered & CryptoMethod.Rc4) != 0 && (preferRc4 || (offered & CryptoMethod.Plaintext) == 0)
            ? CryptoMethod.Rc4
            : (offered & CryptoMethod.Plaintext) != 0 ? CryptoMethod.Plaintext
            : throw new PeerProtocolException($"MSE: the peer offers method {(int)provide}, which we do not accept");

        // Answer before reading IA: the answer does not depend on it, and libtorrent writes IA separately, so with
        // Nagle on its side IA waits for our ACK of what came before - 40 ms of delayed ACK if we only listen.
        var answer = new byte[8 + 4 + 2];
        BinaryPrimitives.WriteUInt32BigEndian(answer.AsSpan(8), (uint)select);
        encryptor.Apply(answer);
        await PeerHandshaker.SendAllAsync(socket, answer, ct).ConfigureAwait(false);

        await reader.EnsureAsync(iaLength, ct).ConfigureAwait(false);
        decryptor.Apply(reader.Take(iaLength));
        reader.Unread(iaLength); // IA is the peer's handshake: read it again, now in clear

        if (select == CryptoMethod.Plaintext) return (infoHash, StreamCiphers.MsePlaintext);
        reader.DecryptFromHere(decryptor, alreadyPlain: iaLength);
        return (infoHash, new StreamCiphers(encryptor, decryptor, true));
    }

    /// <summary>HASH('req2', info-hash): how an incoming MSE handshake names its torrent.</summary>
    public static byte[] TorrentKey(InfoHash infoHash) => Hash("req2", infoHash.ToArray());

    /// <summary>Reads until <paramref name="marker"/> appears within the first <paramref name="window"/> bytes and consumes through it.</summary>
    private static async ValueTask SynchronizeAsync(HandshakeReader reader, byte[] marker, int window, string failure, CancellationToken ct)
    {
        while (true)
        {
            int at = reader.Buffered.IndexOf(marker);
            if (at >= 0 && at + marker.Length <= window)
            {
                reader.Take(at + marker.Length);
                return;
            }
            if (reader.Available >= window) throw new PeerProtocolException(failure);
            await reader.ReadMoreAsync(ct).ConfigureAwait(false);
        }
    }

    internal static (BigInteger PrivateKey, byte[] PublicKey) NewKeyPair()
    {
        // A 160-bit private exponent, as the spec asks.
        var x = new BigInteger(RandomNumberGenerator.GetBytes(20), isUnsigned: true, isBigEndian: true);
        return (x, ToFixed(BigInteger.ModPow(2, x, Prime)));
    }

    internal static byte[] SharedSecret(ReadOnlySpan<byte> theirPublicKey, BigInteger privateKey)
    {
        var y = new BigInteger(theirPublicKey, isUnsigned: true, isBigEndian: true);
        // 0, 1 and P-1 would make the secret guessable; no honest peer sends them.
        if (y <= BigInteger.One || y >= Prime - BigInteger.One) throw new PeerProtocolException("not a BitTorrent handshake");
        return ToFixed(BigInteger.ModPow(y, privateKey, Prime));
    }

    private static byte[] ToFixed(BigInteger value)
    {
        var bytes = new byte[KeyLength];
        var raw = value.ToByteArray(isUnsigned: true, isBigEndian: true);
        raw.CopyTo(bytes.AsSpan(KeyLength - raw.Length));
        return bytes;
    }

    private static byte[] RandomPad() => RandomNumberGenerator.GetBytes(RandomNumberGenerator.GetInt32(0, MaxPad + 1));

    internal static byte[] Hash(string label, byte[] a, byte[]? b = null)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        sha.AppendData(Encoding.ASCII.GetBytes(label));
        sha.AppendData(a);
        if (b is not null) sha.AppendData(b);
        return sha.GetHashAndReset();
    }

    internal static void Xor(Span<byte> target, ReadOnlySpan<byte> with)
    {
        for (int i = 0; i < target.Length; i++) target[i] ^= with[i];
    }

    private static byte[] Concat(params byte[][] parts)
    {
        var all = new byte[parts.Sum(p => p.Length)];
        int at = 0;
        foreach (var p in parts)
        {
            p.CopyTo(all, at);
            at += p.Length;
        }
        return all;
    }
}
