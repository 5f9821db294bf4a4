// Proxy throughput: the same transfer of BitTorrent piece traffic direct and through the proxy
// (in a child process, decoding on), on loopback. Prints JSON: MB/s each way, ratio, proxy peak RSS.
// Usage: node --import tsx bench/proxy-throughput.ts [MB=500] [runs=3]
import { createServer, connect, type Server } from 'node:net';
import { once } from 'node:events';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startProxy } from '../src/proxy/relay.js';

const BLOCK = 16384;

if (process.argv[2] === '--child') {
  await runChild(Number(process.argv[3]));
} else {
  await main(Number(process.argv[2] ?? 500), Number(process.argv[3] ?? 3));
}

async function runChild(target: number): Promise<void> {
  let records = 0;
  const decoderDisabled = process.env.LTDH_BENCH_NO_DECODER === '1';
  const proxy = await startProxy({
    listen: { host: '127.0.0.1', port: 0 },
    target: { host: '127.0.0.1', port: target },
    sink: () => void records++,
    ...(decoderDisabled ? { decoder: () => ({ data() {}, gap() {}, end() {}, finish() {} }) } : {}),
  });
  const startRssMB = process.memoryUsage().rss / 1024 / 1024;
  process.stdout.write(`${proxy.port}\n`);
  process.stdin.resume();
  await once(process.stdin, 'end');
  await proxy.close();
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
  process.stdout.write(JSON.stringify({ records, startRssMB, peakRssMB: hwm ? Number(hwm[1]) / 1024 : null }) + '\n');
}

/** A handshake, then `mb` MB of piece messages (one reused buffer of several blocks). */
function pieceTraffic(): { handshake: Buffer; chunk: Buffer } {
  const handshake = Buffer.alloc(68);
  handshake[0] = 19;
  handshake.write('BitTorrent protocol', 1, 'latin1');
  handshake[25] = 0x10;
  const messages = 64;
  const chunk = Buffer.alloc(messages * (13 + BLOCK));
  for (let i = 0; i < messages; i++) {
    const at = i * (13 + BLOCK);
    chunk.writeUInt32BE(9 + BLOCK, at);
    chunk[at + 4] = 7;
    chunk.writeUInt32BE(i, at + 5);
    chunk.writeUInt32BE(0, at + 9);
  }
  return { handshake, chunk };
}

async function sinkServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((s) => {
    s.on('data', () => {});
    s.on('end', () => s.end());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as { port: number }).port };
}

/** Sender -> port, `mb` MB; returns MB/s measured until the receiver's FIN comes back. */
async function transfer(port: number, mb: number): Promise<number> {
  const { handshake, chunk } = pieceTraffic();
  const total = mb * 1024 * 1024;
  const s = connect({ host: '127.0.0.1', port });
  await once(s, 'connect');
  const t0 = process.hrtime.bigint();
  s.write(handshake);
  for (let sent = 0; sent < total; sent += chunk.length) {
    if (!s.write(chunk)) await once(s, 'drain');
  }
  s.end();
  s.resume();
  await once(s, 'end');
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  s.destroy();
  return total / 1024 / 1024 / secs;
}

async function main(mb: number, runs: number): Promise<void> {
  const { server, port } = await sinkServer();
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', String(port)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout.on('data', (d: Buffer) => {
    buf += d.toString();
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      lines.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  while (lines.length === 0) await new Promise((r) => setTimeout(r, 10));
  const proxyPort = Number(lines[0]);
  const direct: number[] = [];
  const proxied: number[] = [];
  for (let i = 0; i < runs; i++) {
    direct.push(await transfer(port, mb));
    proxied.push(await transfer(proxyPort, mb));
  }
  child.stdin.end();
  await once(child, 'exit');
  server.close();
  const stats = JSON.parse(lines[1] ?? '{}') as { records?: number; startRssMB?: number; peakRssMB?: number };
  const med = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] ?? 0;
  const result = {
    mb,
    runs,
    directMBps: Math.round(med(direct)),
    proxyMBps: Math.round(med(proxied)),
    ratio: Math.round((med(proxied) / med(direct)) * 1000) / 1000,
    proxyPeakRssMB: stats.peakRssMB !== null && stats.peakRssMB !== undefined ? Math.round(stats.peakRssMB) : null,
    proxyStartRssMB: Math.round(stats.startRssMB ?? 0),
    proxyRecords: stats.records,
    decoder: process.env.LTDH_BENCH_NO_DECODER === '1' ? 'off' : 'BtConnection',
    direct: direct.map(Math.round),
    proxied: proxied.map(Math.round),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
}
