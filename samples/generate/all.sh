#!/usr/bin/env bash
# Regenerates our real captures in samples/: real peers, real TCP/uTP, captured with tcpdump/dumpcap.
#   npm run samples                 # every capture
#   bash samples/generate/all.sh wt-swarm lt-magnet   # some of them
# Needs root (tcpdump, network namespaces, iptables), tcpdump, dumpcap, tshark, ethtool,
# iptables/ip6tables and Debian's python3-libtorrent (run with /usr/bin/python3). Each capture NAME writes samples/NAME.pcap (or
# .pcapng), samples/NAME.truth.ndjson (what each receiving peer parsed) and samples/NAME.torrent.
# See samples/README.md for what each capture contains.
set -euo pipefail
cd "$(dirname "$0")/../.."
GEN=samples/generate
OUT=samples
PY=/usr/bin/python3
WT="node --import tsx $GEN/wt-peers.ts"
TMP=$(mktemp -d /tmp/ltdh-samples.XXXXXX)
NS_A=ltdh-smp-a
NS_B=ltdh-smp-b
DUMP_PID=

need() { command -v "$1" >/dev/null || { echo "all.sh: $1 is required" >&2; exit 1; }; }
[ "$(id -u)" = 0 ] || { echo "all.sh: needs root (tcpdump, network namespaces)" >&2; exit 1; }
need tcpdump # the other tools are checked by the captures that use them (so that one capture can be made without all)
$PY -c 'import libtorrent' || { echo "all.sh: needs Debian python3-libtorrent for $PY" >&2; exit 1; }

cleanup() {
  [ -n "$DUMP_PID" ] && kill -INT "$DUMP_PID" 2>/dev/null || true
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# start_capture FILE IFACE FILTER [NETNS] [dumpcap]: capture in the background until stop_capture.
start_capture() {
  local file=$1 iface=$2 filter=$3 ns=${4:-} tool=${5:-tcpdump}
  local pre=()
  [ -n "$ns" ] && pre=(ip netns exec "$ns")
  if [ "$tool" = dumpcap ]; then
    need dumpcap
    "${pre[@]}" dumpcap -q -i "$iface" -f "$filter" -w "$file" 2>"$TMP/dump.err" &
  else
    "${pre[@]}" tcpdump -i "$iface" --immediate-mode -U -B 32768 -s 0 -w "$file" "$filter" 2>"$TMP/dump.err" &
  fi
  DUMP_PID=$!
  sleep 1.5
}
stop_capture() {
  sleep 2 # libpcap hands packets over in blocks: let the last one be read before stopping
  kill -INT "$DUMP_PID"
  wait "$DUMP_PID" || true
  DUMP_PID=
  grep -i 'captured\|dropped' "$TMP/dump.err" | sed "s|^|  $(basename "$1"): |" || true
  if grep -qE '[1-9][0-9]* packets? dropped by kernel' "$TMP/dump.err"; then
    echo "all.sh: the kernel dropped packets from $1; run again" >&2
    exit 1
  fi
  chown --reference=samples "$1" # tcpdump writes as its own user
  chmod 644 "$1"
}

merge() { local out=$1; shift; $PY $GEN/merge-truth.py "$OUT/$out.truth.ndjson" "$@"; }
# report NAME FILE [--logged-directions]: size, truth count, and a cross-check: an independent decode
# of the packets (verify.py, over tshark's TCP reassembly) must give exactly the truth's messages,
# per direction (with --logged-directions only the directions the truth has: one peer logged).
report() {
  need tshark
  echo "== $1: $(stat -c %s "$OUT/$2") bytes, $(wc -l <"$OUT/$1.truth.ndjson") truth records"
  if ! $PY $GEN/verify.py "$OUT/$2" "$TMP/$1.ref.ndjson" --truth "$OUT/$1.truth.ndjson" ${3:-} 2>&1 |
    sed 's/^/   truth vs packets: /'; then
    echo "all.sh: $1: the truth and the packets disagree" >&2
    exit 1
  fi
}

# wt_run NAME HOST PORT NS_SEED NS_LEECH SEEDFLAGS "LEECH0FLAGS" "LEECH1FLAGS" ...: a webtorrent
# seeder and one leecher per flags argument, all at once; truth merged into NAME.truth.ndjson.
wt_run() {
  local name=$1 host=$2 port=$3 nss=$4 nsl=$5 seedflags=$6
  shift 6
  local n=$# preS=() preL=()
  [ -n "$nss" ] && preS=(ip netns exec "$nss")
  [ -n "$nsl" ] && preL=(ip netns exec "$nsl")
  "${preS[@]}" $WT seed --name "$name" --host "$host" --port "$port" --peers "$n" \
    --truth "$TMP/$name.seed.ndjson" --torrent "$OUT/$name.torrent" $seedflags &
  local seed=$!
  sleep 2
  local pids=() i=0 flags
  for flags in "$@"; do
    "${preL[@]}" $WT leech --name "$name" --host "$host" --port "$port" --id $i \
      --truth "$TMP/$name.leech$i.ndjson" $flags &
    pids+=($!)
    i=$((i + 1))
  done
  for p in "${pids[@]}"; do wait "$p"; done
  wait "$seed"
  merge "$name" "$TMP/$name".*.ndjson
}

# lt_run NAME TRANSPORT [lt-peers.py options] (roles split over namespaces when NS given)
lt_run() {
  local name=$1 transport=$2 nss=${3:-} nsl=${4:-} sip=${5:-127.0.0.1} lip=${6:-127.0.0.1}
  if [ -z "$nss" ]; then
    $PY $GEN/lt-peers.py --name "$name" --out "$TMP" --transport "$transport" \
      --seed-ip "$sip" --leech-ip "$lip"
  else
    ip netns exec "$nss" $PY $GEN/lt-peers.py --role seed --name "$name" --out "$TMP" \
      --transport "$transport" --seed-ip "$sip" --leech-ip "$lip" --seconds 90 &
    local seed=$!
    ip netns exec "$nsl" $PY $GEN/lt-peers.py --role leech --name "$name" --out "$TMP" \
      --transport "$transport" --seed-ip "$sip" --leech-ip "$lip" --seconds 90
    wait "$seed"
  fi
  cp "$TMP/$name.torrent" "$OUT/$name.torrent"
  merge "$name" "$TMP/$name".*.truth.ndjson
}

# Two namespaces joined by a veth pair (MTU 1500, IPv4 + IPv6), 4% of incoming packets dropped
# at random on each side (this kernel has no netem; iptables' statistic match does it).
netns_up() {
  need ip; need iptables; need ip6tables; need ethtool
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns del "$NS_B" 2>/dev/null || true
  ip netns add "$NS_A"
  ip netns add "$NS_B"
  ip link add ltdh-va netns "$NS_A" mtu 1500 type veth peer name ltdh-vb netns "$NS_B" mtu 1500
  ip -n "$NS_A" addr add 10.77.0.1/24 dev ltdh-va
  ip -n "$NS_B" addr add 10.77.0.2/24 dev ltdh-vb
  ip -n "$NS_A" addr add fd77::a/64 dev ltdh-va nodad
  ip -n "$NS_B" addr add fd77::b/64 dev ltdh-vb nodad
  for ns in "$NS_A" "$NS_B"; do
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$( [ $ns = "$NS_A" ] && echo ltdh-va || echo ltdh-vb)" up
    # no segmentation offload: every segment on the wire (and in the capture) fits the MTU
    ip netns exec "$ns" ethtool -K "$( [ $ns = "$NS_A" ] && echo ltdh-va || echo ltdh-vb)" tso off gso off gro off >/dev/null
    ip netns exec "$ns" iptables -A INPUT -i ltdh-v+ -m statistic --mode random --probability 0.04 -j DROP
    ip netns exec "$ns" ip6tables -A INPUT -i ltdh-v+ -p tcp -m statistic --mode random --probability 0.04 -j DROP
    ip netns exec "$ns" ip6tables -A INPUT -i ltdh-v+ -p udp -m statistic --mode random --probability 0.04 -j DROP
  done
  sleep 1
}

cap_wt_swarm() {
  local name=wt-swarm port=52880
  start_capture "$OUT/$name.pcap" lo "tcp port $port"
  wt_run $name 127.0.0.1 $port "" "" --fast "" "--fast" ""
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap
}

cap_lt_magnet() {
  local name=lt-magnet
  start_capture "$OUT/$name.pcap" lo "tcp port 48881"
  lt_run $name tcp
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap
}

cap_lt_magnet_utp() {
  local name=lt-magnet-utp
  start_capture "$OUT/$name.pcap" lo "udp port 48881"
  lt_run $name utp
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap
}

cap_wt_lossy6() {
  local name=wt-lossy6
  netns_up
  start_capture "$OUT/$name.pcap" ltdh-va "tcp port 6889" "$NS_A"
  wt_run $name fd77::b 6889 "$NS_B" "$NS_A" --fast "--fast" "--fast"
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap
}

cap_lt_lossy4() {
  local name=lt-lossy4
  netns_up
  start_capture "$OUT/$name.pcap" ltdh-va "tcp port 48881" "$NS_A"
  lt_run $name tcp "$NS_B" "$NS_A" 10.77.0.2 10.77.0.1
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap
}

cap_lt_utp_lossy() {
  local name=lt-utp-lossy
  netns_up
  start_capture "$OUT/$name.pcap" ltdh-va "udp port 48881" "$NS_A"
  lt_run $name utp "$NS_B" "$NS_A" 10.77.0.2 10.77.0.1
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap
}

# One seeder listening on IPv4 and IPv6 with TCP and uTP, two leechers at once (TCP over IPv4, uTP
# over IPv6), and the DHT on in all three sessions: DHT datagrams share the uTP ports.
cap_lt_mixed() {
  local name=lt-mixed
  start_capture "$OUT/$name.pcap" lo "port 48881 or port 48882 or port 48883"
  $PY $GEN/lt-peers.py --name $name --out "$TMP" --seed-ip 127.0.0.1,::1 --seed-transport both \
    --leech tcp,127.0.0.1,48882 --leech utp,::1,48883 --dht
  cp "$TMP/$name.torrent" "$OUT/$name.torrent"
  merge "$name" "$TMP/$name".*.truth.ndjson
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap
}

# libtorrent's default encryption policy (pe_enabled, both levels): the connection opens with the
# MSE/PE key exchange; the peers then select plaintext, so only the start is RC4.
cap_lt_encrypted() {
  local name=lt-encrypted
  start_capture "$OUT/$name.pcap" lo "tcp port 48881"
  $PY $GEN/lt-peers.py --name $name --out "$TMP" --enc
  cp "$TMP/$name.torrent" "$OUT/$name.torrent"
  merge "$name" "$TMP/$name".*.truth.ndjson
  stop_capture "$OUT/$name.pcap"
  echo "== $name: $(stat -c %s "$OUT/$name.pcap") bytes, $(wc -l <"$OUT/$name.truth.ndjson") truth records (encrypted start: not cross-checked)"
}

cap_wt_dumpcap() {
  local name=wt-dumpcap port=52881
  start_capture "$OUT/$name.pcapng" lo "tcp port $port" "" dumpcap
  wt_run $name 127.0.0.1 $port "" "" --fast "--fast"
  stop_capture "$OUT/$name.pcapng"
  report $name $name.pcapng
}

cap_wt_sll2() {
  local name=wt-sll2 port=52882
  start_capture "$OUT/$name.pcap" any "tcp port $port"
  wt_run $name 127.0.0.1 $port "" "" "" ""
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap
}

# libtorrent seeding rtorrent (no fast extension, no lt_donthave) on loopback: request-stalled.
# rt-stall: the seeder's file lost its second half, its requests for those pieces get no answer and
# the connection is silent for --quiet (17) s before the capture ends. rt-resume: the whole file,
# the seeder's process stopped (SIGSTOP) for 12 s mid-transfer, then the transfer completes.
# No truth file: rtorrent logs nothing per message; lt-rtorrent.py prints which requests the
# seeder answered (from libtorrent's peer log).
rt_run() {
  local name=$1 mode=$2
  need rtorrent
  start_capture "$OUT/$name.pcap" lo "tcp port 48891 or tcp port 48892"
  $PY $GEN/lt-rtorrent.py --name $name --out "$TMP" --mode $mode
  cp "$TMP/$name.torrent" "$OUT/$name.torrent"
  stop_capture "$OUT/$name.pcap"
  echo "== $name: $(stat -c %s "$OUT/$name.pcap") bytes (no truth: rtorrent logs no messages)"
}
cap_rt_stall() { rt_run rt-stall lost; }
cap_rt_resume() { rt_run rt-resume paused; }

# libtorrent seeding Transmission 3.00 (transmission-daemon, plaintext), joined by magnet, the
# seeder's file cut in half once checked (rejects, no lt_donthave: Transmission does not advertise
# it). Truth: only what libtorrent parsed (Transmission -> libtorrent); Transmission's debug log
# names no piece of a reject or block. tr-magnet: TCP on loopback (the seeder dials twice:
# Transmission never dials 127/8). tr-utp: uTP between two addresses of a namespace's lo, so that
# Transmission dials the seeder back after the metadata (libutp's SYN), and dials itself once
# (its own address, from the seeder's ut_pex).
tr_run() {
  local name=$1 ns=$2; shift 2
  need transmission-daemon; need transmission-remote
  local pre=()
  [ -n "$ns" ] && pre=(ip netns exec "$ns")
  start_capture "$OUT/$name.pcap" lo "port 48901 or port 48902" "$ns"
  "${pre[@]}" $PY $GEN/lt-transmission.py --name $name --out "$TMP" --join magnet --cut "$@" >/dev/null
  cp "$TMP/$name.torrent" "$OUT/$name.torrent"
  merge "$name" "$TMP/$name.seed.truth.ndjson"
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap --logged-directions
}
# One namespace whose lo also has 10.77.9.1 and 10.77.9.2 (addresses Transmission will dial).
netns_lo() {
  need ip
  ip netns del "$NS_A" 2>/dev/null || true
  ip netns add "$NS_A"
  ip -n "$NS_A" link set lo up
  ip -n "$NS_A" addr add 10.77.9.1/32 dev lo
  ip -n "$NS_A" addr add 10.77.9.2/32 dev lo
}
cap_tr_magnet() { tr_run tr-magnet "" --transport tcp; }
cap_tr_utp() {
  netns_lo
  tr_run tr-utp "$NS_A" --transport utp --seed-ip 10.77.9.1 --tr-ip 10.77.9.2
}

# libtorrent seeding aria2 1.36 (Debian `aria2`: its own BitTorrent code, fast extension, ut_metadata,
# ut_pex, no lt_donthave), which joins by a tracker-less magnet; libtorrent dials it (twice: aria2
# closes the connection once it has the metadata). Truth both ways: libtorrent's peer log and aria2's
# debug log (lt-client.py).
cap_aria2_magnet() {
  local name=aria2-magnet
  need aria2c
  start_capture "$OUT/$name.pcap" lo "tcp port 48894"
  $PY $GEN/lt-client.py --name $name --out "$TMP" --client aria2 --join magnet
  cp "$TMP/$name.torrent" "$OUT/$name.torrent"
  merge "$name" "$TMP/$name".*.truth.ndjson
  stop_capture "$OUT/$name.pcap"
  report $name $name.pcap
}

ALL=(wt-swarm lt-magnet lt-magnet-utp wt-lossy6 lt-lossy4 lt-utp-lossy lt-mixed lt-encrypted wt-dumpcap wt-sll2 rt-stall rt-resume aria2-magnet tr-magnet tr-utp)
EVERYTHING=$([ $# -eq 0 ] && echo yes || echo no)
[ $# -gt 0 ] || set -- "${ALL[@]}"
for c in "$@"; do
  fn="cap_${c//-/_}"
  declare -F "$fn" >/dev/null || { echo "all.sh: unknown capture $c (known: ${ALL[*]})" >&2; exit 1; }
  "$fn"
done
chown --reference=samples "$OUT"/*.torrent "$OUT"/*.truth.ndjson

# The other generators in this directory (their own captures), when everything is asked for.
if [ "$EVERYTHING" = yes ]; then
  for g in misbehave.sh variants.sh; do
    if [ -f "$GEN/$g" ]; then echo "== $g"; bash "$GEN/$g"; fi
  done
fi
