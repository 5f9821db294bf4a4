// Shared by the tests that drive Debian's python3-libtorrent peers through the proxy: whether
// libtorrent can be imported, running a peer script, free ports, and labels for what peers logged.
import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

export const PYTHON = '/usr/bin/python3';

const probe = spawnSync(PYTHON, ['-c', 'import libtorrent'], { encoding: 'utf8' });
/** A skip reason when /usr/bin/python3 cannot import libtorrent, else false. */
export const noLibtorrent: string | false =
  probe.status !== 0 && `${PYTHON} cannot import libtorrent (Debian python3-libtorrent): ${(probe.stderr || String(probe.error ?? '')).trim().split('\n').at(-1)}`;

/** A message as a peer's log names it. */
export interface PeerSeen {
  msg: string;
  ext?: string;
  piece?: number;
}

export const label = (m: PeerSeen): string => `${m.msg}${m.ext !== undefined ? `:${m.ext}` : ''}${m.piece !== undefined ? `#${m.piece}` : ''}`;

/**
 * A port for a libtorrent peer to listen on. Taken below the kernel's ephemeral range: a port the
 * kernel hands out (for port 0 or an outgoing connection of another test file running at the same
 * time) could be taken between this check and the peer's bind, and the peer would then listen
 * elsewhere and the proxy's target would refuse (a CI run lost a transfer that way).
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

/** Runs `script` with /usr/bin/python3; its stdout. */
export function runPython(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(PYTHON, [script, ...args], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}
