#!/usr/bin/python3
"""A libtorrent 2.0.8 session (Debian python3-libtorrent) and another client's own BitTorrent
implementation on loopback, TCP, plaintext, for captures. Run with Debian's /usr/bin/python3,
inside a tcpdump started by all.sh (the capture is not made here).

  lt-client.py --name NAME --out DIR --client aria2|ctorrent [--join torrent|magnet]
               [--seeder lt|client] [--pieces N]

--client aria2: aria2 1.36 (Debian `aria2`): BEP 10 with ut_metadata and ut_pex, the fast extension,
  no lt_donthave; run with DHT, LPD and MSE off (--bt-require-crypto=false
  --bt-min-crypto-level=plain: aria2 then answers a plaintext handshake in plaintext).
--client ctorrent: Enhanced CTorrent dnh3.3.2 (Debian `ctorrent`): BEP 3 only (no extension
  protocol, no fast extension). It refuses a torrent without an announce URL, so the torrent gets
  a dummy one (http://127.0.0.1:1/announce, never answers).
--join magnet (aria2 only): the client starts from a tracker-less magnet link and fetches the
  info dictionary from libtorrent with ut_metadata before downloading.
--seeder client (aria2 only): aria2 seeds the whole file (checked with --check-integrity) and
  libtorrent leeches it.

libtorrent always dials the client (its listen port is fixed), so both ends' endpoints are known.
The torrent is v1 (neither client knows BEP 52), --pieces pieces of 16 KiB. The run ends when the
leecher has every piece and the connection has been quiet for 3 s.

Truth, per receiving peer:
- libtorrent: its peer log (lt_peerlog.py), every incoming `<==` line.
- aria2: its debug log (--log-level=debug), every `CUID#n - From: ... MESSAGE` line, extended ids
  named through aria2's own `m` (its `To: ... extended handshake` line). aria2 does not log a
  received keep-alive, so keep-alives are missing from its direction.
- ctorrent: none (it logs no messages); its direction is not in the truth file.
Writes DIR/NAME.torrent, DIR/NAME.lt.truth.ndjson, DIR/NAME.aria2.truth.ndjson (aria2 only),
and the raw logs in DIR/NAME.work/."""
import argparse, json, os, re, shutil, subprocess, sys, time
import libtorrent as lt
from lt_peerlog import SKIP, hostport, parse_line

ap = argparse.ArgumentParser()
ap.add_argument('--name', required=True)
ap.add_argument('--out', required=True)
ap.add_argument('--client', required=True, choices=['aria2', 'ctorrent'])
ap.add_argument('--join', default='torrent', choices=['torrent', 'magnet'])
ap.add_argument('--seeder', default='lt', choices=['lt', 'client'])
ap.add_argument('--lt-port', type=int, default=48893)
ap.add_argument('--client-port', type=int, default=48894)
ap.add_argument('--pieces', type=int, default=40)
ap.add_argument('--seconds', type=float, default=60)
ap.add_argument('--quiet', type=float, default=3)
args = ap.parse_args()
if args.client == 'ctorrent' and (args.join == 'magnet' or args.seeder == 'client'):
    sys.exit('lt-client: ctorrent only leeches from a .torrent here')

PIECE = 16384
IP = '127.0.0.1'
work = os.path.join(args.out, f'{args.name}.work')
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
torrent_path = os.path.join(args.out, f'{args.name}.torrent')
data_name = f'{args.name}.bin'
client_dir = os.path.join(work, args.client)
lt_dir = os.path.join(work, 'lt')
client_log = os.path.join(work, f'{args.client}.log')


def make_torrent():
    """Data in a scratch directory, then copied to whichever side seeds."""
    src = os.path.join(work, 'data')
    os.makedirs(src)
    with open(os.path.join(src, data_name), 'wb') as f:
        f.write(bytes((i * 17 + (i >> 10)) & 0xff for i in range(PIECE * args.pieces)))
    fs = lt.file_storage()
    lt.add_files(fs, os.path.join(src, data_name))
    ct = lt.create_torrent(fs, PIECE, flags=lt.create_torrent.v1_only)
    ct.set_creator('ltdh-inspect lt-client.py')
    if args.client == 'ctorrent':
        ct.add_tracker('http://127.0.0.1:1/announce')  # never answers: ctorrent only needs one listed
    lt.set_piece_hashes(ct, src)
    with open(torrent_path, 'wb') as f:
        f.write(lt.bencode(ct.generate()))
    seeder_dir = lt_dir if args.seeder == 'lt' else client_dir
    os.makedirs(seeder_dir, exist_ok=True)
    shutil.copy(os.path.join(src, data_name), seeder_dir)


def lt_session():
    return lt.session({
        'listen_interfaces': hostport(IP, args.lt_port), 'outgoing_interfaces': IP,
        'enable_dht': False, 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        'out_enc_policy': 2, 'in_enc_policy': 2, 'allowed_enc_level': 1,  # pe_disabled, plaintext
        'enable_outgoing_utp': False, 'enable_incoming_utp': False,
        'alert_mask': lt.alert_category.peer_log | lt.alert_category.status | lt.alert_category.error,
        'user_agent': 'ltdh-inspect-sample',
        'min_reconnect_time': 1,  # a magnet aria2 closes after the metadata: dial it again soon
    })


def client_command(target):
    if args.client == 'ctorrent':
        return ['ctorrent', '-p', str(args.client_port), '-i', IP, '-e', '0', '-s', client_dir, target]
    cmd = ['aria2c', '-d', client_dir, '--listen-port', str(args.client_port),
           '--enable-dht=false', '--enable-dht6=false', '--bt-enable-lpd=false',
           '--bt-require-crypto=false', '--bt-min-crypto-level=plain', '--disable-ipv6=true',
           '--log', client_log, '--log-level=debug', '--console-log-level=warn',
           '--summary-interval=0', '--bt-save-metadata=false', '--file-allocation=none']
    if args.seeder == 'client':
        return cmd + ['--check-integrity=true', '--seed-ratio=0.0', f'--seed-time={args.seconds / 60}', target]
    return cmd + ['--seed-time=0', target]


def wait_listening(proc):
    deadline = time.time() + 20
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f'lt-client: {args.client} exited at start ({proc.returncode})')
        out = subprocess.run(['ss', '-ltnH', f'sport = :{args.client_port}'], capture_output=True, text=True).stdout
        if out.strip():
            return
        time.sleep(0.1)
    sys.exit(f'lt-client: {args.client} never listened on {args.client_port}')


class LtTruth:
    """libtorrent's incoming `<==` lines, with the local endpoint of its outgoing connection."""

    def __init__(self):
        self.lines = []  # (t, line, local)
        self.local = None
        self.raw = open(os.path.join(work, 'lt.peerlog'), 'w')

    def feed(self, a):
        msg = a.message()
        self.raw.write(f'{time.time():.6f} {msg}\n')
        e = re.search(r'\*\*\* LOCAL ENDPOINT \[ e: (\S+) \]', msg)
        if e:
            self.local = e.group(1)
        m = re.search(r'<== (.*)$', msg)
        if m:
            self.lines.append((time.time(), m.group(1), self.local))

    def records(self):
        remote = hostport(IP, args.client_port)
        for t, line, local in self.lines:
            rec = parse_line(line)
            if rec is None:
                word = (line.split() or [''])[0]
                if word not in SKIP and word != 'HANDSHAKE':
                    sys.exit(f'lt-client: unparsed libtorrent peer-log line: {line}')
                continue
            yield {'t': t, 'src': remote, 'dst': local, **rec}


# aria2's names (the toString() of its message classes) -> the --json names
ARIA2_SIMPLE = {
    'choke': 'choke', 'unchoke': 'unchoke', 'interested': 'interested', 'not interested': 'not_interested',
    'have': 'have', 'bitfield': 'bitfield', 'request': 'request', 'piece': 'piece', 'cancel': 'cancel',
    'port': 'port', 'suggest piece': 'suggest_piece', 'have all': 'have_all', 'have none': 'have_none',
    'reject': 'reject_request', 'allowed fast': 'allowed_fast', 'keep alive': 'keep_alive',
}
ARIA2_LINE = re.compile(r'^(\S+ \S+) \[\w+\] \[[^\]]+\] CUID#(\d+) - (From|To): (\S+) (.*)$')


def aria2_records():
    """aria2's received messages from its debug log. libtorrent dials aria2, so a connection's
    source is the address its handshake came from (libtorrent's local endpoint; aria2 names the
    later messages by the peer's listen port) and its destination aria2's listen port."""
    own_m, peer = {}, {}
    out = []
    with open(client_log, errors='replace') as f:
        for line in f:
            m = ARIA2_LINE.match(line.rstrip('\n'))
            if not m:
                continue
            stamp, cuid, way, addr, text = m.groups()
            if way == 'To':
                if text.startswith('extended handshake'):
                    own_m[cuid] = {k: int(v) for k, v in re.findall(r'(ut_\w+)=(\d+)', text)}
                continue
            t = time.mktime(time.strptime(stamp.split('.')[0], '%Y-%m-%d %H:%M:%S')) + float('0.' + stamp.split('.')[1])
            rec = aria2_message(text, own_m.get(cuid, {}))
            if rec['msg'] == 'handshake':
                peer[cuid] = addr
            out.append({'t': t, 'src': peer[cuid], 'dst': hostport(IP, args.client_port), **rec})
    return out


def aria2_message(text, own_m):
    if text.startswith('handshake '):
        return {'msg': 'handshake'}
    if text.startswith('extended handshake'):
        return {'msg': 'extended', 'ext': 'handshake', 'extId': 0}
    if text.startswith('extended '):
        ext = text.split()[1]
        if ext not in own_m:
            sys.exit(f'lt-client: aria2 received {ext} before it sent its own extended handshake')
        return {'msg': 'extended', 'ext': ext, 'extId': own_m[ext]}
    name = re.match(r'[a-z ]+?(?= index=| port=| [0-9a-f]+$|$)', text)
    msg = ARIA2_SIMPLE.get(name.group(0).strip()) if name else None
    if msg is None:
        sys.exit(f'lt-client: unknown aria2 message: {text}')
    rec = {'msg': msg}
    for key, field in (('index', 'piece'), ('begin', 'begin'), ('length', 'length'), ('port', 'port')):
        v = re.search(rf'\b{key}=(\d+)', text)
        if v:
            rec[field] = int(v.group(1))
    return rec


def main():
    make_torrent()
    ses = lt_session()
    atp = lt.add_torrent_params()
    atp.ti, atp.save_path = lt.torrent_info(torrent_path), lt_dir
    atp.flags |= lt.torrent_flags.disable_dht
    h = ses.add_torrent(atp)
    if args.seeder == 'lt':
        deadline = time.time() + 20
        while not h.status().is_seeding:
            if time.time() > deadline:
                sys.exit('lt-client: libtorrent never became a seed')
            time.sleep(0.1)
    target = torrent_path
    if args.join == 'magnet':
        target = f'magnet:?xt=urn:btih:{atp.ti.info_hash()}&dn={data_name}'
    client = subprocess.Popen(client_command(target), stdin=subprocess.DEVNULL,
                              stdout=open(os.path.join(work, f'{args.client}.out'), 'w'), stderr=subprocess.STDOUT)
    truth = LtTruth()
    try:
        wait_listening(client)
        time.sleep(0.5 if args.seeder == 'lt' else 1.5)  # a seeding aria2 checks its file first
        h.connect_peer((IP, args.client_port))
        start = last = dialled = time.time()
        count, dials = 0, 1
        while time.time() - start < args.seconds:
            for a in ses.pop_alerts():
                if isinstance(a, lt.peer_log_alert):
                    truth.feed(a)
            if len(truth.lines) != count:
                count, last = len(truth.lines), time.time()
            leech_done = (h.status().is_seeding if args.seeder == 'client'
                          else client.poll() is not None or done_on_disk())
            if leech_done and time.time() - last > args.quiet:
                break
            if not leech_done and h.status().num_peers == 0 and time.time() - dialled > 1 and dials < 3:
                # a magnet download in aria2 closes the connection once it has the metadata and
                # starts the download anew with no peer: dial it again
                h.connect_peer((IP, args.client_port))
                dialled, dials = time.time(), dials + 1
            time.sleep(0.05)
        else:
            print('lt-client: the transfer did not finish in time', file=sys.stderr)
    finally:
        if client.poll() is None:
            client.terminate()
            client.wait()
    end = time.time() + 1.5
    while time.time() < end:  # the close, as libtorrent logs it
        for a in ses.pop_alerts():
            if isinstance(a, lt.peer_log_alert):
                truth.feed(a)
        time.sleep(0.05)
    write_truth(list(truth.records()), f'{args.name}.lt.truth.ndjson')
    if args.client == 'aria2':
        write_truth(aria2_records(), f'{args.name}.{args.client}.truth.ndjson')


def done_on_disk():
    """ctorrent keeps running (it seeds): the download is done when its file is whole."""
    if args.client != 'ctorrent':
        return False
    path = os.path.join(client_dir, data_name)
    ours = os.path.join(work, 'data', data_name)
    return os.path.exists(path) and os.path.getsize(path) == os.path.getsize(ours) and \
        open(path, 'rb').read() == open(ours, 'rb').read()


def write_truth(records, fname):
    with open(os.path.join(args.out, fname), 'w') as f:
        for r in records:
            f.write(json.dumps(r) + '\n')
    counts = {}
    for r in records:
        k = r.get('ext') or r['msg']
        counts[k] = counts.get(k, 0) + 1
    print(f'{fname}: {len(records)} messages {counts}', file=sys.stderr)


main()
