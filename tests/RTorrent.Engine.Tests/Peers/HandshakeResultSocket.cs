using System.Net.Sockets;
using RTorrent.Engine.Peers;

namespace RTorrent.Engine.Tests.Peers;

/// <summary>The TCP socket under a handshake's stream, for tests written against TCP.</summary>
internal static class HandshakeResultSocket
{
    extension(HandshakeResult result)
    {
        public Socket Socket => ((TcpPeerStream)result.Stream).Socket;
    }
}
