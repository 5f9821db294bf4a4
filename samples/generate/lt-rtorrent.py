#!/usr/bin/python3
"""A libtorrent 2.0.8 seeder (Debian python3-libtorrent) serving rtorrent 0.9.8 (Debian `rtorrent`)
on loopback, for the request-stalled captures. Run with Debian's /usr/bin/python3, inside a
tcpdump started by all.sh (the capture is not made here).

  lt-rtorrent.py --name NAME --out DIR --mode lost|paused [--quiet S] [--pause S]

The seeder makes a v1 torrent (rtorrent 0.9.8 knows no v2) with a dummy announce URL
(http://127.0.0.1:1/announce: rtorrent refuses a torrent without trackers when its DHT is off),
checks its data, and dials rtorrent, which runs headless (`rtorrent -n -o import=RC`,
`system.daemon.set = true`) with DHT, PEX and encryption off. libtorrent runs plaintext
(pe_disabled). rtorrent supports neither the fast extension (BEP 6) nor lt_donthave (BEP 54).

--mode lost: after checking, the seeder's file loses its second half. Every request for a piece
  in the lost half fails to read on the seeder; with no fast extension it cannot reject, and
  rtorrent did not advertise lt_donthave, so it sends nothing. rtorrent waits on the unanswered
  requests and the connection goes silent; the run ends --quiet seconds (17) after the last
  message either side logged.
--mode paused: the whole file stays; the seeder uploads at 48 KiB/s (so the transfer takes a
  while), and --after seconds (3) after rtorrent's first piece the seeder's process is stopped
  (SIGSTOP) for --pause seconds (12), then continued: rtorrent's requests wait in the socket,
  are answered after the pause and the transfer completes. The seeder runs in a child process
  (this script with --role seed) so that the parent can stop and continue it.

Writes DIR/NAME.torrent and DIR/NAME.seed.peerlog (libtorrent's peer log: every message both
ways, with the seeder's clock), and prints which of rtorrent's requests were answered."""
import argparse, os, re, signal, subprocess, sys, time
import libtorrent as lt

ap = argparse.ArgumentParser()
ap.add_argument('--name', required=True)
ap.add_argument('--out', required=True)
ap.add_argument('--mode', default='lost', choices=['lost', 'paused'])
ap.add_argument('--role', default='both', choices=['both', 'seed'])
ap.add_argument('--seed-port', type=int, default=48891)
ap.add_argument('--rt-port', type=int, default=48892)
ap.add_argument('--pieces', type=int, default=48)
ap.add_argument('--quiet', type=float, default=17, help='lost: end this long after the last message')
ap.add_argument('--after', type=float, default=3, help='paused: stop the seeder this long after the first piece')
ap.add_argument('--pause', type=float, default=12, help='paused: how long the seeder stays stopped')
ap.add_argument('--seconds', type=float, default=90)
args = ap.parse_args()

PIECE = 16384
work = os.path.join(args.out, f'{args.name}.work')
torrent_path = os.path.join(args.out, f'{args.name}.torrent')
peerlog_path = os.path.join(args.out, f'{args.name}.seed.peerlog')
ready_path = os.path.join(work, 'seed-ready')
data_name = f'{args.name}.bin'


def make_torrent(seed_dir):
    path = os.path.join(seed_dir, data_name)
    with open(path, 'wb') as f:
        f.write(bytes((i * 13 + (i >> 11)) & 0xff for i in range(PIECE * args.pieces)))
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    ct.set_creator('ltdh-inspect lt-rtorrent.py')
    ct.add_tracker('http://127.0.0.1:1/announce')  # never answers: rtorrent only needs one listed
    lt.set_piece_hashes(ct, seed_dir)
    with open(torrent_path, 'wb') as f:
        f.write(lt.bencode(ct.generate()))
    return path


def seed():
    """The libtorrent seeder: checks, (lost) loses half its file, dials rtorrent, logs every
    message, and runs until killed."""
    seed_dir = os.path.join(work, 'seed')
    os.makedirs(seed_dir, exist_ok=True)
    data_path = make_torrent(seed_dir)
    s = lt.session({
        'listen_interfaces': f'127.0.0.1:{args.seed_port}', 'outgoing_interfaces': '127.0.0.1',
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'out_enc_policy': 2, 'in_enc_policy': 2, 'allowed_enc_level': 1,  # pe_disabled, plaintext
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'alert_mask': lt.alert_category.peer_log | lt.alert_category.status | lt.alert_category.error,
        'user_agent': 'ltdh-inspect-sample',
        # paused: a slow upload, so that the pause falls mid-transfer (limits apply on loopback too)
        'ignore_limits_on_local_network': False,
        'upload_rate_limit': 48 * 1024 if args.mode == 'paused' else 0,
    })
    atp = lt.add_torrent_params()
    atp.ti, atp.save_path = lt.torrent_info(torrent_path), seed_dir
    atp.flags |= lt.torrent_flags.disable_dht
    h = s.add_torrent(atp)
    deadline = time.time() + 20
    while not h.status().is_seeding:
        if time.time() > deadline:
            sys.exit('seed: never became a seed')
        time.sleep(0.1)
    if args.mode == 'lost':
        os.truncate(data_path, PIECE * args.pieces // 2)
    with open(ready_path, 'w') as f:
        f.write('ready')
    log = open(peerlog_path, 'w', buffering=1)
    dialled = False
    while True:
        if not dialled and os.path.exists(ready_path + '.rt'):
            h.connect_peer(('127.0.0.1', args.rt_port))
            dialled = True
        for a in s.pop_alerts():
            if isinstance(a, lt.peer_log_alert):
                log.write(f'{time.time():.6f} {a.message()}\n')
            elif a.category() & lt.alert_category.error:
                log.write(f'{time.time():.6f} ALERT {a.message()}\n')
        time.sleep(0.05)


def rtorrent_rc(rt_dir):
    rc = os.path.join(rt_dir, 'rtorrent.rc')
    os.makedirs(os.path.join(rt_dir, 'session'), exist_ok=True)
    os.makedirs(os.path.join(rt_dir, 'data'), exist_ok=True)
    with open(rc, 'w') as f:
        f.write(f"""directory.default.set = {rt_dir}/data
session.path.set = {rt_dir}/session
network.bind_address.set = 127.0.0.1
network.port_range.set = {args.rt_port}-{args.rt_port}
network.port_random.set = no
dht.mode.set = disable
protocol.pex.set = no
trackers.use_udp.set = no
protocol.encryption.set = none
system.daemon.set = true
load.start = {torrent_path}
""")
    return rc


def logged_lines():
    try:
        with open(peerlog_path) as f:
            return f.read().splitlines()
    except FileNotFoundError:
        return []


def report(lines):
    """Which of rtorrent's requests the seeder answered, from libtorrent's own log."""
    asked, answered = [], set()
    for line in lines:
        m = re.search(r'<== REQUEST\s+\[ piece: (\d+) s: ([0-9a-f]+) l: ([0-9a-f]+) \]', line)
        if m:
            asked.append((int(m.group(1)), int(m.group(2), 16)))
        m = re.search(r'==> PIECE\s+\[ piece: (\d+) s: ([0-9a-f]+)', line)
        if m:
            answered.add((int(m.group(1)), int(m.group(2), 16)))
    lost = [r for r in asked if r not in answered]
    print(f'rtorrent requested {len(asked)} blocks; the seeder answered {len(asked) - len(lost)}; '
          f'unanswered: {lost}', file=sys.stderr)
    for line in lines:
        if 'ERROR' in line or 'ALERT' in line:
            print('  seed: ' + line.split(' ', 1)[1][:160], file=sys.stderr)
            break


def main():
    os.makedirs(work, exist_ok=True)
    if args.role == 'seed':
        seed()
        return
    for p in (ready_path, ready_path + '.rt', peerlog_path):
        if os.path.exists(p):
            os.remove(p)
    seeder = subprocess.Popen([sys.executable, __file__, '--role', 'seed', *sys.argv[1:]])
    rt = None
    try:
        deadline = time.time() + 30
        while not os.path.exists(ready_path):
            if time.time() > deadline or seeder.poll() is not None:
                sys.exit('lt-rtorrent: the seeder did not start')
            time.sleep(0.1)
        rt_dir = os.path.join(work, 'rtorrent')
        rt = subprocess.Popen(['rtorrent', '-n', '-o', f'import={rtorrent_rc(rt_dir)}'],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(2)  # rtorrent listening, torrent checked (its data directory is empty)
        if rt.poll() is not None:
            sys.exit('lt-rtorrent: rtorrent exited at start')
        open(ready_path + '.rt', 'w').close()  # the seeder dials rtorrent
        start = time.time()
        paused = False
        count, last = 0, time.time()
        while time.time() - start < args.seconds:
            lines = logged_lines()
            msgs = [l for l in lines if '<==' in l or '==>' in l]
            if len(msgs) != count:
                count, last = len(msgs), time.time()
            if args.mode == 'lost':
                if count and time.time() - last > args.quiet:
                    break
            else:
                pieces = [float(l.split()[0]) for l in msgs if '==> PIECE' in l]
                if pieces and not paused and time.time() - pieces[0] > args.after:
                    seeder.send_signal(signal.SIGSTOP)
                    print(f'seeder stopped after {len(pieces)} pieces sent', file=sys.stderr)
                    time.sleep(args.pause)
                    seeder.send_signal(signal.SIGCONT)
                    paused = True
                    last = time.time()
                if paused and time.time() - last > 3:
                    break  # done (or silent again): the transfer resumed and ended
            time.sleep(0.1)
        report(logged_lines())
    finally:
        if rt and rt.poll() is None:
            rt.terminate()
            rt.wait()
        seeder.send_signal(signal.SIGCONT)
        seeder.terminate()
        seeder.wait()


main()
