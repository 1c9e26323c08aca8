using System.Net;
using System.Security.Cryptography;

namespace RTorrent.Engine.Dht;

/// <summary>
/// get_peers write tokens (BEP 5): <c>SHA-1(secret || requester IP)</c>, truncated to 8 bytes. The secret changes
/// every <see cref="RotationInterval"/> and tokens made with the current or the previous secret are accepted, so a
/// token stays good for 5 to 10 minutes. Tokens bind the IP only, not the port, as BEP 5 describes.
/// </summary>
internal sealed class TokenManager
{
    /// <summary>How often the secret changes.</summary>
    public static readonly TimeSpan RotationInterval = TimeSpan.FromMinutes(5);

    /// <summary>Token length in bytes.</summary>
    public const int TokenLength = 8;

    private const int SecretLength = 16;
    private readonly TimeProvider _time;
    private byte[] _current = NewSecret();
    private byte[] _previous = NewSecret();
    private DateTimeOffset _rotatedAt;

    public TokenManager(TimeProvider time)
    {
        _time = time;
        _rotatedAt = time.GetUtcNow();
    }

    /// <summary>A token for the requester's address.</summary>
    public byte[] Create(IPAddress requester)
    {
        RotateIfDue();
        return Compute(_current, requester);
    }

    /// <summary>Whether <paramref name="token"/> was made for <paramref name="requester"/> within the last two periods.</summary>
    public bool Validate(ReadOnlySpan<byte> token, IPAddress requester)
    {
        RotateIfDue();
        if (token.Length != TokenLength) return false;
        return CryptographicOperations.FixedTimeEquals(token, Compute(_current, requester))
            || CryptographicOperations.FixedTimeEquals(token, Compute(_previous, requester));
    }

    private void RotateIfDue()
    {
        var now = _time.GetUtcNow();
        var elapsed = now - _rotatedAt;
        if (elapsed < RotationInterval) return;
        // After two periods without use both secrets are stale: no old token may survive.
        _previous = elapsed >= 2 * RotationInterval ? NewSecret() : _current;
        _current = NewSecret();
        _rotatedAt = now;
    }

    private static byte[] Compute(byte[] secret, IPAddress requester)
    {
        Span<byte> input = stackalloc byte[SecretLength + 16];
        secret.CopyTo(input);
        AddressClass.Normalize(requester).TryWriteBytes(input[SecretLength..], out int n);
        Span<byte> hash = stackalloc byte[SHA1.HashSizeInBytes];
        SHA1.HashData(input[..(SecretLength + n)], hash);
        return hash[..TokenLength].ToArray();
    }

    private static byte[] NewSecret() => RandomNumberGenerator.GetBytes(SecretLength);
}
