"""Small clients for the daemon's two protocols, for the benchmark scripts (standard library only)."""
import http.client, json, socket

class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=60):
        super().__init__("localhost", timeout=timeout)
        self._path = path
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self._path)

class Rpc:
    """Transmission's envelope with the session-id handshake, over a Unix socket or TCP."""
    def __init__(self, path, unix_socket=None, host="127.0.0.1", port=9091, auth=None):
        self.path, self.unix, self.host, self.port, self.sid, self.auth = path, unix_socket, host, port, None, auth
        self.conn = None
    def _connection(self):
        if self.conn is None:
            self.conn = _UnixConnection(self.unix) if self.unix else http.client.HTTPConnection(self.host, self.port, timeout=120)
        return self.conn
    def raw(self, method, arguments=None):
        """Returns (response bytes, seconds the call took)."""
        import time
        body = json.dumps({"method": method, "arguments": arguments or {}}).encode()
        for _ in range(3):
            headers = {"Content-Type": "application/json"}
            if self.sid: headers["X-Transmission-Session-Id"] = self.sid
            if self.auth: headers["Authorization"] = self.auth
            t0 = time.perf_counter()
            c = self._connection()
            c.request("POST", self.path, body, headers)
            r = c.getresponse(); data = r.read()
            took = time.perf_counter() - t0
            if r.status == 409:
                self.sid = r.getheader("X-Transmission-Session-Id"); continue
            if r.status != 200: raise RuntimeError(f"HTTP {r.status}: {data[:200]!r}")
            return data, took
        raise RuntimeError("409 loop")
    def call(self, method, arguments=None):
        data, _ = self.raw(method, arguments)
        reply = json.loads(data)
        if reply.get("result") != "success": raise RuntimeError(f"{method}: {reply.get('result')}")
        return reply.get("arguments", {})

def native(session_dir):
    return Rpc("/rtorrent/rpc", unix_socket=session_dir + "/rpc.sock")

def transmission(port, host="127.0.0.1"):
    return Rpc("/transmission/rpc", host=host, port=port)
