// BEP 9 ut_metadata: requests, rejects and data pieces checked against the sender's advertised
// metadata_size; the pieces of each side assembled and, once complete, hashed against the
// handshake's info hash. A verified info dict is handed back (onInfo) for the piece checks of every
// connection of that swarm.
import { createHash } from 'node:crypto';
import type { MessageRecord } from '../model/record.js';
import { UNREQUESTED_METADATA_NEEDS } from './finding-needs.js';
import { BLOCK, type At, type Conn, type Emit, type Side } from './conn-state.js';
import { parseInfo, TorrentError, type TorrentInfo } from './torrent.js';

/** Metadata (info dict) kept for assembly, per side. */
const MAX_METADATA = 16 << 20;
/** Metadata being assembled, all connections together: each side may claim up to MAX_METADATA. */
const MAX_METADATA_BYTES = 64 << 20;

export class MetadataAssembler {
  private bytes = 0;
  /** Metadata hashed against an info hash so far. */
  verified = 0;
  /** Info dicts assembled from ut_metadata, by handshake info hash. */
  readonly info = new Map<string, TorrentInfo>();

  constructor(
    private readonly emit: Emit,
    /** A verified info dict for `hash` (already in `info`): connections of that swarm may use it. */
    private readonly onInfo: (hash: string, info: TorrentInfo) => void,
  ) {}

  /** A ut_metadata message from `s` to `p`. */
  message(c: Conn, s: Side, p: Side, r: MessageRecord, raw: Uint8Array | undefined, at: At): void {
    const idx = r.piece ?? r.index;
    if (r.msg_type === undefined || idx === undefined) return;
    if (r.msg_type === 0) {
      if (s.metaRequested.size < 4096) s.metaRequested.add(idx);
      return;
    }
    if (r.msg_type === 2) {
      if (s.metadataSize !== undefined && s.metadataSize > 0 && !s.metaRejectReported) {
        s.metaRejectReported = true;
        this.emit(c, 'metadata-rejected', at, `${s.addr} rejected the request for metadata piece ${idx} although its extended handshake advertised metadata_size ${s.metadataSize} (further rejects on this connection are not repeated)`);
      }
      return;
    }
    if (r.msg_type !== 1) return;
    if (!p.metaRequested.delete(idx)) {
      this.emit(c, 'metadata-piece-size', at, `metadata piece ${idx} sent by ${s.addr} was never requested by ${p.addr}`, undefined, undefined, UNREQUESTED_METADATA_NEEDS);
    }
    const advertised = s.metadataSize;
    if (r.total_size !== undefined && advertised !== undefined && r.total_size !== advertised) {
      this.emit(c, 'metadata-total-size', at, `ut_metadata data says total_size ${r.total_size} but ${s.addr}'s extended handshake advertised metadata_size ${advertised}`);
    }
    const size = advertised ?? r.total_size;
    const got = r.trailing;
    if (size === undefined || got === undefined) return;
    const count = Math.ceil(size / BLOCK);
    const expected = idx < count - 1 ? BLOCK : size - BLOCK * (count - 1);
    if (idx >= count) {
      this.emit(c, 'metadata-piece-size', at, `metadata piece ${idx} is beyond the ${count} piece(s) of ${size} bytes of metadata`);
      return;
    }
    if (got !== expected) {
      const which = idx < count - 1 ? 'a piece other than the last must be 16384 bytes' : `the last of ${count} piece(s) of ${size} bytes must be ${expected} bytes`;
      this.emit(c, 'metadata-piece-size', at, `metadata piece ${idx} carries ${got} bytes: ${which}`);
      return;
    }
    this.assemble(c, s, idx, size, raw, at);
  }

  private assemble(c: Conn, s: Side, idx: number, size: number, raw: Uint8Array | undefined, at: At): void {
    if (raw === undefined || size <= 0 || size > MAX_METADATA || s.metadataDone) return;
    const expected = Math.min(BLOCK, size - idx * BLOCK);
    if (raw.length < 6 + expected) return;
    if (s.metadata !== undefined && s.metadata.size !== size) this.drop(s);
    if (s.metadata === undefined) {
      // A peer chooses the size: the buffers of all connections share one budget.
      if (this.bytes + size > MAX_METADATA_BYTES) return;
      this.bytes += size;
      s.metadata = { size, data: new Uint8Array(size), got: new Set() };
    }
    const m = s.metadata;
    m.data.set(raw.subarray(raw.length - expected), idx * BLOCK);
    m.got.add(idx);
    if (m.got.size < Math.ceil(size / BLOCK)) return;
    s.metadataDone = true;
    this.drop(s);
    const hash = c.infoHash;
    if (hash === undefined) return;
    const sha1 = createHash('sha1').update(m.data).digest('hex');
    const sha256 = createHash('sha256').update(m.data).digest('hex').slice(0, 40);
    this.verified++;
    if (sha1 !== hash && sha256 !== hash) {
      this.emit(c, 'metadata-hash-mismatch', at, `the ${size} bytes of metadata from ${s.addr} hash to ${sha1} (SHA-1), not the handshake's info hash ${hash}`);
      return;
    }
    if (c.info !== undefined) return;
    try {
      const info = parseInfo(m.data);
      this.info.set(hash, info);
      this.onInfo(hash, info);
    } catch (err) {
      if (!(err instanceof TorrentError)) throw err;
    }
  }

  /** The side's partial metadata goes back to the budget. */
  drop(s: Side): void {
    if (s.metadata === undefined) return;
    this.bytes -= s.metadata.size;
    s.metadata = undefined;
  }
}
