using System.Text.Json.Serialization;

namespace RTorrent.Engine.Peers.Encryption;

/// <summary>
/// How the engine uses Message Stream Encryption (MSE, also called protocol encryption or PE), the obfuscation that
/// libtorrent, Transmission, rTorrent and qBittorrent speak.
/// </summary>
public enum EncryptionMode
{
    /// <summary>Plain BitTorrent only: incoming encrypted handshakes are refused, outgoing connections are plain.</summary>
    [JsonStringEnumMemberName("disabled")]
    Disabled,

    /// <summary>
    /// The default. Incoming connections may be plain or encrypted; an encrypted one that offers plaintext after the
    /// handshake gets plaintext (no RC4 cost on the data). Outgoing connections start plain and, when a peer closes a
    /// plain handshake, are retried once encrypted.
    /// </summary>
    [JsonStringEnumMemberName("enabled")]
    Enabled,

    /// <summary>
    /// Outgoing connections start encrypted (offering RC4 and plaintext, RC4 chosen when we answer) and fall back to
    /// plain once if the peer does not speak MSE; incoming plain connections are still accepted.
    /// </summary>
    [JsonStringEnumMemberName("preferred")]
    Preferred,

    /// <summary>Only RC4-encrypted connections, both ways; plain peers are refused.</summary>
    [JsonStringEnumMemberName("required")]
    Required,
}
