#!/usr/bin/env bash
# Makes the benchmark's large real captures once: two webtorrent peers in two network namespaces
# joined by a veth pair (MTU 1500, segmentation offloads off, so packets are wire-sized: about 140k
# packets per 200 MB), captured with tcpdump. Cached outside the repo.
#   bash bench/make-capture.sh [MB=200] [magnet|plain]      prints the capture's path
# magnet (the default, bench/magnet-peers.ts): the leecher joins by magnet link, fetches the info dict
# with ut_metadata and downloads 256 KiB pieces over two connections, so an inspector learns the
# torrent from the capture and hash-checks every piece. plain (bench/transfer-peers.ts): one
# connection, one-block pieces of a made-up info hash, no metadata: nothing can be hash-checked.
# Needs root (namespaces, tcpdump), ip, ethtool, tcpdump.
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-200}
KIND=${2:-magnet}
CACHE=${LTDH_BENCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ltdh-inspect}
case $KIND in
  magnet) OUT=$CACHE/bench-magnet-${MB}mb.pcap; PEERS="node --import tsx bench/magnet-peers.ts" ;;
  plain) OUT=$CACHE/bench-${MB}mb.pcap; PEERS="node --import tsx bench/transfer-peers.ts" ;;
  *) echo "make-capture.sh: the kind is magnet or plain, not $KIND" >&2; exit 2 ;;
esac
if [ -s "$OUT" ]; then
  echo "$OUT"
  exit 0
fi
[ "$(id -u)" = 0 ] || { echo "make-capture.sh: needs root (network namespaces, tcpdump) to make $OUT" >&2; exit 1; }
for tool in ip ethtool tcpdump; do
  command -v $tool >/dev/null || { echo "make-capture.sh: $tool is required" >&2; exit 1; }
done
mkdir -p "$CACHE"
NS_S=ltdh-bench-$KIND-s
NS_L=ltdh-bench-$KIND-l
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
ip netns exec $NS_L tcpdump -i ltdh-bl -s 0 -B 65536 -w "$TMP" tcp port 6881 2>"$OUT.tcpdump.err" &
DUMP_PID=$!
sleep 1.5
ip netns exec $NS_S $PEERS seed --port 6881 --mb "$MB" > "$OUT.seed" &
SEED_PID=$!
# The magnet seeder hashes its pieces first: give it time.
for _ in $(seq 150); do grep -q ready "$OUT.seed" 2>/dev/null && break; sleep 0.2; done
MAGNET=$(sed -n 's/^ready //p' "$OUT.seed")
if [ "$KIND" = magnet ]; then
  ip netns exec $NS_L $PEERS leech --host 10.88.0.1 --port 6881 --magnet "$MAGNET" >&2
else
  ip netns exec $NS_L $PEERS leech --host 10.88.0.1 --port 6881 --mb "$MB" >&2
fi
wait "$SEED_PID" || true
SEED_PID=
sleep 2
kill -INT "$DUMP_PID"
wait "$DUMP_PID" || true
DUMP_PID=
cat "$OUT.tcpdump.err" >&2
if grep -qE '[1-9][0-9]* packets? dropped by kernel' "$OUT.tcpdump.err"; then
  echo "make-capture.sh: tcpdump dropped packets; run again" >&2
  rm -f "$TMP"
  exit 1
fi
mv "$TMP" "$OUT"
echo "$OUT"
