// The live relay: a listener whose every accepted client gets its own upstream connection
// (connection-relay.ts); bytes are forwarded first (with backpressure, half-close and resets passed
// through), then tapped into a decoder.
import { createServer, type Server } from 'node:net';
import { PcapWriter } from '../capture/pcap-writer.js';
import { Relay } from './connection-relay.js';
import { now, endpoint, type ConnectionReport, type DecoderFactory, type ProxyOptions } from './proxy-types.js';
import { SOCKET_BUFFER } from './socket-io.js';

export { endpoint, now, type ConnectionEnd, type ConnectionReport, type DecoderFactory, type ProxyOptions } from './proxy-types.js';

export interface ProxyHandle {
  /** The listening endpoint, "ip:port". */
  address: string;
  port: number;
  /** Connections currently relayed. */
  readonly active: number;
  /** Bytes read from a socket and not yet taken by the kernel on the other side or by the --save file (bounded by backpressure). */
  readonly queued: number;
  /** Stops accepting, closes every connection, flushes the decoders and the --save file (once: later calls get the same). */
  close(): Promise<ConnectionReport[]>;
}

export async function startProxy(opts: ProxyOptions): Promise<ProxyHandle> {
  const decoder = opts.decoder ?? (await defaultDecoder());
  const pcap = opts.save !== undefined ? new PcapWriter(opts.save, (err) => saveFailed(opts, err)) : undefined;
  if (pcap) await pcap.opened();
  const reports: ConnectionReport[] = [];
  const live = new Set<Relay>();
  let nextConn = 1;
  const server: Server = createServer({ allowHalfOpen: true, pauseOnConnect: true, highWaterMark: SOCKET_BUFFER }, (client) => {
    const relay = new Relay(nextConn++, client, opts, decoder, pcap, () => live.delete(relay));
    live.add(relay);
    reports.push(relay.report);
  });
  try {
    await listen(server, opts.listen);
  } catch (err) {
    await pcap?.close();
    throw err;
  }
  server.on('error', (err) => opts.onLog?.(`listener error: ${err.message}`));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : opts.listen.port;
  const host = typeof addr === 'object' && addr !== null ? addr.address : '';
  let closing: Promise<ConnectionReport[]> | undefined;
  const close = async (): Promise<ConnectionReport[]> => {
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    await Promise.all([...live].map((r) => r.abort()));
    await stopped;
    await pcap?.close();
    return reports;
  };
  return {
    address: endpoint(host, port),
    port,
    get active() {
      return live.size;
    },
    get queued() {
      let bytes = pcap?.queued ?? 0;
      for (const r of live) bytes += r.queued;
      return bytes;
    },
    close: () => (closing ??= close()),
  };
}

/** The --save file stopped taking writes: relaying and decoding go on, the user is told once. */
function saveFailed(opts: ProxyOptions, err: NodeJS.ErrnoException): void {
  const message = `cannot write ${opts.save}: ${err.code ?? err.message}; relaying goes on, the rest is not saved`;
  opts.onLog?.(message);
  try {
    opts.sink({ event: 'warning', ts: now(), message });
  } catch {
    // As for the relay's own events: a failing sink must not take the proxy down.
  }
}

async function defaultDecoder(): Promise<DecoderFactory> {
  const { BtConnection } = await import('../bittorrent/connection.js');
  return (info, ctx) => new BtConnection(info, ctx);
}

function listen(server: Server, where: { host?: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen({ port: where.port, host: where.host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}
