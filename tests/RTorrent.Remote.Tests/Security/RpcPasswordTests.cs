using RTorrent.Remote.Security;

namespace RTorrent.Remote.Tests.Security;

/// <summary>The stored form of the RPC password: PBKDF2, salted, checked in constant time; nothing else accepted.</summary>
public class RpcPasswordTests
{
    private const int Fast = 1000; // real hashes use RpcPassword.DefaultIterations; tests need not wait

    [Fact]
    public void A_hash_verifies_its_own_password_and_no_other()
    {
        string hash = RpcPassword.Hash("correct horse", Fast);
        Assert.StartsWith(RpcPassword.Scheme + "$1000$", hash, StringComparison.Ordinal);
        Assert.True(RpcPassword.IsValidHash(hash));
        Assert.True(RpcPassword.Verify("correct horse", hash));
        Assert.False(RpcPassword.Verify("correct horse ", hash));
        Assert.False(RpcPassword.Verify("Correct horse", hash));
        Assert.False(RpcPassword.Verify("", hash));
    }

    [Fact]
    public void The_password_is_not_in_the_hash_and_each_hash_has_its_own_salt()
    {
        string a = RpcPassword.Hash("hunter2", Fast), b = RpcPassword.Hash("hunter2", Fast);
        Assert.DoesNotContain("hunter2", a, StringComparison.Ordinal);
        Assert.NotEqual(a, b);
        Assert.True(RpcPassword.Verify("hunter2", a));
        Assert.True(RpcPassword.Verify("hunter2", b));
    }

    [Fact]
    public void Unicode_and_empty_passwords_round_trip()
    {
        foreach (string password in new[] { "", "pässwörd ✓", "colon:inside", new string('x', 1000) })
            Assert.True(RpcPassword.Verify(password, RpcPassword.Hash(password, Fast)), password);
    }

    [Fact]
    public void The_default_iteration_count_is_the_slow_one() =>
        Assert.Contains($"${RpcPassword.DefaultIterations}$", RpcPassword.Hash("x"), StringComparison.Ordinal);

    [Fact]
    public void A_tampered_hash_no_longer_verifies()
    {
        string hash = RpcPassword.Hash("secret", Fast);
        string[] parts = hash.Split('$');
        byte[] digest = Convert.FromBase64String(parts[3]);
        digest[0] ^= 1;
        Assert.False(RpcPassword.Verify("secret", string.Join('$', parts[0], parts[1], parts[2], Convert.ToBase64String(digest))));
        byte[] salt = Convert.FromBase64String(parts[2]);
        salt[^1] ^= 0x80;
        Assert.False(RpcPassword.Verify("secret", string.Join('$', parts[0], parts[1], Convert.ToBase64String(salt), parts[3])));
        Assert.False(RpcPassword.Verify("secret", string.Join('$', parts[0], "1001", parts[2], parts[3])));
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("secret")]                                                  // the password itself
    [InlineData("{d3b07384d113edec49eaa6238ad5ff00a1b2c3d4e5f6a7b8")]        // Transmission's salted SHA-1
    [InlineData("$2b$12$abcdefghijklmnopqrstuuAbCdEfGhIjKlMnOpQrStUvWxYz012")] // bcrypt
    [InlineData("$6$salt$hash")]                                            // crypt(3) SHA-512
    [InlineData("pbkdf2-sha1$1000$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==")]
    [InlineData("PBKDF2-SHA256$1000$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==")]
    [InlineData("pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0")]                      // no hash
    [InlineData("pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==$x")]
    [InlineData("pbkdf2-sha256$0$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==")]
    [InlineData("pbkdf2-sha256$-5$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==")]
    [InlineData("pbkdf2-sha256$999999999$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA==")] // a denial of service, not a hash
    [InlineData("pbkdf2-sha256$1000$not base64!$aGFzaGhhc2hoYXNoaGFzaA==")]
    [InlineData("pbkdf2-sha256$1000$c2FsdA==$aGFzaGhhc2hoYXNoaGFzaA==")]         // salt too short
    [InlineData("pbkdf2-sha256$1000$c2FsdHNhbHRzYWx0$aGFzaA==")]                 // hash too short
    public void Foreign_or_broken_formats_are_not_hashes_and_verify_nothing(string? stored)
    {
        Assert.False(RpcPassword.IsValidHash(stored));
        Assert.False(RpcPassword.Verify("secret", stored));
        Assert.False(RpcPassword.Verify("", stored));
    }

    [Fact]
    public void Foreign_formats_are_refused_when_the_authenticator_is_built()
    {
        Assert.Throws<ArgumentException>(() => new RpcAuthenticator("admin", "{d3b07384d113edec49eaa6238ad5ff00a1b2c3d4e5f6a7b8"));
        Assert.Throws<ArgumentException>(() => new RpcAuthenticator("admin", null));
        Assert.Throws<ArgumentException>(() => new RpcAuthenticator(null, RpcPassword.Hash("x", Fast)));
    }

    [Fact]
    public void Bad_arguments_throw()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RpcPassword.Hash("x", 0));
        Assert.Throws<ArgumentNullException>(() => RpcPassword.Hash(null!, Fast));
        Assert.Throws<ArgumentNullException>(() => RpcPassword.Verify(null!, RpcPassword.Hash("x", Fast)));
    }
}
