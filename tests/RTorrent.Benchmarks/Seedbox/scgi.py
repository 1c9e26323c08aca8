"""A small XML-RPC client over SCGI (a Unix socket), for Debian's rTorrent 0.9.8 (`network.scgi.open_local`).
SCGI: the request headers as a netstring (`LEN:CONTENT_LENGTH\\0<n>\\0SCGI\\01\\0,`) then the body; the answer is a
CGI-style header block (`Status: 200 OK`, blank line) then the XML-RPC body, and the server closes the connection."""
import socket, xmlrpc.client

class ScgiXmlRpc:
    def __init__(self, path, timeout=120):
        self.path, self.timeout = path, timeout

    def raw(self, body: bytes) -> bytes:
        headers = b"CONTENT_LENGTH\0%d\0SCGI\x001\0REQUEST_METHOD\0POST\0REQUEST_URI\0/RPC2\0" % len(body)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        try:
            s.connect(self.path)
            s.sendall(b"%d:%s," % (len(headers), headers) + body)
            chunks = []
            while True:
                b = s.recv(1 << 20)
                if not b: break
                chunks.append(b)
        finally:
            s.close()
        reply = b"".join(chunks)
        head, sep, rest = reply.partition(b"\r\n\r\n")
        if not sep: head, sep, rest = reply.partition(b"\n\n")
        if not sep: raise RuntimeError(f"no SCGI header in {reply[:200]!r}")
        return rest

    def call(self, method, *params):
        body = xmlrpc.client.dumps(tuple(params), method).encode()
        result, _ = xmlrpc.client.loads(self.raw(body))  # raises xmlrpc.client.Fault on a fault
        return result[0] if len(result) == 1 else result
