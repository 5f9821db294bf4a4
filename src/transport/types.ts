// Contract between the reassemblers (TCP, uTP) and the BitTorrent decoder: one handler per flow.
import type { Dir, Transport } from '../model/record.js';

export interface FlowInfo {
  transport: Transport;
  /** Endpoint text ("ip:port") of the side that opened the connection (SYN sender), or the first sender seen. */
  initiator: string;
  responder: string;
  /** Time of the first packet of the flow. */
  startTs: number;
  /** Capture packet number (frame) of the first packet of the flow; 0 when unknown. */
  startFrame?: number;
  /** The connection's start was captured, so each direction's stream begins at a message boundary. */
  startSeen: boolean;
}

export interface StreamHandler {
  /**
   * In-order bytes of one direction. The view is valid only during the call. `at`: where bytes[0]
   * lies in the capture stream (the bytes are contiguous there), or -1 (or absent) when unknown.
   * `frame`: the capture packet that carried them (one packet per call), 0 (or absent) when unknown;
   * earlier than the packet being read when they were held out of order.
   */
  data(dir: Dir, bytes: Uint8Array, ts: number, at?: number, frame?: number): void;
  /** `bytes` of this direction's stream were never captured; data after it follows. */
  gap(dir: Dir, bytes: number, ts: number): void;
  /** The direction ended: FIN (orderly) or RST (reset, both directions are over). */
  end(dir: Dir, how: 'fin' | 'rst', ts: number): void;
  /** End of input: flush whatever is held. Called once per flow, last (unless released). */
  finish(ts: number): void;
  /** Carries more than a handshake: held longer when silent (see IdlePolicy). Absent: not established. */
  readonly established?: boolean;
  /** Found to be BitTorrent: its open event is out. Absent: never known (the flow settles when it ends). */
  readonly confirmed?: boolean;
  /** Found not to be BitTorrent: nothing more is fed to it. */
  readonly ignored?: boolean;
  /**
   * The transport forgets the flow after a silence (`why`), instead of finish(): nothing held is
   * delivered, nothing more comes; a later packet of the same connection starts a new flow, as one
   * first seen mid-stream. `held`: what the transport dropped, in a few words ('' when nothing).
   * Absent: finish() is called.
   */
  release?(ts: number, why: string, held: string): void;
}

/** The capture offset `n` bytes after `at`; an unknown offset (-1) stays unknown. */
export function offsetBy(at: number, n: number): number {
  return at < 0 ? -1 : at + n;
}

/**
 * Told of each flow at its first packet (the reassemblers' `starts` option). A flow's open event is
 * dated at that packet but known only once the flow shows it is BitTorrent, a few packets on; until
 * the flow is `settled` (found BitTorrent or not, or gone) a record dated earlier than ones already
 * made may still come. The text timeline holds its lines only while that can happen (PendingStarts).
 */
export interface FlowStartWatch {
  opened(frame: number, ts: number, flow: { readonly settled: boolean }): void;
}

/** A flow's handler can no longer make an open event: it is BitTorrent, or ignored (null: by the factory). */
export function handlerSettled(h: StreamHandler | null | undefined): boolean {
  return h === null || (h !== undefined && (h.confirmed === true || h.ignored === true));
}

/** Called on a flow's first packet; returns null to ignore the flow (not BitTorrent). */
export type FlowFactory = (info: FlowInfo) => StreamHandler | null;

/**
 * The bounds both reassemblers keep by default, per direction of a flow: bytes and segments (or uTP
 * packets) held out of order before the hole is given up on as lost, and flows tracked at once.
 */
export const REASSEMBLY_LIMITS = { maxHeldBytes: 4 * 1024 * 1024, maxHeldUnits: 2048, maxFlows: 100_000 } as const;
