using System.Net;
using RTorrent.Engine.Settings;

namespace RTorrent.Remote.Security;

/// <summary>The RPC's access rules, from settings.json (see docs/RPC.md, "Securing the RPC").</summary>
public sealed record RpcSecurityOptions
{
    /// <summary>Basic-auth user, or null for none.</summary>
    public string? Username { get; init; }

    /// <summary>The password's PBKDF2 hash (<see cref="RpcPassword"/>), or null.</summary>
    public string? PasswordHash { get; init; }

    /// <summary>Check Host headers.</summary>
    public bool HostAllowListEnabled { get; init; } = true;

    /// <summary>Extra allowed host names.</summary>
    public IReadOnlyList<string> HostAllowList { get; init; } = [];

    /// <summary>Check client addresses.</summary>
    public bool AddressAllowListEnabled { get; init; } = true;

    /// <summary>Allowed client addresses.</summary>
    public IReadOnlyList<string> AddressAllowList { get; init; } = ["127.0.0.1", "::1"];

    /// <summary>Largest request body.</summary>
    public long MaxRequestBytes { get; init; } = EngineSettings.DefaultRpcMaxRequestBytes;

    /// <summary>Whether clients must log in.</summary>
    public bool HasCredentials => Username is not null && PasswordHash is not null;

    /// <summary>The rules settings.json holds.</summary>
    public static RpcSecurityOptions FromSettings(EngineSettings s) => new()
    {
        Username = s.RpcUsername,
        PasswordHash = s.RpcPasswordHash,
        HostAllowListEnabled = s.RpcHostAllowListEnabled,
        HostAllowList = s.RpcHostAllowList,
        AddressAllowListEnabled = s.RpcAddressAllowListEnabled,
        AddressAllowList = s.RpcAddressAllowList,
        MaxRequestBytes = s.RpcMaxRequestBytes,
    };

    /// <summary>
    /// Why serving on <paramref name="endPoints"/> would be unsafe, or null: an address other than loopback
    /// (reachable from other machines) without a user and password, which is how Transmission daemons end up open to
    /// the internet.
    /// </summary>
    public string? RefuseBinding(IEnumerable<IPEndPoint> endPoints)
    {
        foreach (IPEndPoint ep in endPoints)
            if (!IPAddress.IsLoopback(ep.Address) && !HasCredentials)
                return $"refusing to serve the RPC on {ep} without a user and password: anyone who can reach that address could " +
                       "control the daemon. Set them with 'rtorrent rpc-password --user NAME', or serve on 127.0.0.1 only.";
        return null;
    }
}
