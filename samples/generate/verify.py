#!/usr/bin/python3
"""verify.py CAPTURE [OUT.ndjson] [--truth TRUTH.ndjson]: an independent reference decode of a sample capture, to check
that its truth file and its packets tell the same story (a generator check, not the product).

TCP streams are reassembled by tshark (`-z follow,tcp,raw`); uTP streams here, by sequence
number from tshark's UDP payloads. Each direction's bytes are cut into BitTorrent messages, and
extended ids are named through the receiver's `m`. Prints NDJSON records in the --json shape
(src, dst, msg, ext, extId, piece), for `python3 /work/shared/tools/compare.py TRUTH OUT`.
With --truth it also compares: every direction's sequence of (msg, ext, piece) must equal the
truth's exactly; prints the first difference and exits 1 if not. With --logged-directions only the
directions the truth has are compared (a truth written by one of the two peers)."""
import json, re, subprocess, sys

SIMPLE = {0: 'choke', 1: 'unchoke', 2: 'interested', 3: 'not_interested', 4: 'have', 5: 'bitfield',
          6: 'request', 7: 'piece', 8: 'cancel', 9: 'port', 13: 'suggest_piece', 14: 'have_all',
          15: 'have_none', 16: 'reject_request', 17: 'allowed_fast', 20: 'extended',
          21: 'hash_request', 22: 'hashes', 23: 'hash_reject'}
WITH_PIECE = {4, 6, 7, 8, 13, 16, 17}


def tshark(*args):
    return subprocess.run(['tshark', '-r', CAP, *args], capture_output=True, text=True, check=True).stdout


def ep(addr, port):
    return f'[{addr}]:{port}' if ':' in addr else f'{addr}:{port}'


def tcp_streams():
    ids = sorted({int(x) for x in tshark('-Y', 'tcp.len>0', '-T', 'fields', '-e', 'tcp.stream').split()})
    for i in ids:
        out = tshark('-q', '-z', f'follow,tcp,raw,{i}')
        nodes = dict(re.findall(r'^Node (\d): (.*)$', out, re.M))
        a, b = nodes['0'], nodes['1']
        fwd, back = bytearray(), bytearray()
        for line in out.split('\n'):
            if re.fullmatch(r'\t?[0-9a-f]+', line):
                (back if line.startswith('\t') else fwd).extend(bytes.fromhex(line.strip()))
        yield a, b, bytes(fwd)
        yield b, a, bytes(back)


def utp_streams():
    rows = tshark('-Y', 'udp', '-T', 'fields', '-e', 'ip.src', '-e', 'ipv6.src', '-e', 'udp.srcport',
                  '-e', 'ip.dst', '-e', 'ipv6.dst', '-e', 'udp.dstport', '-e', 'udp.payload')
    flows = {}
    for row in rows.split('\n'):
        f = row.split('\t')
        if len(f) < 7 or not f[6]:
            continue
        p = bytes.fromhex(f[6].replace(':', ''))
        if len(p) < 20 or p[0] & 0x0f != 1:
            continue
        kind = p[0] >> 4
        seq = int.from_bytes(p[16:18], 'big')
        off, ext = 20, p[1]
        while ext and off + 2 <= len(p):
            ext, n = p[off], p[off + 1]
            off += 2 + n
        conn = int.from_bytes(p[2:4], 'big')
        if kind == 4:
            conn = (conn + 1) & 0xffff  # the SYN carries the id its sender receives on; it sends on id+1
        key = (ep(f[0] or f[1], f[2]), ep(f[3] or f[4], f[5]), conn)
        fl = flows.setdefault(key, {'syn': None, 'data': {}})
        if kind == 4:
            fl['syn'] = seq
        elif kind == 0:
            fl['data'].setdefault(seq, p[off:])
    for (src, dst, _), fl in flows.items():
        if not fl['data']:
            continue
        first = min(fl['data'], key=lambda s: (s - (fl['syn'] or min(fl['data']))) & 0xffff)
        seqs = sorted(fl['data'], key=lambda s: (s - first) & 0xffff)
        yield src, dst, b''.join(fl['data'][s] for s in seqs)


def bdecode(b, i):
    c = b[i:i + 1]
    if c == b'i':
        j = b.index(b'e', i)
        return int(b[i + 1:j]), j + 1
    if c == b'l':
        out, i = [], i + 1
        while b[i:i + 1] != b'e':
            v, i = bdecode(b, i)
            out.append(v)
        return out, i + 1
    if c == b'd':
        out, i = {}, i + 1
        while b[i:i + 1] != b'e':
            k, i = bdecode(b, i)
            out[k], i = bdecode(b, i)
        return out, i + 1
    j = b.index(b':', i)
    n = int(b[i:j])
    return b[j + 1:j + 1 + n], j + 1 + n


def decode(src, dst, data, own_m, records):
    """Cuts one direction into messages; ids resolved later through the receiver's m."""
    if data[:20] != b'\x13BitTorrent protocol':
        return
    out = [{'src': src, 'dst': dst, 'msg': 'handshake'}]
    i = 68
    while i + 4 <= len(data):
        n = int.from_bytes(data[i:i + 4], 'big')
        body = data[i + 4:i + 4 + n]
        i += 4 + n
        if len(body) < n:
            break
        if n == 0:
            out.append({'src': src, 'dst': dst, 'msg': 'keep_alive'})
            continue
        mid = body[0]
        rec = {'src': src, 'dst': dst, 'msg': SIMPLE.get(mid, 'unknown')}
        if mid in WITH_PIECE:
            rec['piece'] = int.from_bytes(body[1:5], 'big')
        if mid == 20:
            rec['extId'] = body[1]
            if body[1] == 0:
                rec['ext'] = 'handshake'
                m = bdecode(body, 2)[0].get(b'm', {})
                own_m[src] = {k.decode(): v for k, v in m.items() if isinstance(v, int)}
            elif len(body) == 6:
                rec['payload4'] = int.from_bytes(body[2:6], 'big')
        out.append(rec)
    records.append(out)


def key(r):
    return (r['msg'], r.get('ext') if r['msg'] == 'extended' else None, r.get('piece'))


def check(truth_path, out, logged_only=False):
    """exact per-direction comparison; returns a one-line verdict and success"""
    def by_dir(recs):
        d = {}
        for r in recs:
            d.setdefault((r['src'], r['dst']), []).append(key(r))
        return d
    truth = by_dir(json.loads(l) for l in open(truth_path) if l.strip())
    ref = by_dir(r for recs in out for r in recs)
    total = sum(len(v) for v in truth.values())
    for d in sorted(set(truth) if logged_only else set(truth) | set(ref)):
        a, b = truth.get(d, []), ref.get(d, [])
        if a != b:
            i = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
            return f'{d[0]} -> {d[1]}: message {i} differs: truth {a[i:i + 1]} packets {b[i:i + 1]} ({len(a)} vs {len(b)})', False
    return f'{total} messages in {len(truth)} directions: identical', True


def main():
    global CAP
    argv = sys.argv[1:]
    truth_path = None
    logged_only = '--logged-directions' in argv
    argv = [a for a in argv if a != '--logged-directions']
    if '--truth' in argv:
        i = argv.index('--truth')
        truth_path = argv[i + 1]
        del argv[i:i + 2]
    sys.argv[1:] = argv
    CAP = sys.argv[1]
    records, own_m = [], {}
    for src, dst, data in list(tcp_streams()) + list(utp_streams()):
        decode(src, dst, data, own_m, records)
    sink = open(sys.argv[2], 'w') if len(sys.argv) > 2 else sys.stdout
    for out in records:
        for r in out:
            if r['msg'] == 'extended' and r['extId']:
                names = {v: k for k, v in own_m.get(r['dst'], {}).items()}
                r['ext'] = names.get(r['extId'])
                if r['ext'] == 'lt_donthave' and 'payload4' in r:
                    r['piece'] = r['payload4']
            r.pop('payload4', None)
            sink.write(json.dumps(r) + '\n')
    if truth_path:
        verdict, ok = check(truth_path, records, logged_only)
        print(verdict, file=sys.stderr)
        sys.exit(0 if ok else 1)


main()
