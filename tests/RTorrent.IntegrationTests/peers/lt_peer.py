#!/usr/bin/python3
"""A libtorrent (python3-libtorrent) peer for RTorrent's interop tests.

  lt_peer.py seed --torrent T --save DIR [--port P] [--upload-limit BPS] [--peer HOST:PORT]...
  lt_peer.py get  (--torrent T | --magnet URI) --save DIR [--port P] [--peer HOST:PORT]...
  --listen ADDRESS                         (both modes) the address to listen on: 127.0.0.1 by default,
                                           ::1 or another IPv6 address for IPv6 tests
  --transport tcp|utp|both                 (both modes) which transports libtorrent accepts and dials:
                                           tcp (the default), utp (TCP off both ways: every connection
                                           is uTP), both (libtorrent's own default, uTP dialled first)
  --encryption default|rc4-only|disabled   (both modes) libtorrent's own default tries MSE first
                                           and takes plaintext; rc4-only refuses anything but an
                                           RC4 stream both ways; disabled speaks plain BitTorrent only.

Everything runs on 127.0.0.1, over TCP only unless --transport says otherwise: DHT, LSD, UPnP and NAT-PMP are off, and
allow_multiple_connections_per_ip is on because every test peer shares 127.0.0.1 and differs only
by port. --port 0 (the default) lets the OS choose; the port is printed.

The test reads these lines on stdout (one event per line, flushed):
  LISTENING <port>        the listen socket is open
  METADATA <name>         get --magnet: the info dictionary arrived (BEP 9)
  SEEDING                 seed: the data checked out and the torrent is seeding
  PEER <ip:port>          --transport utp/both: a peer connected (once per address)
  FINISHED <bytes>        get: every wanted byte is downloaded and verified; the script then exits 0
  ERROR <text>            a torrent, file or listen error (the test fails on it)
Exit codes: 0 done or stopped by SIGTERM/SIGINT, 1 an error, 3 --max-time passed.

Rate limits: libtorrent 2.x exempts peers on the local network (127/8 included) from rate limits;
--upload-limit / --download-limit put the limit on the local peer class too, so a test can make a
transfer slow enough to interrupt it half way.
"""
import argparse
import ctypes
import signal
import sys
import time

import libtorrent as lt


def die_with_parent():
    """The test host kills us by PID; if it dies first, the kernel sends SIGTERM (Linux prctl PR_SET_PDEATHSIG)."""
    try:
        ctypes.CDLL('libc.so.6', use_errno=True).prctl(1, signal.SIGTERM)
    except OSError:
        pass


ENCRYPTION = {
    'default': {},
    'rc4-only': {'out_enc_policy': int(lt.enc_policy.forced), 'in_enc_policy': int(lt.enc_policy.forced),
                 'allowed_enc_level': int(lt.enc_level.rc4), 'prefer_rc4': True},
    'disabled': {'out_enc_policy': int(lt.enc_policy.disabled), 'in_enc_policy': int(lt.enc_policy.disabled)},
}


TRANSPORT = {
    'tcp': {'enable_incoming_utp': False, 'enable_outgoing_utp': False, 'enable_incoming_tcp': True, 'enable_outgoing_tcp': True},
    'utp': {'enable_incoming_utp': True, 'enable_outgoing_utp': True, 'enable_incoming_tcp': False, 'enable_outgoing_tcp': False},
    'both': {'enable_incoming_utp': True, 'enable_outgoing_utp': True, 'enable_incoming_tcp': True, 'enable_outgoing_tcp': True},
}


def session_settings(port, seeding, upload_limit, download_limit, encryption='default', listen='127.0.0.1', transport='tcp'):
    s = lt.high_performance_seed() if seeding else lt.default_settings()
    s.update({
        'listen_interfaces': f'[{listen}]:{port}' if ':' in listen else f'{listen}:{port}',
        'outgoing_interfaces': '',
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'enable_incoming_utp': False, 'enable_outgoing_utp': False,
        'enable_incoming_tcp': True, 'enable_outgoing_tcp': True,
        'allow_multiple_connections_per_ip': True,
        'upload_rate_limit': upload_limit, 'download_rate_limit': download_limit,
        'alert_mask': lt.alert.category_t.error_notification | lt.alert.category_t.status_notification,
        'user_agent': 'rt-interop-lt/' + lt.__version__,
        # Announce at once when a peer asks again; tests never wait for a 30-minute interval.
        'min_announce_interval': 1,
    })
    s.update(ENCRYPTION[encryption])
    s.update(TRANSPORT[transport])
    return s


def limit_local_peers(ses, upload_limit, download_limit):
    if not upload_limit and not download_limit:
        return
    for cid in (lt.session.local_peer_class_id, lt.session.global_peer_class_id):
        pc = ses.get_peer_class(cid)
        pc['upload_limit'] = upload_limit
        pc['download_limit'] = download_limit
        ses.set_peer_class(cid, pc)


def endpoint(text):
    host, port = text.rsplit(':', 1)
    return host.strip('[]'), int(port)


def say(*parts):
    print(*parts, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('mode', choices=['seed', 'get'])
    ap.add_argument('--torrent')
    ap.add_argument('--magnet')
    ap.add_argument('--save', required=True)
    ap.add_argument('--port', type=int, default=0)
    ap.add_argument('--listen', default='127.0.0.1')
    ap.add_argument('--peer', action='append', default=[], type=endpoint)
    ap.add_argument('--upload-limit', type=int, default=0, help='bytes/s, 0 = unlimited')
    ap.add_argument('--download-limit', type=int, default=0, help='bytes/s, 0 = unlimited')
    ap.add_argument('--encryption', choices=sorted(ENCRYPTION), default='default')
    ap.add_argument('--transport', choices=sorted(TRANSPORT), default='tcp')
    ap.add_argument('--max-time', type=float, default=600, help='give up (exit 3) after this many seconds')
    a = ap.parse_args()
    if (a.torrent is None) == (a.magnet is None):
        ap.error('give exactly one of --torrent and --magnet')
    if a.mode == 'seed' and a.torrent is None:
        ap.error('seed needs --torrent')

    die_with_parent()
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGINT, lambda *_: stop.append(1))

    ses = lt.session(session_settings(a.port, a.mode == 'seed', a.upload_limit, a.download_limit, a.encryption, a.listen, a.transport))
    limit_local_peers(ses, a.upload_limit, a.download_limit)
    if a.torrent:
        atp = lt.add_torrent_params()
        atp.ti = lt.torrent_info(a.torrent)
    else:
        atp = lt.parse_magnet_uri(a.magnet)
    atp.save_path = a.save
    h = ses.add_torrent(atp)
    if a.upload_limit:
        h.set_upload_limit(a.upload_limit)
    if a.download_limit:
        h.set_download_limit(a.download_limit)

    deadline = time.monotonic() + a.max_time
    listening = False
    have_metadata = a.torrent is not None
    seeding = finished = False
    last_dial = 0.0
    errors = 0
    seen = set()
    while not stop:
        if time.monotonic() > deadline:
            say('ERROR max-time passed')
            return 3
        ses.wait_for_alert(100)
        for al in ses.pop_alerts():
            if isinstance(al, (lt.torrent_error_alert, lt.file_error_alert, lt.listen_failed_alert,
                               lt.metadata_failed_alert)):
                say('ERROR', al.message())
                errors += 1
        if not listening and ses.is_listening():
            listening = True
            say('LISTENING', ses.listen_port())
        st = h.status()
        if not have_metadata and st.has_metadata:
            have_metadata = True
            say('METADATA', st.name)
        if a.mode == 'seed' and st.is_seeding and not seeding:
            seeding = True
            say('SEEDING')
        if a.mode == 'get' and have_metadata and (st.is_finished or st.is_seeding) and not finished:
            finished = True
            say('FINISHED', st.total_wanted_done)
            break
        # Each connected peer once (with --transport utp every connection is uTP: TCP is off both ways).
        if a.transport != 'tcp':
            for p in h.get_peer_info():
                if p.ip not in seen:
                    seen.add(p.ip)
                    say('PEER', f'{p.ip[0]}:{p.ip[1]}')
        # Direct peers: dial again while not connected (the other side may start listening a moment later).
        if a.peer and st.num_peers == 0 and time.monotonic() - last_dial > 1.0:
            last_dial = time.monotonic()
            for p in a.peer:
                h.connect_peer(p)
    ses.pause()
    return 1 if errors and not finished and not seeding else 0


if __name__ == '__main__':
    sys.exit(main())
