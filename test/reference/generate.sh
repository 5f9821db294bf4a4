#!/bin/bash
# Writes test/reference/*.ndjson.gz: the --json output of every capture in samples/ (and samples/cut/),
# with --torrent samples/NAME.torrent when there is one, from the built program (dist/). These are
# the outputs from before issue 14's refactoring; test/e2e/reference-output.test.ts compares today's
# output with them record for record. Regenerate only when an issue changes the records on purpose,
# and say so in the commit.
set -euo pipefail
cd "$(dirname "$0")/../.."
node build/build-if-stale.mjs
for f in samples/*.pcap* samples/cut/*.pcap*; do
  b=$(basename "$f"); base=${b%%.*}; t=samples/$base.torrent
  args=(); [ -f "$t" ] && args=(--torrent "$t")
  node dist/cli/main.js "$f" --json "${args[@]}" 2>/dev/null | gzip -9n > "test/reference/$(echo "${f#samples/}" | tr / _).ndjson.gz"
done
