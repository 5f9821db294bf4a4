// A port for a test's server that nothing else can take before the server binds it.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * A port for a server a test starts itself (a libtorrent peer; or nothing, for a dead target). It is
 * taken below the kernel's ephemeral range: a port the kernel hands out (for a port-0 listen or an
 * outgoing connection of another test file running at the same time) could be taken between this
 * check and the server's bind. libtorrent then listens on the next port up and the proxy's target
 * refuses: a CI run lost a transfer that way.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let tries = 0; tries < 50; tries++) {
    const port = 10_000 + Math.floor(Math.random() * Math.max(1, low - 10_000));
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port below ${low}`);
}

/** The first port of the kernel's ephemeral range (32768 when it cannot be read). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11_000 ? low : 32_768;
  } catch {
    return 32_768;
  }
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}
