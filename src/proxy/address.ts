// LISTEN and TARGET arguments of `ltdh-inspect proxy`.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

export class ArgumentError extends Error {}

/** LISTEN is `[host]:port`, `port`, or `:port` (every interface). */
export function parseListen(text: string): { host?: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d+)$/.exec(text) ?? /^()()(\d+)$/.exec(text);
  if (m === null) throw new ArgumentError(`bad listen address "${text}": expected [host]:port`);
  const host = m[1] || m[2] || undefined;
  return { host, port: parsePort(m[3] ?? '', text, true) };
}

/** TARGET is `host:port`, IPv6 as `[addr]:port`. */
export function parseTarget(text: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d+)$/.exec(text);
  if (m === null) throw new ArgumentError(`bad target "${text}": expected host:port (IPv6 as [addr]:port)`);
  const host = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined && isIP(host) !== 6) throw new ArgumentError(`bad target "${text}": ${host} is not an IPv6 address`);
  return { host, port: parsePort(m[3] ?? '', text, false) };
}

function parsePort(digits: string, text: string, zeroOk: boolean): number {
  const port = Number(digits);
  if (!/^\d+$/.test(digits) || port > 65535 || (port === 0 && !zeroOk)) throw new ArgumentError(`bad port in "${text}"`);
  return port;
}

export async function resolveTarget(target: { host: string; port: number }): Promise<{ host: string; port: number }> {
  if (isIP(target.host) !== 0) return target;
  try {
    const { address } = await lookup(target.host);
    return { host: address, port: target.port };
  } catch (err) {
    throw new ArgumentError(`cannot resolve target ${target.host}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}
