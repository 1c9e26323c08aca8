using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace RTorrent.Remote.Security;

/// <summary>What <see cref="RpcAuthenticator.CheckAsync"/> decided.</summary>
public enum AuthResult
{
    /// <summary>No credentials needed, or they are right.</summary>
    Allowed,
    /// <summary>Missing or wrong credentials: answer 401 with a Basic challenge.</summary>
    Unauthorized,
    /// <summary>Too many wrong attempts from this address: answer 403 until the block ends.</summary>
    Blocked,
}

/// <summary>
/// HTTP basic authentication for the RPC, with failed logins slowed down per client address.
/// </summary>
/// <remarks>
/// <para>
/// Each wrong attempt from an address is answered only after a delay that doubles with every consecutive failure
/// (0.5 s, 1 s, 2 s ... up to 16 s), and attempts from one address are checked one at a time, so sending many in
/// parallel gains nothing. After <see cref="BlockAfter"/> consecutive failures the address is refused outright for
/// <see cref="BlockFor"/> (Transmission stops accepting logins at all after 100 failures, which lets one attacker lock
/// everyone out; blocking per address does not). A success clears the address's count.
/// </para>
/// <para>
/// Checking a password costs a PBKDF2 hash (<see cref="RpcPassword"/>): a quarter of a second. Clients send the same
/// Authorization header with every request, so a header that passed once is remembered (as an HMAC under a key that
/// lives only in this process) and later requests cost microseconds.
/// </para>
/// </remarks>
public sealed class RpcAuthenticator
{
    /// <summary>Consecutive failures after which an address is blocked.</summary>
    public const int BlockAfter = 100;

    /// <summary>How long a blocked address stays blocked.</summary>
    public static readonly TimeSpan BlockFor = TimeSpan.FromHours(1);

    /// <summary>The longest delay before a failure is answered.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromSeconds(16);

    /// <summary>Failures older than this are forgotten.</summary>
    public static readonly TimeSpan ForgetAfter = TimeSpan.FromHours(1);

    private const int MaxTrackedAddresses = 4096;
    private const int MaxRememberedHeaders = 64;

    private readonly string? _username;
    private readonly string? _passwordHash;
    private readonly TimeProvider _time;
    private readonly byte[] _cacheKey = RandomNumberGenerator.GetBytes(32);
    private readonly ConcurrentDictionary<string, byte> _verified = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<IPAddress, Attempts> _attempts = new();

    /// <summary>Checks against <paramref name="username"/> and <paramref name="passwordHash"/>; both null means no authentication.</summary>
    public RpcAuthenticator(string? username, string? passwordHash, TimeProvider? time = null)
    {
        if ((username is null) != (passwordHash is null))
            throw new ArgumentException("A user name and a password hash go together.");
        if (passwordHash is not null && !RpcPassword.IsValidHash(passwordHash))
            throw new ArgumentException("rpcPasswordHash is not a hash this program wrote (set it again with rtorrent rpc-password).");
        _username = username;
        _passwordHash = passwordHash;
        _time = time ?? TimeProvider.System;
    }

    /// <summary>Whether requests must carry credentials.</summary>
    public bool IsRequired => _username is not null;

    /// <summary>Decides on a request's <c>Authorization</c> header from <paramref name="client"/> (null: a local socket).</summary>
    /// <param name="authorization">The header's value, or null.</param>
    /// <param name="client">The client's address; failures are counted per address.</param>
    /// <param name="cancellationToken">Ends the wait (the client went away).</param>
    public async Task<AuthResult> CheckAsync(string? authorization, IPAddress? client, CancellationToken cancellationToken)
    {
        if (_username is null) return AuthResult.Allowed;
        client = client is null ? IPAddress.None : client.IsIPv4MappedToIPv6 ? client.MapToIPv4() : client;
        var attempts = Track(client);
        DateTimeOffset now = _time.GetUtcNow();
        lock (attempts)
            if (attempts.BlockedUntil is { } until && until > now) return AuthResult.Blocked;

        string? fingerprint = authorization is null ? null : Fingerprint(authorization);
        if (fingerprint is not null && _verified.ContainsKey(fingerprint))
        {
            attempts.Reset();
            return AuthResult.Allowed;
        }

        // One check at a time per address: parallel guesses wait for each other's delays.
        await attempts.Gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (IsRight(authorization))
            {
                if (_verified.Count >= MaxRememberedHeaders) _verified.Clear();
                _verified.TryAdd(fingerprint!, 0);
                attempts.Reset();
                return AuthResult.Allowed;
            }
            TimeSpan delay;
            lock (attempts)
            {
                now = _time.GetUtcNow();
                if (now - attempts.LastFailure > ForgetAfter) attempts.Failures = 0;
                attempts.Failures++;
                attempts.LastFailure = now;
                if (attempts.Failures >= BlockAfter) attempts.BlockedUntil = now + BlockFor;
                delay = DelayFor(attempts.Failures);
            }
            await Task.Delay(delay, _time, cancellationToken).ConfigureAwait(false);
            return AuthResult.Unauthorized;
        }
        finally
        {
            attempts.Gate.Release();
        }
    }

    /// <summary>The delay before the answer to the <paramref name="failures"/>-th consecutive failure.</summary>
    public static TimeSpan DelayFor(int failures)
    {
        if (failures <= 0) return TimeSpan.Zero;
        double ms = 500 * Math.Pow(2, Math.Min(failures - 1, 16));
        return TimeSpan.FromMilliseconds(Math.Min(ms, MaxDelay.TotalMilliseconds));
    }

    private bool IsRight(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase)) return false;
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(authorization[6..].Trim()));
        }
        catch (FormatException)
        {
            return false;
        }
        int colon = decoded.IndexOf(':');
        if (colon < 0) return false;
        bool userMatches = CryptographicOperations.FixedTimeEquals(
            Encoding.UTF8.GetBytes(decoded[..colon]), Encoding.UTF8.GetBytes(_username!));
        // The hash is computed even for a wrong user, so timing does not tell which half was wrong.
        bool passwordMatches = RpcPassword.Verify(decoded[(colon + 1)..], _passwordHash);
        return userMatches && passwordMatches;
    }

    private string Fingerprint(string authorization) =>
        Convert.ToBase64String(HMACSHA256.HashData(_cacheKey, Encoding.UTF8.GetBytes(authorization)));

    private Attempts Track(IPAddress client)
    {
        if (_attempts.Count >= MaxTrackedAddresses && !_attempts.ContainsKey(client))
        {
            // Keep the map bounded whatever callers do: forget addresses that are not blocked, quiet ones first.
            DateTimeOffset now = _time.GetUtcNow();
            foreach (var (address, a) in _attempts)
                if (!IsBlocked(a, now) && now - a.LastFailure > TimeSpan.FromMinutes(1)) _attempts.TryRemove(address, out _);
            if (_attempts.Count >= MaxTrackedAddresses)
                foreach (var (address, a) in _attempts)
                    if (!IsBlocked(a, now)) _attempts.TryRemove(address, out _);
        }
        return _attempts.GetOrAdd(client, _ => new Attempts());
    }

    private static bool IsBlocked(Attempts a, DateTimeOffset now)
    {
        lock (a) return a.BlockedUntil is { } until && until > now;
    }

    private sealed class Attempts
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public int Failures;
        public DateTimeOffset LastFailure = DateTimeOffset.MinValue;
        public DateTimeOffset? BlockedUntil;

        public void Reset()
        {
            lock (this)
            {
                Failures = 0;
                BlockedUntil = null;
            }
        }
    }
}
