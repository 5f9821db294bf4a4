// Shared by the tests that drive Debian's python3-libtorrent peers through the proxy: whether
// libtorrent can be imported, running a peer script, free ports, and labels for what peers logged.
import { execFile, spawnSync } from 'node:child_process';

export { freePort } from '../support/free-port.js';

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

/** Runs `script` with /usr/bin/python3; its stdout. */
export function runPython(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(PYTHON, [script, ...args], { timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}
