#!/usr/bin/env bash
# Makes the benchmark's large real capture once: two webtorrent peers (bench/transfer-peers.ts) in two
# network namespaces joined by a veth pair (MTU 1500, segmentation offloads off, so packets are
# wire-sized: about 140k packets per 200 MB), captured with tcpdump. Cached outside the repo.
#   bash bench/make-capture.sh [MB=200]      prints the capture's path
# Needs root (namespaces, tcpdump), ip, ethtool, tcpdump.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
CACHE=${LTDH_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ltdh-inspect}
OUT=$CACHE/bench-${MB}mb.pcap
if [ -s "$OUT" ]; then
  echo "$OUT"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "make-capture.sh: needs root (network namespaces, tcpdump) to make $OUT" >&2; exit 1; }
for tool in ip ethtool tcpdump; do
  command -v $tool >/dev/null || { echo "make-capture.sh: $tool is required" >&2; exit 1; }
done
mkdir -p "$CACHE"
NS_S=ltdh-bench-s
NS_L=ltdh-bench-l
PEERS="node --import tsx bench/transfer-peers.ts"
DUMP_PID=
SEED_PID=
cleanup() {
  [ -n "$DUMP_PID" ] && kill -INT "$DUMP_PID" 2>/dev/null || true
  [ -n "$SEED_PID" ] && kill "$SEED_PID" 2>/dev/null || true
  ip netns del $NS_S 2>/dev/null || true
  ip netns del $NS_L 2>/dev/null || true
}
trap cleanup EXIT
cleanup
ip netns add $NS_S
ip netns add $NS_L
ip link add ltdh-bs netns $NS_S mtu 1500 type veth peer name ltdh-bl netns $NS_L mtu 1500
ip -n $NS_S addr add 10.88.0.1/24 dev ltdh-bs
ip -n $NS_L addr add 10.88.0.2/24 dev ltdh-bl
for pair in "$NS_S ltdh-bs" "$NS_L ltdh-bl"; do
  set -- $pair
  ip -n "$1" link set lo up
  ip -n "$1" link set "$2" up
  ip netns exec "$1" ethtool -K "$2" tso off gso off gro off >/dev/null
done

TMP=$OUT.partial
ip netns exec $NS_L tcpdump -i ltdh-bl -s 0 -B 65536 -w "$TMP" tcp port 6881 2>"$CACHE/tcpdump.err" &
DUMP_PID=$!
sleep 1.5
ip netns exec $NS_S $PEERS seed --port 6881 --mb "$MB" > "$CACHE/seed.out" &
SEED_PID=$!
for _ in $(seq 50); do grep -q ready "$CACHE/seed.out" 2>/dev/null && break; sleep 0.2; done
ip netns exec $NS_L $PEERS leech --host 10.88.0.1 --port 6881 --mb "$MB" >&2
wait "$SEED_PID" || true
SEED_PID=
sleep 2
kill -INT "$DUMP_PID"
wait "$DUMP_PID" || true
DUMP_PID=
cat "$CACHE/tcpdump.err" >&2
if grep -qE '[1-9][0-9]* packets? dropped by kernel' "$CACHE/tcpdump.err"; then
  echo "make-capture.sh: tcpdump dropped packets; run again" >&2
  rm -f "$TMP"
  exit 1
fi
mv "$TMP" "$OUT"
echo "$OUT"
