#!/usr/bin/env bash
# Captures samples/misbehave.pcap: the misbehaving peer of misbehave.ts against a well-behaved one
# on loopback (needs root for tcpdump). Also rewrites samples/misbehave.torrent.
set -euo pipefail
cd "$(dirname "$0")/../.."
PORT=${PORT:-51515}
OUT=samples/misbehave.pcap
tcpdump -i lo -U -s 0 -w "$OUT.tmp" "tcp port $PORT" 2>/dev/null &
DUMP=$!
sleep 1
node --import tsx samples/generate/misbehave.ts "$PORT"
sleep 1
kill "$DUMP"
wait "$DUMP" || true
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT ($(stat -c %s "$OUT") bytes)"
