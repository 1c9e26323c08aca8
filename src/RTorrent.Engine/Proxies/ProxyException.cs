namespace RTorrent.Engine.Proxies;

/// <summary>
/// The proxy refused, failed or answered something we do not understand. An <see cref="IOException"/>, so the code
/// that handles a failed connection (a peer we could not reach, a tracker that did not answer) handles it too.
/// </summary>
public sealed class ProxyException(string message, Exception? inner = null) : IOException(message, inner);
