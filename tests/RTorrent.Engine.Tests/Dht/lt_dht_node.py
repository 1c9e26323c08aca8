#!/usr/bin/python3
"""A libtorrent DHT node on 127.0.0.1 for RTorrent's DHT interop tests.

  lt_dht_node.py --port P [--host 127.0.0.1|::1] [--node HOST:PORT ...] [--router HOST:PORT ...] [--announce HEX ...] [--lookup HEX ...]
                 [--seed TORRENT --save DIR] [--max-time S]

Prints one event per line on stdout (flushed):
  READY <port>                      the session listens (TCP and UDP on <port>)
  NODES <n>                         nodes in libtorrent's DHT routing table (every second)
  PEER <infohash-hex> <ip>:<port>   a peer libtorrent's DHT lookup found (--lookup)
--announce adds a torrent by info-hash only (a magnet without trackers), so libtorrent announces it to the DHT with
its listen port; force_dht_announce() repeats that every few seconds. --lookup runs dht_get_peers every 2 s.
--node adds a DHT node (session.add_dht_node: pinged, and kept in the routing table once it answers); --router adds a
bootstrap router (dht_bootstrap_nodes), which libtorrent uses to start lookups but never puts in its routing table.
Exits when stdin closes or after --max-time seconds. The test kills it by PID as well.

Loopback needs these settings: every node is 127.0.0.1, which libtorrent's default DHT restrictions treat as one
host (dht_restrict_routing_ips / dht_restrict_search_ips) or refuse (dht_ignore_dark_internet), and its per-IP
rate limit (dht_block_ratelimit) would soon block "127.0.0.1" as a flooder.
"""
import argparse, os, select, sys, tempfile, time
import libtorrent as lt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--host', default='127.0.0.1', help='the address to listen on: ::1 runs an IPv6 DHT node (BEP 32)')
    ap.add_argument('--node', action='append', default=[])
    ap.add_argument('--router', action='append', default=[])
    ap.add_argument('--announce', action='append', default=[])
    ap.add_argument('--lookup', action='append', default=[])
    ap.add_argument('--max-time', type=float, default=120)
    ap.add_argument('--seed', default=None, help='a .torrent whose complete data is in --save: seed it and announce it')
    ap.add_argument('--save', default=None)
    a = ap.parse_args()

    s = lt.default_settings()
    s.update({
        'listen_interfaces': (f'[{a.host}]:{a.port}' if ':' in a.host else f'{a.host}:{a.port}'),
        'outgoing_interfaces': '',
        'enable_dht': True,
        'dht_bootstrap_nodes': ','.join(a.router),
        'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'allow_multiple_connections_per_ip': True,
        'dht_restrict_routing_ips': False,
        'dht_restrict_search_ips': False,
        'dht_ignore_dark_internet': False,
        'dht_prefer_verified_node_ids': False,
        'dht_enforce_node_id': False,
        'dht_block_ratelimit': 100000,
        'dht_announce_interval': 5,
        # dht_get_peers_reply_alert is a dht_operation_notification
        'alert_mask': lt.alert.category_t.dht_notification | lt.alert.category_t.dht_operation_notification
                      | lt.alert.category_t.status_notification | lt.alert.category_t.error_notification,
    })
    ses = lt.session(s)
    for b in a.node:
        host, port = b.rsplit(':', 1)
        ses.add_dht_node((host.strip('[]'), int(port)))

    save = tempfile.mkdtemp(prefix='rt-lt-dht-')
    handles = []
    for h in a.announce:
        atp = lt.add_torrent_params()
        atp.info_hashes = lt.info_hash_t(lt.sha1_hash(bytes.fromhex(h)))
        atp.save_path = save
        atp.name = h
        handles.append(ses.add_torrent(atp))
    if a.seed:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(a.seed)
        atp.save_path = a.save
        handles.append(ses.add_torrent(atp))
    lookups = [lt.sha1_hash(bytes.fromhex(h)) for h in a.lookup]

    print(f'READY {a.port}', flush=True)
    start = time.monotonic()
    last_tick = 0.0
    seen = set()
    while time.monotonic() - start < a.max_time:
        r, _, _ = select.select([sys.stdin], [], [], 0.2)
        if r and not sys.stdin.readline():
            break  # stdin closed: the test is done with us
        for al in ses.pop_alerts():
            if isinstance(al, lt.dht_get_peers_reply_alert):
                for ip, port in al.peers():
                    key = (str(al.info_hash), ip, port)
                    if key not in seen:
                        seen.add(key)
                        print(f'PEER {al.info_hash} {ip}:{port}', flush=True)
            elif isinstance(al, lt.dht_stats_alert):
                n = sum(b['num_nodes'] for b in al.routing_table) if al.routing_table else 0
                print(f'NODES {n}', flush=True)
            elif isinstance(al, lt.listen_failed_alert):
                print(f'ERROR {al.message()}', flush=True)
        now = time.monotonic()
        if now - last_tick >= 1.0:
            last_tick = now
            ses.post_dht_stats()
            if int(now - start) % 3 == 0:
                for h in handles:
                    h.force_dht_announce()
            if int(now - start) % 2 == 0:
                for ih in lookups:
                    ses.dht_get_peers(ih)
    return 0


if __name__ == '__main__':
    sys.exit(main())
