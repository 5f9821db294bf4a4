#!/usr/bin/python3
"""Two real libtorrent 2.0 sessions (Debian python3-libtorrent) exchanging a hybrid v1+v2 torrent,
for captures. Run with Debian's /usr/bin/python3 (a pyenv python has no libtorrent).

  lt-peers.py --name NAME --out DIR [--transport tcp|utp] [--seed-ip IP[,IP]] [--leech-ip IP]
              [--seed-port P] [--leech-port P] [--role both|seed|leech] [--seconds S]
              [--leech TRANSPORT,IP,PORT ...] [--seed-transport tcp|utp|both] [--dht] [--enc]

With several --leech, each leecher is its own session with its own transport and address (IPv4
or IPv6), all joining the one seeder at once. --dht turns the DHT on in every session, each
knowing the others as DHT nodes, so that DHT (bencoded KRPC on UDP) shares the ports with uTP.

The seeder makes NAME.torrent (32 pieces of 16 KiB, hybrid, encryption off), checks its data and
then its file is cut to half its length: the leecher joins by magnet (ut_metadata; BEP 52 hash
request/hashes for the v2 tree), downloads the first half and every request for the second half
fails to read on the seeder, which answers each with lt_donthave + reject (fast extension).

Truth: libtorrent's own peer log (alert category peer_log), every incoming `<==` line, written as
NAME.ROLE.truth.ndjson records {t, src, dst, msg, ext?, piece?, begin?, length?}. With --role seed or
leech the two sessions run in different processes (network namespaces); the leecher then needs the
magnet from the seeder's DIR/NAME.magnet file."""
import argparse, json, os, re, sys, time
import libtorrent as lt
from lt_peerlog import SKIP, hostport, parse_line

ap = argparse.ArgumentParser()
ap.add_argument('--name', required=True)
ap.add_argument('--out', required=True)
ap.add_argument('--transport', default='tcp', choices=['tcp', 'utp'])
ap.add_argument('--seed-ip', default='127.0.0.1')
ap.add_argument('--leech-ip', default='127.0.0.1')
ap.add_argument('--seed-port', type=int, default=48881)
ap.add_argument('--leech-port', type=int, default=48882)
ap.add_argument('--role', default='both', choices=['both', 'seed', 'leech'])
ap.add_argument('--seconds', type=float, default=60)
ap.add_argument('--pieces', type=int, default=32)
ap.add_argument('--leech', action='append', default=[], help='TRANSPORT,IP,PORT (repeatable)')
ap.add_argument('--seed-transport', choices=['tcp', 'utp', 'both'])
ap.add_argument('--dht', action='store_true')
ap.add_argument('--enc', action='store_true', help="libtorrent's default encryption policy (MSE/PE)")
ap.add_argument('--quiet', type=float, default=5, help='stop after this many seconds without a message')
args = ap.parse_args()
SEED_IPS = args.seed_ip.split(',')
LEECHERS = [tuple(x.split(',')) for x in args.leech] or [(args.transport, args.leech_ip, str(args.leech_port))]
SEED_TRANSPORT = args.seed_transport or args.transport

PIECE = 16384
work = os.path.join(args.out, f'{args.name}.work')
os.makedirs(work, exist_ok=True)
torrent_path = os.path.join(args.out, f'{args.name}.torrent')
magnet_path = os.path.join(work, 'magnet')
data_name = f'{args.name}.bin'


def make_torrent():
    seed_dir = os.path.join(work, 'seed')
    os.makedirs(seed_dir, exist_ok=True)
    path = os.path.join(seed_dir, data_name)
    with open(path, 'wb') as f:
        f.write(bytes((i * 11 + (i >> 12)) & 0xff for i in range(PIECE * args.pieces)))
    fs = lt.file_storage()
    lt.add_files(fs, path)
    ct = lt.create_torrent(fs, PIECE)  # libtorrent 2.0 default: hybrid v1+v2
    ct.set_creator('ltdh-inspect lt-peers.py')
    lt.set_piece_hashes(ct, seed_dir)
    data = lt.bencode(ct.generate())
    with open(torrent_path, 'wb') as f:
        f.write(data)
    return seed_dir, path


def session(ips, port, transport):
    utp = transport in ('utp', 'both')
    tcp = transport in ('tcp', 'both')
    s = lt.session({
        'listen_interfaces': ','.join(hostport(ip, port) for ip in ips),
        'outgoing_interfaces': ','.join(ips),
        'enable_dht': args.dht, 'dht_bootstrap_nodes': '', 'enable_lsd': False, 'enable_upnp': False, 'enable_natpmp': False,
        # pe_disabled + plaintext; with --enc libtorrent's defaults: pe_enabled, both levels
        'out_enc_policy': 1 if args.enc else 2, 'in_enc_policy': 1 if args.enc else 2,
        'allowed_enc_level': 3 if args.enc else 1,
        'enable_outgoing_utp': utp, 'enable_incoming_utp': utp,
        'enable_outgoing_tcp': tcp, 'enable_incoming_tcp': tcp,
        'allow_multiple_connections_per_ip': True,
        'alert_mask': lt.alert_category.peer_log | lt.alert_category.status | lt.alert_category.error,
        'user_agent': 'ltdh-inspect-sample',
    })
    if args.dht:
        for ip, p in [(ip, args.seed_port) for ip in SEED_IPS] + [(ip, int(p)) for _, ip, p in LEECHERS]:
            if not (ip in ips and p == port):
                s.add_dht_node((ip, p))
    return s


class Truth:
    """Turns a session's peer-log `<==` lines into truth records."""

    def __init__(self, role, default_local=None, outgoing_tcp=False):
        self.role = role
        self.outgoing_tcp = outgoing_tcp
        self.conn_local = {}
        # incoming connections (and every uTP one) use the listen endpoint; an outgoing TCP
        # connection's ephemeral port comes from get_peer_info
        self.default_local = default_local or {}
        self.records = []
        self.local = {}  # remote endpoint -> local endpoint, from get_peer_info
        self.raw = open(os.path.join(work, f'{role}.peerlog'), 'w')
        self.unparsed = set()

    def feed(self, a):
        text = a.log_message() if hasattr(a, 'log_message') else a.message()
        ep = a.endpoint if hasattr(a, 'endpoint') else a.ip
        remote = hostport(ep[0], ep[1])
        self.raw.write(f'{time.time():.6f} {remote} {a.message()}\n')
        e = re.search(r'\*\*\* LOCAL ENDPOINT \[ e: (\S+) \]', a.message())
        if e and self.outgoing_tcp:
            # the connection now being made; a reconnection to the same peer gets a new port
            self.conn_local[remote] = e.group(1)
        m = re.search(r'<== (.*)$', a.message())
        if not m:
            return
        self.records.append((time.time(), remote, m.group(1), self.conn_local.get(remote)))

    def write(self, path):
        n = 0
        with open(path, 'w') as f:
            for t, remote, line, local in self.records:
                rec = parse_line(line)
                if rec is None:
                    w = line.split()[0] if line.split() else line
                    if w not in SKIP and w != 'HANDSHAKE':
                        self.unparsed.add(w)
                    continue
                local = local or self.local.get(remote)
                if local is None and not (self.outgoing_tcp and remote.endswith(f':{args.seed_port}')):
                    # incoming connections (and uTP ones) land on the listen endpoint
                    local = self.default_local.get('6' if remote.startswith('[') else '4')
                if local is None:
                    sys.exit(f'{self.role}: no local endpoint known for the connection to {remote}')
                f.write(json.dumps({'t': t, 'src': remote, 'dst': local, **rec}) + '\n')
                n += 1
        if self.unparsed:
            print(f'{self.role}: unparsed peer-log kinds: {sorted(self.unparsed)}', file=sys.stderr)
        return n


def pump(ses, truth, handles):
    for a in ses.pop_alerts():
        if isinstance(a, lt.peer_log_alert):
            truth.feed(a)
    for h in handles:
        try:
            for p in h.get_peer_info():
                truth.local[hostport(p.ip[0], p.ip[1])] = hostport(p.local_endpoint[0], p.local_endpoint[1])
        except Exception:
            pass


def seed_ip_for(ip):
    """the seeder address of the leecher's family"""
    for sip in SEED_IPS:
        if (':' in sip) == (':' in ip):
            return sip
    sys.exit(f'no seeder address of the family of {ip}')


def main():
    roles = []
    sessions, truths, handles = {}, {}, {}
    if args.role in ('both', 'seed'):
        seed_dir, data_path = make_torrent()
        ses = session(SEED_IPS, args.seed_port, SEED_TRANSPORT)
        ti = lt.torrent_info(torrent_path)
        atp = lt.add_torrent_params()
        atp.ti, atp.save_path = ti, seed_dir
        # The seeder's DHT node runs (and answers), but its torrent does not look up peers there:
        # otherwise it connects back to a leecher it already has, and libtorrent closes one of the
        # two connections with messages in flight that its receiver never parses.
        atp.flags |= lt.torrent_flags.disable_dht
        h = ses.add_torrent(atp)
        deadline = time.time() + 20
        while not h.status().is_seeding:
            if time.time() > deadline:
                sys.exit('seed: never became a seed')
            time.sleep(0.1)
        # the seeder now announces every piece; cut its file in half so reads of the rest fail
        os.truncate(data_path, PIECE * args.pieces // 2)
        with open(magnet_path + '.tmp', 'w') as f:
            f.write(lt.make_magnet_uri(ti))
        os.replace(magnet_path + '.tmp', magnet_path)
        local = {('6' if ':' in ip else '4'): hostport(ip, args.seed_port) for ip in SEED_IPS}
        roles.append('seed')
        sessions['seed'], truths['seed'], handles['seed'] = ses, Truth('seed', local), [h]
    if args.role in ('both', 'leech'):
        deadline = time.time() + 30
        while not os.path.exists(magnet_path):
            if time.time() > deadline:
                sys.exit('leech: no magnet from the seeder')
            time.sleep(0.1)
        with open(magnet_path) as f:
            magnet = f.read()
        for i, (transport, ip, port) in enumerate(LEECHERS):
            role = 'leech' if len(LEECHERS) == 1 else f'leech{i}'
            ses = session([ip], int(port), transport)
            leech_dir = os.path.join(work, role)
            os.makedirs(leech_dir, exist_ok=True)
            p = lt.parse_magnet_uri(magnet)
            p.save_path = leech_dir
            h = ses.add_torrent(p)
            h.connect_peer((seed_ip_for(ip), args.seed_port))
            local = {('6' if ':' in ip else '4'): hostport(ip, int(port))}
            roles.append(role)
            sessions[role], truths[role], handles[role] = ses, Truth(role, local, transport != 'utp'), [h]

    leechers = [r for r in roles if r != 'seed']
    start = last = time.time()
    counts = {}
    while time.time() - start < args.seconds:
        for r in roles:
            pump(sessions[r], truths[r], handles[r])
        now = {r: len(truths[r].records) for r in roles}
        if now != counts:
            counts, last = now, time.time()
        if leechers:
            done = all(handles[r][0].status().has_metadata and
                       handles[r][0].status().num_pieces >= args.pieces // 2 for r in leechers)
            if done and time.time() - last > args.quiet:
                break
        elif time.time() - last > args.quiet + 5 and sum(now.values()) > 0:
            break
        time.sleep(0.05)
    # close the connections before the last pump, so that nothing reaches a peer after its log ends
    for r in roles:
        pump(sessions[r], truths[r], handles[r])
        for h in handles[r]:
            h.pause()
    end = time.time() + 1.5
    while time.time() < end:
        for r in roles:
            pump(sessions[r], truths[r], handles[r])
        time.sleep(0.05)
    for r in roles:
        n = truths[r].write(os.path.join(args.out, f'{args.name}.{r}.truth.ndjson'))
        print(f'{r}: {n} incoming messages logged', file=sys.stderr)
    for r in roles:
        for h in handles[r]:
            sessions[r].remove_torrent(h)
    time.sleep(0.5)


main()
