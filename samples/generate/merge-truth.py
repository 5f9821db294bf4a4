#!/usr/bin/python3
"""merge-truth.py OUT IN...: merges per-peer truth files (each in its receiver's order) into one
NDJSON file ordered by time, keeping every input's own order (heapq.merge is stable per input)."""
import heapq, json, sys


def records(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


out, inputs = sys.argv[1], sys.argv[2:]
n = 0
with open(out, 'w') as f:
    for r in heapq.merge(*(records(p) for p in inputs), key=lambda r: r['t']):
        f.write(json.dumps(r, separators=(',', ':')) + '\n')
        n += 1
print(f'{out}: {n} records', file=sys.stderr)
