// The Record union: everything the pipeline tells its sinks. A Record is plain JSON data (what
// `--json` prints, one per line); the raw bytes of a message travel beside it, not inside it.

import type { MappingView } from '../bittorrent/ext-mapping.js';
export type Transport = 'tcp' | 'utp';

/** Direction inside a connection: 0 = initiator -> responder, 1 = responder -> initiator. */
export type Dir = 0 | 1;

/**
 * The direction of a record sent from `src` in a connection whose initiator is `initiator`. A
 * uTP connection from a peer's socket to itself (its own address, learned from ut_pex) has the
 * same address at both ends: all its records count as the initiator's (its first data, its
 * handshake, is; the responder closes on reading its own peer id).
 */
export function dirOfSender(src: string, initiator: string): Dir {
  return src === initiator ? 0 : 1;
}

export type MessageName =
  | 'handshake'
  | 'keep_alive'
  | 'choke'
  | 'unchoke'
  | 'interested'
  | 'not_interested'
  | 'have'
  | 'bitfield'
  | 'request'
  | 'piece'
  | 'cancel'
  | 'port'
  | 'suggest_piece'
  | 'have_all'
  | 'have_none'
  | 'reject_request'
  | 'allowed_fast'
  | 'hash_request'
  | 'hashes'
  | 'hash_reject'
  | 'extended'
  | 'unknown';

export interface RecordBase {
  /** Capture time (seconds since the epoch) of the packet that completed the record. */
  ts: number;
  /**
   * Number of that packet in the capture, from 1, every packet of the file counted (Wireshark's
   * frame number); an open event's is its SYN's, a finding's its message's. Proxy: the packet's in
   * the --save file, absent without one.
   */
  frame?: number;
  /** A message whose bytes came in more than one packet: the earliest of them (frame is the last). */
  firstFrame?: number;
  /** Connection number, from 1, in order of first sight (proxy: order of acceptance). */
  conn: number;
  transport: Transport;
  /** "ip:port", IPv6 as "[addr]:port". */
  src: string;
  dst: string;
}

/** JSON-safe rendering of a bencoded value: byte strings become text when printable UTF-8, else `{hex}`. */
export type JsonValue = string | number | boolean | null | { hex: string } | JsonValue[] | { [k: string]: JsonValue };

export interface PexPeer {
  addr: string;
  flags?: number;
}

export interface MessageRecord extends RecordBase {
  msg: MessageName;
  /** Total bytes on the wire, length prefix included (68 for a handshake). */
  size: number;
  /** Set on everything decoded after a resync (capture started mid-stream, or after a gap). */
  resync?: true;
  /** Why the message does not parse as its type says (the message is still reported). */
  malformed?: string;

  // BEP 3 / BEP 6
  piece?: number;
  begin?: number;
  length?: number;
  port?: number;
  /** bitfield: number of bits the payload carries and how many are set. */
  bits?: number;
  set?: number;
  /** unknown: the message id. */
  id?: number;

  // handshake
  protocol?: string;
  reserved?: string;
  infoHash?: string;
  peerId?: string;
  client?: string;
  extensions?: string[];

  // BEP 52
  piecesRoot?: string;
  baseLayer?: number;
  index?: number;
  proofLayers?: number;
  hashCount?: number;

  // BEP 10
  /** Extended message: the receiver-side name, "handshake" for id 0, null when unresolved. */
  ext?: string | null;
  extId?: number;
  /** Which handshake's mapping resolved `ext`: the conn-relative index of that extended handshake record. */
  mappingFrom?: string;
  /** Extended handshake fields. */
  m?: Record<string, number>;
  v?: string;
  p?: number;
  reqq?: number;
  yourip?: string;
  metadata_size?: number;
  upload_only?: number;
  fields?: Record<string, JsonValue>;
  /** ut_metadata */
  msg_type?: number;
  total_size?: number;
  trailing?: number;
  /** ut_pex */
  added?: PexPeer[];
  dropped?: string[];
  /** ut_holepunch */
  hp_type?: number;
  hp_addr?: string;
  hp_err?: number;
  /** Payload length of an extended message whose payload is shown raw. */
  payloadLength?: number;
  /**
   * Unresolved extended id: the extension it probably is (not a certainty), its payload decoded as
   * that extension's; `probablyWhy` gives the evidence.
   */
  probably?: string;
  probablyWhy?: string;
}

export type EventName =
  | 'open'
  | 'close'
  | 'reset'
  | 'gap'
  | 'resync'
  | 'encrypted'
  | 'malformed'
  | 'finding'
  | 'summary'
  | 'unjudged'
  | 'warning'
  /** The connection was silent too long (capture time): its state was dropped (see message). */
  | 'released';

export type Severity = 'error' | 'warning' | 'info';

export interface EventRecord extends RecordBase {
  event: EventName;
  /** gap: bytes the capture never saw; resync: bytes skipped to find the next message boundary. */
  bytes?: number;
  /** Free text for the user: reason of a malformed/warning/close, explanation of a finding. */
  message?: string;
  // finding
  finding?: string;
  severity?: Severity;
  piece?: number;
  /**
   * A finding judged after the message it points at (requests never answered, requests a donthave
   * dropped, a range or bitfield check once the piece count is known): when it was judged (the
   * capture's last packet for those judged at its end). `ts` and `frame` stay the message's.
   */
  late?: true;
  judgedTs?: number;
  judgedFrame?: number;
  /** request-stalled, request-stall-ended: when the silence began (same clock as ts). */
  since?: number;
  /** request-stalled: seconds of silence when judged; request-stall-ended: how long the stall lasted. */
  seconds?: number;
  // summary
  summary?: ConnectionSummary;
  /** unjudged: findings the capture lacked the evidence for, by code, then by reason: how many. */
  unjudged?: Record<string, Record<string, number>>;
}

export interface SideSummary {
  addr: string;
  peerId?: string;
  client?: string;
  v?: string;
  extensions?: Record<string, number>;
  messages: number;
  bytes: number;
  donthave: number;
}

export interface ConnectionSummary {
  initiator: SideSummary;
  responder: SideSummary;
  encrypted?: boolean;
  gaps: number;
  findings?: Record<Severity, number>;
  /** Its state was released after a silence (a `released` event); what followed is another connection. */
  released?: true;
  /** Findings not judged because the capture lost what they need (the `unjudged` record's counts). */
  unjudged?: Record<string, Record<string, number>>;
  /** request-stalled findings on the connection, and the longest stall in seconds (as far as the input shows it). */
  stalls?: { count: number; longest: number };
}

/** Warnings that concern the whole input, not one connection (truncated capture, bad packet). */
export interface InputWarning {
  event: 'warning';
  ts?: number;
  /** The packet it is about, when it is about one. */
  frame?: number;
  message: string;
  /** Byte offset in the capture file where the problem was found. */
  offset?: number;
}

export type AnyRecord = MessageRecord | EventRecord | InputWarning;

export function isMessage(r: AnyRecord): r is MessageRecord {
  return 'msg' in r;
}

/**
 * Where records go. `raw`, when given, is the message's bytes on the wire (for a piece message it may
 * stop after the block header); it is a view valid only during the call: a sink that keeps it copies it.
 */
/**
 * Where a message's bytes lie in the capture stream: offset, length pairs, in stream order (a
 * message spans several packets). Valid only during the sink call, like `raw`.
 */
export type ByteExtents = readonly number[];

/**
 * A message in more runs than this (a stream of tiny segments) is not located: tracking is bounded
 * per flow whatever the peers send, and its first bytes are all the UI shows of it.
 */
export const MAX_EXTENT_PAIRS = 4096;

/**
 * What the decoder knew about a record beyond its fields, valid only during the sink call (never
 * serialized). An extended message carries the extension mappings in force of its sender and its
 * receiver, the ones the decoder resolved its id with: the analyzer reads them instead of keeping
 * mappings of its own.
 */
export interface DecodeContext {
  mappings?: { sender: MappingView; receiver: MappingView };
}

/**
 * Receives every record in order. `raw`: the message's bytes (a view valid only during the call);
 * `where`: where they lie in the capture, when the pipeline was asked to locate them; `context`:
 * see DecodeContext.
 */
export type RecordSink = (record: AnyRecord, raw?: Uint8Array, where?: ByteExtents, context?: DecodeContext) => void;
