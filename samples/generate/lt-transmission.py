#!/usr/bin/python3
"""A libtorrent 2.0.8 seeder (Debian python3-libtorrent) serving Transmission 3.00 (Debian
`transmission-daemon`), for the tr-* captures. Run with Debian's /usr/bin/python3, inside a
tcpdump started by all.sh (the capture is not made here).

  lt-transmission.py --name NAME --out DIR [--transport tcp|utp] [--join torrent|magnet] [--cut]
                     [--seed-ip IP --tr-ip IP]

The seeder makes a v1 torrent (Transmission 3.00 knows no v2), checks its data, and dials
Transmission, which runs as `transmission-daemon -f -g CONFDIR` with DHT, LPD and port forwarding
off and encryption 0 ("prefer unencrypted": plaintext). libtorrent runs plaintext (pe_disabled).
--transport tcp: TCP only on both sides (Transmission's uTP off); utp: uTP only (the seeder's
TCP off), BEP 29, Transmission's uTP is libutp. The torrent is handed to Transmission with
transmission-remote: the .torrent, or with --join magnet the magnet link, and Transmission fetches
the info dictionary with ut_metadata, then closes the connection (it verifies the new torrent).
Transmission never dials a loopback address (127/8 is "martian" to it): on loopback the seeder
adds its torrent anew (a fresh peer list: libtorrent would wait, then dial its own address, which
Transmission's ut_pex told it) and dials again; with --seed-ip/--tr-ip outside 127/8 (addresses
of a network namespace's lo, see all.sh) Transmission dials the seeder back by itself.

Transmission 3.00 advertises the fast extension (BEP 6) and, in its extended handshake,
ut_metadata and ut_pex (not ut_holepunch, not lt_donthave). With --cut the seeder's file loses
its second half once checked: each request for a lost piece fails to read and libtorrent answers
it with reject_request (fast extension); it must not send lt_donthave, which Transmission did not
advertise. Transmission asks again for the lost pieces every second; the run ends --after-reject
seconds after the first reject.

Writes DIR/NAME.torrent, DIR/NAME.seed.truth.ndjson (what the seeder's libtorrent parsed from
Transmission: its peer log's `<==` lines), DIR/NAME.seed.peerlog (the whole peer log, both ways)
and DIR/NAME.tr.log (Transmission's own debug log, TR_DEBUG_FD=2: it names each message type it
got, but not the piece of a reject or of a block, so it gives no truth)."""
import argparse, json, os, re, shutil, subprocess, sys, time
import libtorrent as lt
from lt_peerlog import parse_line

ap = argparse.ArgumentParser()
ap.add_argument('--name', required=True)
ap.add_argument('--out', required=True)
ap.add_argument('--transport', default='tcp', choices=['tcp', 'utp'])
ap.add_argument('--join', default='torrent', choices=['torrent', 'magnet'])
ap.add_argument('--cut', action='store_true', help="the seeder's file loses its second half after checking")
ap.add_argument('--seed-ip', default='127.0.0.1')
ap.add_argument('--tr-ip', default='127.0.0.1')
ap.add_argument('--seed-port', type=int, default=48901)
ap.add_argument('--tr-port', type=int, default=48902)
ap.add_argument('--rpc-port', type=int, default=48909)
ap.add_argument('--pieces', type=int, default=32)
ap.add_argument('--quiet', type=float, default=12, help='end this long after the last message')
ap.add_argument('--seconds', type=float, default=60)
ap.add_argument('--after-reject', type=float, default=4, help='--cut: end this long after the first reject')
args = ap.parse_args()

PIECE = 16384
work = os.path.join(args.out, f'{args.name}.work')
torrent_path = os.path.join(args.out, f'{args.name}.torrent')
SEED = f'{args.seed_ip}:{args.seed_port}'
# Transmission never dials a loopback address (127/8 is 'martian' to it)
TR_DIALS = not args.seed_ip.startswith('127.')


def make_torrent(seed_dir):
    path = os.path.join(seed_dir, f'{args.name}.bin')
    with open(path, 'wb') as f:
        f.write(bytes((i * 7 + (i >> 10)) & 0xff for i in range(PIECE * args.pieces)))
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    ct.set_creator('ltdh-inspect lt-transmission.py')
    lt.set_piece_hashes(ct, seed_dir)
    with open(torrent_path, 'wb') as f:
        f.write(lt.bencode(ct.generate()))
    return path


def seeder(seed_dir):
    utp = args.transport == 'utp'
    s = lt.session({
        'listen_interfaces': SEED, 'outgoing_interfaces': args.seed_ip,
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'out_enc_policy': 2, 'in_enc_policy': 2, 'allowed_enc_level': 1,  # pe_disabled, plaintext
        'enable_outgoing_utp': utp, 'enable_incoming_utp': utp,
        'enable_outgoing_tcp': not utp, 'enable_incoming_tcp': not utp,
        'alert_mask': lt.alert_category.peer_log | lt.alert_category.status | lt.alert_category.error,
        'user_agent': 'ltdh-inspect-sample',
    })
    return s, add_seed(s, seed_dir)


def add_seed(s, seed_dir):
    atp = lt.add_torrent_params()
    atp.ti, atp.save_path = lt.torrent_info(torrent_path), seed_dir
    atp.flags |= lt.torrent_flags.disable_dht
    h = s.add_torrent(atp)
    deadline = time.time() + 20
    while not h.status().is_seeding:
        if time.time() > deadline:
            sys.exit('seed: never became a seed')
        time.sleep(0.1)
    return h


def transmission(tr_dir):
    """transmission-daemon in the foreground with its own config dir; its debug log to a file."""
    conf = os.path.join(tr_dir, 'conf')
    os.makedirs(conf, exist_ok=True)
    os.makedirs(os.path.join(tr_dir, 'data'), exist_ok=True)
    with open(os.path.join(conf, 'settings.json'), 'w') as f:
        json.dump({
            'dht-enabled': False, 'lpd-enabled': False, 'pex-enabled': True,
            # uTP only with --transport utp: Transmission's own dial (below) is then TCP
            'utp-enabled': args.transport == 'utp',
            'encryption': 0, 'peer-port': args.tr_port, 'peer-port-random-on-start': False,
            'port-forwarding-enabled': False, 'bind-address-ipv4': args.tr_ip, 'bind-address-ipv6': '::1',
            'rpc-enabled': True, 'rpc-port': args.rpc_port, 'rpc-bind-address': '127.0.0.1',
            'rpc-authentication-required': False, 'rpc-host-whitelist-enabled': False,
            'download-dir': os.path.join(tr_dir, 'data'), 'incomplete-dir-enabled': False,
            'watch-dir-enabled': False, 'start-added-torrents': True, 'message-level': 3,
            'blocklist-enabled': False, 'ratio-limit-enabled': False, 'idle-seeding-limit-enabled': False,
        }, f)
    log = open(os.path.join(args.out, f'{args.name}.tr.log'), 'w')
    env = dict(os.environ, TR_DEBUG_FD='2')
    return subprocess.Popen(['transmission-daemon', '-f', '-g', conf, '--log-debug'], env=env,
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


class PeerLog:
    """The seeder's peer log, written whole to a file; its `<==` lines kept with both endpoints.
    libtorrent's local end is its listen endpoint for an incoming connection (and every uTP
    one); for its outgoing TCP connection, the ephemeral port in the peer log (*** LOCAL
    ENDPOINT)."""

    def __init__(self, path):
        self.file = open(path, 'w', buffering=1)
        self.records, self.local, self.sent = [], {}, []

    def pump(self, s):
        """logs the alerts; true when a connection closed"""
        closed = False
        for a in s.pop_alerts():
            if isinstance(a, lt.peer_log_alert):
                text = a.message()
                self.file.write(f'{time.time():.6f} {text}\n')
                ep = a.endpoint if hasattr(a, 'endpoint') else a.ip
                remote = f'{ep[0]}:{ep[1]}'
                e = re.search(r'\*\*\* LOCAL ENDPOINT \[ e: (\S+) \]', text)
                if e and args.transport == 'tcp':
                    self.local[remote] = e.group(1)
                if '==> ' in text:
                    self.sent.append(text.split('==> ', 1)[1][:40])
                m = re.search(r'<== (.*)$', text)
                if m:
                    self.records.append((time.time(), m.group(1), remote, self.local.get(remote, SEED)))
                closed = closed or 'CONNECTION_CLOSED' in text
            elif a.category() & lt.alert_category.error:
                self.file.write(f'{time.time():.6f} ALERT {a.message()}\n')
        return closed


def remote(*a):
    return subprocess.run(['transmission-remote', f'127.0.0.1:{args.rpc_port}', *a],
                          capture_output=True, text=True, timeout=20)


def main():
    shutil.rmtree(work, ignore_errors=True)
    seed_dir = os.path.join(work, 'seed')
    os.makedirs(seed_dir)
    data_path = make_torrent(seed_dir)
    s, h = seeder(seed_dir)
    if args.cut and (args.join == 'torrent' or TR_DIALS):  # else cut when added anew (below)
        os.truncate(data_path, PIECE * args.pieces // 2)
    tr = transmission(os.path.join(work, 'tr'))
    log = PeerLog(os.path.join(args.out, f'{args.name}.seed.peerlog'))
    count, redial, first_reject = 0, None, None
    try:
        deadline = time.time() + 20
        while remote('-l').returncode != 0:
            if time.time() > deadline or tr.poll() is not None:
                sys.exit('lt-transmission: transmission-daemon did not start')
            time.sleep(0.3)
        ti = lt.torrent_info(torrent_path)
        what = torrent_path if args.join == 'torrent' else lt.make_magnet_uri(ti)
        r = remote('-a', what)
        if r.returncode != 0:
            sys.exit(f'lt-transmission: transmission-remote -a failed: {r.stdout}{r.stderr}')
        time.sleep(1)  # the torrent is known (and, with the .torrent, checked: its data dir is empty)
        h.connect_peer((args.tr_ip, args.tr_port))
        start = last = time.time()
        while time.time() - start < args.seconds:
            if log.pump(s) and args.join == 'magnet' and redial is None and not TR_DIALS:
                redial = time.time() + 2
            if redial and time.time() > redial:
                # Transmission closes its peers when the metadata is complete (it verifies the
                # new torrent), and never dials a loopback address itself; libtorrent would
                # wait (backoff) and first dial its own address, which Transmission's ut_pex
                # told it. The torrent added anew has a fresh peer list: dial Transmission again.
                s.remove_torrent(h)
                h, redial = add_seed(s, seed_dir), 0
                if args.cut:  # after the new torrent's check, which would find it cut
                    os.truncate(data_path, PIECE * args.pieces // 2)
                h.connect_peer((args.tr_ip, args.tr_port))
            if len(log.records) != count:
                count, last = len(log.records), time.time()
            if count and time.time() - last > args.quiet:
                break
            if args.cut and first_reject is None and any('REJECT_PIECE' in x for x in log.sent):
                first_reject = time.time()
            if first_reject and time.time() - first_reject > args.after_reject:
                break  # Transmission asks again for the lost pieces every second, for ever
            time.sleep(0.05)
        info = remote('-t', '1', '-i').stdout
        print('transmission: ' + '; '.join(l.strip() for l in info.splitlines()
                                           if re.match(r'\s*(Percent Done|Have|Peers):', l)), file=sys.stderr)
    finally:
        tr.terminate()
        tr.wait()
    end = time.time() + 1.5  # what libtorrent parsed before the connection closed
    while time.time() < end:
        log.pump(s)
        time.sleep(0.05)
    n = 0
    with open(os.path.join(args.out, f'{args.name}.seed.truth.ndjson'), 'w') as f:
        for t, line, peer, local in log.records:
            rec = parse_line(line)
            if rec is not None:
                f.write(json.dumps({'t': t, 'src': peer, 'dst': local, **rec}) + '\n')
                n += 1
    print(f'seed: {n} incoming messages logged', file=sys.stderr)
    if not any(line.startswith('REQUEST') for _, line, _, _ in log.records):
        sys.exit('lt-transmission: Transmission requested no block (it did not dial back?); run again')


main()
