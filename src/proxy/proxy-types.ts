// What the proxy's modules share: its options, the report on each relayed connection, how an
// endpoint is written and the clock records are dated by.
import type { RecordSink } from '../model/record.js';
import type { FlowInfo, StreamHandler } from '../transport/types.js';
import type { BtContext } from '../bittorrent/types.js';

export type DecoderFactory = (info: FlowInfo, ctx: BtContext) => StreamHandler;

export interface ProxyOptions {
  listen: { host?: string; port: number };
  target: { host: string; port: number };
  sink: RecordSink;
  /** Also write what is relayed as a pcap file. */
  save?: string;
  onLog?: (line: string) => void;
  /** Decoder per connection; BtConnection by default. */
  decoder?: DecoderFactory;
  /** Info hashes (20 bytes each) the proxy may use as MSE/PE shared secret to decrypt sessions. */
  infoHashes?: readonly Uint8Array[];
  /** A connection is over (both sockets closed) and its decoder has flushed every record. */
  onConnectionEnd?: (conn: number) => void;
  /** With `save`: give each message's location in the --save file (ByteExtents) to the sink. */
  locate?: boolean;
}

export type ConnectionEnd = 'closed' | 'reset' | 'refused' | 'error' | 'aborted';

export interface ConnectionReport {
  conn: number;
  client: string;
  target: string;
  openedAt: number;
  closedAt?: number;
  /** Bytes client -> target and target -> client. */
  bytesUp: number;
  bytesDown: number;
  end?: ConnectionEnd;
  reason?: string;
  /** The decoder threw; decoding stopped, relaying went on. */
  decoderError?: string;
}

/** "ip:port", IPv6 as "[addr]:port", IPv4-mapped IPv6 as plain IPv4. */
export function endpoint(ip: string, port: number): string {
  const plain = ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
  return plain.includes(':') ? `[${plain}]:${port}` : `${plain}:${port}`;
}

/** Seconds since the epoch with sub-millisecond resolution (Date.now() has only milliseconds). */
export function now(): number {
  return (performance.timeOrigin + performance.now()) / 1000;
}
