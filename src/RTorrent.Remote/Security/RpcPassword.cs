using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace RTorrent.Remote.Security;

/// <summary>
/// The RPC password as settings.json keeps it: <c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c> (salt and hash in base64),
/// never the password itself. Transmission keeps a salted SHA-1, which a GPU tries billions of times a second;
/// PBKDF2 with many iterations makes each guess cost real time. Verifying is slow on purpose, so
/// <see cref="RpcAuthenticator"/> remembers credentials it has verified instead of hashing on every request.
/// </summary>
public static class RpcPassword
{
    /// <summary>The prefix of a stored hash.</summary>
    public const string Scheme = "pbkdf2-sha256";

    /// <summary>
    /// Iterations for new hashes (OWASP's 2023 figure for PBKDF2-HMAC-SHA256); about a quarter of a second on a
    /// small seedbox, paid once per client thanks to the authenticator's cache.
    /// </summary>
    public const int DefaultIterations = 600_000;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>Hashes <paramref name="password"/> with a new random salt.</summary>
    public static string Hash(string password, int iterations = DefaultIterations)
    {
        ArgumentNullException.ThrowIfNull(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        byte[] salt = RandomNumberGenerator.GetBytes(SaltBytes);
        byte[] hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Create(CultureInfo.InvariantCulture, $"{Scheme}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>Whether <paramref name="stored"/> is a hash this program can check.</summary>
    public static bool IsValidHash(string? stored) => TryParse(stored, out _, out _, out _);

    /// <summary>Whether <paramref name="password"/> matches <paramref name="stored"/> (compared in constant time).</summary>
    public static bool Verify(string password, string? stored)
    {
        ArgumentNullException.ThrowIfNull(password);
        if (!TryParse(stored, out int iterations, out byte[]? salt, out byte[]? expected)) return false;
        byte[] actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static bool TryParse(string? stored, out int iterations, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? salt,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out byte[]? hash)
    {
        iterations = 0;
        salt = hash = null;
        if (string.IsNullOrEmpty(stored)) return false;
        string[] parts = stored.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme) return false;
        if (!int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations < 1 || iterations > 100_000_000)
            return false;
        try
        {
            salt = Convert.FromBase64String(parts[2]);
            hash = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            salt = hash = null;
            return false;
        }
        return salt.Length >= 8 && hash.Length >= 16;
    }
}
