#!/usr/bin/python3
"""Test helper (Debian's /usr/bin/python3 with python3-libtorrent): real libtorrent 2.0 sessions,
encryption disabled (plaintext), exchanging lt_donthave both ways.

  lt-plain-peers.py make DIR PIECES     DIR/plain.torrent: two files (a.bin, b.bin) of PIECES/2
                                        pieces of 16 KiB each (v1 only)
  lt-plain-peers.py run DIR TARGET_PORT CONNECT_PORT CLIENTS

`run` starts a target session on 127.0.0.1:TARGET_PORT holding b.bin, and CLIENTS sessions holding
a.bin, each connecting to 127.0.0.1:CONNECT_PORT only (the proxy, or the target itself for a
direct run). Once every session has checked its file, each file is cut to half its length: the
sessions announce pieces of which they can read only the first half, so every request for the
second half fails to read and is answered with lt_donthave (and a reject): the target withdraws
pieces from the clients, the clients withdraw pieces from the target.

It stops when every session has all it can get and no message arrived for a second (or after
30 s), closes the clients' connections, and prints one JSON line:
  {"target": [...], "clients": [{"addr": "127.0.0.1:port", "pieces": [...], "received": [...],
                                 "targetReceived": [...]}]}
`target` and `pieces` are the pieces each session has at the end, `addr` the client's end of its
connection, `received` the messages the client's peer log says it received (`<==` lines) as
{msg, ext?, piece?}, and `targetReceived` those the target logged on that client's connection
(told apart by the client's peer id: through the proxy the target sees only the proxy's address)."""
import importlib.util, json, os, re, shutil, sys, time
import libtorrent as lt

# The `<==` line parser is the one of lt-mse-peers.py, which runs its command only as __main__.
_spec = importlib.util.spec_from_file_location('lt_mse_peers', os.path.join(os.path.dirname(os.path.abspath(__file__)), 'lt-mse-peers.py'))
_mse = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mse)
parse = _mse.parse

PIECE = 16384


def fingerprint(i):
    return f'-XC{i:04d}-'


def session(port, fp):
    # No default plugins: with ut_pex the target would tell each client about the others and they
    # would connect to each other directly, around the proxy.
    s = lt.session({
        'listen_interfaces': f'127.0.0.1:{port}', 'outgoing_interfaces': '127.0.0.1',
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'out_enc_policy': int(lt.enc_policy.pe_disabled), 'in_enc_policy': int(lt.enc_policy.pe_disabled),
        'allowed_enc_level': int(lt.enc_level.pe_plaintext),
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'allow_multiple_connections_per_ip': True,
        'peer_fingerprint': fp,
        'alert_mask': lt.alert_category.peer_log | lt.alert_category.error,
    }, 0)
    s.add_extension('ut_metadata')
    return s


def make(out, pieces):
    src = os.path.join(out, 'src')
    os.makedirs(src, exist_ok=True)
    for name in ('a.bin', 'b.bin'):
        with open(os.path.join(src, name), 'wb') as f:
            f.write(os.urandom(PIECE * (pieces // 2)))
    fs = lt.file_storage()
    lt.add_files(fs, src)
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    lt.set_piece_hashes(ct, out)
    with open(os.path.join(out, 'plain.torrent'), 'wb') as f:
        f.write(lt.bencode(ct.generate()))


def holding(out, role, name):
    """A save path for `role` with only file `name` of the torrent in it."""
    path = os.path.join(out, role)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(os.path.join(path, 'src'))
    shutil.copy(os.path.join(out, 'src', name), os.path.join(path, 'src', name))
    return path


def add(ses, out, save_path):
    p = lt.add_torrent_params()
    p.ti, p.save_path = lt.torrent_info(os.path.join(out, 'plain.torrent')), save_path
    return ses.add_torrent(p)


def pieces_of(h):
    return [i for i, have in enumerate(h.status().pieces) if have]


def checked(h):
    return h.status().state in (lt.torrent_status.seeding, lt.torrent_status.downloading, lt.torrent_status.finished)


def run(out, target_port, connect_port, count):
    target = session(target_port, '-XT0000-')
    ht = add(target, out, holding(out, 'target', 'b.bin'))
    clients = [session(0, fingerprint(i)) for i in range(count)]
    hcs = [add(c, out, holding(out, f'client{i}', 'a.bin')) for i, c in enumerate(clients)]
    deadline = time.time() + 20
    while not all(checked(h) for h in [ht, *hcs]):
        if time.time() > deadline:
            sys.exit('the sessions never finished checking their files')
        time.sleep(0.05)
    if target.listen_port() != target_port:
        sys.exit(f'the target listens on {target.listen_port()}, not {target_port}: the port was taken')
    for role, name in [('target', 'b.bin')] + [(f'client{i}', 'a.bin') for i in range(count)]:
        path = os.path.join(out, role, 'src', name)
        os.truncate(path, os.path.getsize(path) // 2)
    total = ht.status().pieces.__len__()
    # each side ends with its own file and the readable half of the other's
    wanted = total // 2 + total // 4
    target_log = {}
    client_logs = [[] for _ in clients]

    def pump():
        n = 0
        for i, ses in enumerate([target, *clients]):
            for a in ses.pop_alerts():
                if not isinstance(a, lt.peer_log_alert):
                    continue
                m = re.search(r'<== (.*)$', a.message())
                rec = parse(m.group(1)) if m else None
                if rec is None:
                    continue
                n += 1
                if i == 0:
                    target_log.setdefault(f'{a.endpoint[0]}:{a.endpoint[1]}', []).append(rec)
                else:
                    client_logs[i - 1].append(rec)
        return n

    for h in hcs:
        h.connect_peer(('127.0.0.1', connect_port))
    deadline = time.time() + 30
    quiet_since = time.time()
    while time.time() < deadline:
        if pump() > 0:
            quiet_since = time.time()
        if all(h.status().num_pieces >= wanted for h in [ht, *hcs]) and time.time() - quiet_since > 1:
            break
        time.sleep(0.05)
    by_client = {}
    for p in ht.get_peer_info():
        for i in range(count):
            if str(p.pid).startswith(fingerprint(i).encode().hex()):
                by_client[i] = f'{p.ip[0]}:{p.ip[1]}'
    addrs = []
    for h in hcs:
        peers = h.get_peer_info()
        addrs.append(f'{peers[0].local_endpoint[0]}:{peers[0].local_endpoint[1]}' if peers else '')
    pieces = {'target': pieces_of(ht), 'clients': [pieces_of(h) for h in hcs]}
    for h in hcs:
        h.pause()
    # quiet for a second already: nothing is in flight, this only lets the connections close
    end = time.time() + 0.3
    while time.time() < end:
        pump()
        time.sleep(0.05)
    print(json.dumps({
        'target': pieces['target'],
        'clients': [{'addr': addrs[i], 'pieces': pieces['clients'][i], 'received': client_logs[i],
                     'targetReceived': target_log.get(by_client.get(i, ''), [])} for i in range(count)],
    }))


if __name__ == '__main__':
    if sys.argv[1] == 'make':
        make(sys.argv[2], int(sys.argv[3]))
    else:
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
