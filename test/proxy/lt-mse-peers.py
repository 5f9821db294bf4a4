#!/usr/bin/python3
"""Test helper (Debian's /usr/bin/python3 with python3-libtorrent): two libtorrent 2.0 sessions with
encryption forced (MSE/PE, pe_forced in and out), the leecher connecting through the proxy.

  lt-mse-peers.py make DIR PIECES                 seed data + DIR/mse.torrent (hybrid v1+v2)
  lt-mse-peers.py run DIR SEED_PORT PROXY_PORT LEECH_LEVEL SEED_LEVEL
                                                  LEVEL (allowed_enc_level): rc4 | plaintext | both

`run` seeds on 127.0.0.1:SEED_PORT, the leecher adds the torrent and connects to 127.0.0.1:PROXY_PORT
only; it stops when the leecher has every piece (or after 30 s) and prints one JSON line:
{"complete": bool, "pieces": n, "errors": [...], "seed": [...], "leech": [...]} where seed/leech are the messages
each session's peer log says it received (`<==` lines), as {msg, ext?, piece?}, errors why either
side's connections ended, and seedLog the seed's first 40 peer-log lines (for a failed transfer)."""
import json, os, re, shutil, sys, time
import libtorrent as lt

# libtorrent's peer-log names, owned by the sample generators' parser
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'samples', 'generate'))
from lt_peerlog import NAMES, SKIP  # noqa: E402

PIECE = 16384


def parse(line):
    word = (line.split() or [''])[0].rstrip(':')
    if word in SKIP or (word == 'HANDSHAKE' and 'connection ready' in line):
        return None
    name = NAMES.get(word)
    if name is None:
        return None
    rec = {'msg': name} if isinstance(name, str) else {'msg': name[0], 'ext': name[1]}
    m = re.search(r'\bpiece\s*:\s*(\d+)', line)
    if m and (rec['msg'] in ('have', 'request', 'piece', 'cancel', 'suggest_piece', 'reject_request') or rec.get('ext') == 'lt_donthave'):
        rec['piece'] = int(m.group(1))
    if rec['msg'] == 'allowed_fast':
        rec['piece'] = int(re.search(r'\[\s*(\d+)', line).group(1))
    return rec


def session(port, level):
    return lt.session({
        'listen_interfaces': f'127.0.0.1:{port}', 'outgoing_interfaces': '127.0.0.1',
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'out_enc_policy': int(lt.enc_policy.pe_forced), 'in_enc_policy': int(lt.enc_policy.pe_forced),
        'allowed_enc_level': int({'rc4': lt.enc_level.pe_rc4, 'plaintext': lt.enc_level.pe_plaintext, 'both': lt.enc_level.pe_both}[level]),
        'prefer_rc4': level == 'rc4',
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'allow_multiple_connections_per_ip': True,
        'alert_mask': lt.alert_category.peer_log | lt.alert_category.error | lt.alert_category.connect,
    })


def make(out, pieces):
    seed_dir = os.path.join(out, 'seed')
    os.makedirs(seed_dir, exist_ok=True)
    path = os.path.join(seed_dir, 'mse.bin')
    with open(path, 'wb') as f:
        f.write(os.urandom(PIECE * pieces))
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, PIECE)
    lt.set_piece_hashes(ct, seed_dir)
    with open(os.path.join(out, 'mse.torrent'), 'wb') as f:
        f.write(lt.bencode(ct.generate()))


def run(out, seed_port, proxy_port, leech_level, seed_level):
    ti = lt.torrent_info(os.path.join(out, 'mse.torrent'))
    shutil.rmtree(os.path.join(out, 'leech'), ignore_errors=True)
    seed, leech = session(seed_port, seed_level), session(0, leech_level)
    # The leecher dials again a second after a failed connection (libtorrent waits 60 s by default):
    # libtorrent 2.0's own req3 mask bug makes a seed close about 1 key exchange in 256 (lt-mse.test.ts).
    leech.apply_settings({'min_reconnect_time': 1})
    p = lt.add_torrent_params()
    p.ti, p.save_path = ti, os.path.join(out, 'seed')
    hs = seed.add_torrent(p)
    deadline = time.time() + 20
    while not hs.status().is_seeding:
        if time.time() > deadline:
            sys.exit('seed never became a seed')
        time.sleep(0.05)
    if seed.listen_port() != seed_port:
        sys.exit(f'the seed listens on {seed.listen_port()}, not {seed_port}: the port was taken')
    p = lt.add_torrent_params()
    p.ti, p.save_path = lt.torrent_info(os.path.join(out, 'mse.torrent')), os.path.join(out, 'leech')
    hl = leech.add_torrent(p)
    hl.connect_peer(('127.0.0.1', proxy_port))
    got = {'seed': [], 'leech': []}
    errors = []
    seed_log = []

    def pump():
        for role, ses in (('seed', seed), ('leech', leech)):
            for a in ses.pop_alerts():
                if isinstance(a, (lt.peer_disconnected_alert, lt.peer_error_alert)):
                    errors.append(f'{role}: {a.message()}')
                if role == 'seed' and isinstance(a, lt.peer_log_alert) and len(seed_log) < 40:
                    # the seed's first log lines: what it made of the MSE exchange, if it closes
                    seed_log.append(a.message())
                if isinstance(a, lt.peer_log_alert):
                    m = re.search(r'<== (.*)$', a.message())
                    if m:
                        rec = parse(m.group(1))
                        if rec is not None:
                            got[role].append(rec)
    deadline = time.time() + 30
    redial = True
    while time.time() < deadline and not hl.status().is_seeding:
        pump()
        if redial and any(r['msg'] == 'handshake' for r in got['leech']):
            # a connection got through: no quick redial any more (once both are seeds, the peers
            # would connect again to check, and that connection's messages would outlive the test)
            redial = False
            leech.apply_settings({'min_reconnect_time': 60})
        time.sleep(0.05)
    complete = hl.status().is_seeding
    # let the last messages arrive, then close so that nothing reaches a peer after its log ends
    end = time.time() + 1
    while time.time() < end:
        pump()
        time.sleep(0.05)
    hl.pause()
    hs.pause()
    end = time.time() + 1
    while time.time() < end:
        pump()
        time.sleep(0.05)
    print(json.dumps({'complete': complete, 'pieces': hl.status().num_pieces, 'errors': errors, 'seedLog': seed_log, **got}))


if __name__ == '__main__':
    if sys.argv[1] == 'make':
        make(sys.argv[2], int(sys.argv[3]))
    else:
        run(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6])
