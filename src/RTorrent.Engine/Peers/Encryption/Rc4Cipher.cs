namespace RTorrent.Engine.Peers.Encryption;

/// <summary>
/// RC4 as Message Stream Encryption uses it: keyed with a 20-byte SHA-1, the first 1024 bytes of keystream discarded.
/// RC4 is weak cryptography; MSE uses it to make traffic unrecognisable to shapers, not to keep secrets, and the
/// framework has no RC4, so this is our own. One instance is one direction of one connection: not thread-safe.
/// </summary>
internal sealed class Rc4Cipher
{
    private readonly byte[] _s = new byte[256];
    private int _i, _j;

    /// <param name="key">The key.</param>
    /// <param name="discard">Keystream bytes dropped first (MSE: 1024; 0 only for the textbook test vectors).</param>
    public Rc4Cipher(ReadOnlySpan<byte> key, int discard = 1024)
    {
        if (key.IsEmpty) throw new ArgumentException("RC4 needs a key", nameof(key));
        for (int k = 0; k < 256; k++) _s[k] = (byte)k;
        int j = 0;
        for (int k = 0; k < 256; k++)
        {
            j = (j + _s[k] + key[k % key.Length]) & 0xFF;
            (_s[k], _s[j]) = (_s[j], _s[k]);
        }
        Span<byte> dropped = stackalloc byte[1024];
        for (; discard > 0; discard -= dropped.Length)
        {
            var chunk = dropped[..Math.Min(discard, dropped.Length)];
            chunk.Clear();
            Apply(chunk);
        }
    }

    /// <summary>XORs <paramref name="data"/> with the next keystream bytes (encrypts or decrypts in place).</summary>
    public void Apply(Span<byte> data)
    {
        var s = _s;
        int i = _i, j = _j;
        for (int k = 0; k < data.Length; k++)
        {
            i = (i + 1) & 0xFF;
            byte si = s[i];
            j = (j + si) & 0xFF;
            byte sj = s[j];
            s[i] = sj;
            s[j] = si;
            data[k] ^= s[(si + sj) & 0xFF];
        }
        _i = i;
        _j = j;
    }
}
