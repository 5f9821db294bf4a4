"""libtorrent 2.0's peer log (alert category peer_log) as truth records: one incoming `<==` line
in, one record {msg, ext?, extId?, piece?, begin?, length?, port?, m?} out. Shared by the
generators that run libtorrent sessions (lt-peers.py, lt-client.py)."""
import re


def hostport(ip, port):
    return f'[{ip}]:{port}' if ':' in ip else f'{ip}:{port}'


NAMES = {
    'HANDSHAKE': 'handshake', 'CHOKE': 'choke', 'UNCHOKE': 'unchoke', 'INTERESTED': 'interested',
    'NOT_INTERESTED': 'not_interested', 'HAVE': 'have', 'BITFIELD': 'bitfield', 'REQUEST': 'request',
    'PIECE': 'piece', 'CANCEL': 'cancel', 'DHT_PORT': 'port', 'SUGGEST_PIECE': 'suggest_piece',
    'SUGGEST': 'suggest_piece', 'HAVE_ALL': 'have_all', 'HAVE_NONE': 'have_none',
    'REJECT_PIECE': 'reject_request', 'ALLOWED_FAST': 'allowed_fast', 'HASH_REQUEST': 'hash_request',
    'HASHES': 'hashes', 'HASH_REJECT': 'hash_reject', 'KEEPALIVE': 'keep_alive',
    'EXTENDED_HANDSHAKE': ('extended', 'handshake'), 'LT_DONTHAVE': ('extended', 'lt_donthave'),
    'UT_METADATA': ('extended', 'ut_metadata'), 'UPLOAD_ONLY': ('extended', 'upload_only'),
    'PEX': ('extended', 'ut_pex'), 'HOLEPUNCH': ('extended', 'ut_holepunch'),
    'SHARE_MODE': ('extended', 'share_mode'), 'DONT_HAVE': ('extended', 'lt_donthave'),
}


# The receiver is libtorrent 2.0 whose `m` is fixed (its extended handshake in the capture shows it).
LT_IDS = {'ut_pex': 1, 'ut_metadata': 2, 'upload_only': 3, 'ut_holepunch': 4, 'lt_donthave': 7, 'share_mode': 8}
SKIP = {'EXTENSIONS', 'EXTENSION_MESSAGE'}


def parse_line(line):
    word = line.split()[0] if line.split() else ''
    word = word.rstrip(':')
    if word in SKIP or (word == 'HANDSHAKE' and 'connection ready' in line):
        return None  # reserved bits / second line of the same handshake / the named line follows
    name = NAMES.get(word)
    if name is None:
        return None
    rec = {'msg': name} if isinstance(name, str) else {'msg': name[0], 'ext': name[1]}
    nums = dict(re.findall(r'\b(piece|s|l|begin|length)\s*:\s*(-?[0-9a-fx]+)', line))
    if 'piece' in nums and (rec['msg'] in ('have', 'request', 'piece', 'cancel', 'suggest_piece',
                                           'reject_request', 'allowed_fast') or rec.get('ext') == 'lt_donthave'):
        rec['piece'] = int(nums['piece'], 0)
    if rec['msg'] == 'port':
        m = re.search(r'(\d+)', line[len(word):])
        if m:
            rec['port'] = int(m.group(1))
    if rec['msg'] == 'allowed_fast':
        rec['piece'] = int(re.search(r'\[\s*(\d+)', line).group(1))
    if rec['msg'] == 'extended' and rec['ext'] in LT_IDS:
        rec['extId'] = LT_IDS[rec['ext']]
    if rec.get('ext') == 'handshake':
        rec['extId'] = 0
        m = re.search(r"'m': \{([^}]*)\}", line)
        if m:
            rec['m'] = {k: int(v) for k, v in re.findall(r"'(\w+)': (\d+)", m.group(1))}
    if rec['msg'] in ('request', 'piece', 'cancel', 'reject_request'):
        if 's' in nums:
            rec['begin'] = int(nums['s'], 16)
        if 'l' in nums:
            rec['length'] = int(nums['l'], 16)
    return rec
