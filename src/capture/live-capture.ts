// `-i IFACE [-f BPF]`: live capture by running tcpdump (or dumpcap) with the capture written to its
// stdout, as `tcpdump -i IFACE -U -w - BPF` would be piped in by hand. This file is the edge that
// owns the child process: starting it, telling why it could not start, stopping it at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { InputError } from './source.js';

/** tshark's habit: all of TCP and UDP (uTP rides on UDP), nothing else. */
export const DEFAULT_BPF = 'tcp or udp';
/** Stderr kept from the capture program to explain a failure (bounded: it is another program's). */
const MAX_STDERR = 4096;
/** How long to wait for the "listening on" banner before taking silence as a running capture. */
const BANNER_WAIT_MS = 5000;

export interface LiveCapture {
  /** The capture bytes (pcap from tcpdump, pcapng from dumpcap), as they are written. */
  readonly chunks: AsyncIterable<Uint8Array>;
  /** "tcpdump -i lo 'tcp or udp'": what runs, for labels and messages. */
  readonly label: string;
  /** Stops the capture program now; the chunks end. Safe to call more than once. */
  stop(): void;
}

interface Program {
  name: 'tcpdump' | 'dumpcap';
  args(iface: string, bpf: string): string[];
}

const PROGRAMS: readonly Program[] = [
  // -U: a packet is written as soon as it is captured, not when a 4 KiB buffer fills.
  { name: 'tcpdump', args: (iface, bpf) => ['-i', iface, '-U', '-w', '-', '-s', '0', ...(bpf === '' ? [] : [bpf])] },
  // -P: pcap instead of pcapng is not needed (pcapng is read too); -q: no packet counts on stderr.
  { name: 'dumpcap', args: (iface, bpf) => ['-i', iface, '-w', '-', '-q', ...(bpf === '' ? [] : ['-f', bpf])] },
];

/**
 * Starts tcpdump, or dumpcap when tcpdump is not installed, and waits until it is capturing (or has
 * failed: then an InputError says why in one line: neither program installed, no permission, no
 * such interface, a bad filter). `programs` is for tests.
 */
export async function startLiveCapture(iface: string, bpf = DEFAULT_BPF, programs: readonly Program[] = PROGRAMS): Promise<LiveCapture> {
  const missing: string[] = [];
  for (const program of programs) {
    const started = await tryStart(program, iface, bpf);
    if (started === 'missing') {
      missing.push(program.name);
      continue;
    }
    return started;
  }
  throw new InputError(`-i needs ${missing.join(' or ')} to capture, and neither is installed (apt install tcpdump)`);
}

async function tryStart(program: Program, iface: string, bpf: string): Promise<LiveCapture | 'missing'> {
  const args = program.args(iface, bpf);
  const label = `${program.name} -i ${iface}${bpf === '' ? '' : ` '${bpf}'`}`;
  let child: ChildProcess;
  try {
    child = spawn(program.name, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  } catch {
    return 'missing';
  }
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  const outcome = await new Promise<'missing' | 'ready' | { exit: number | null }>((resolve) => {
    child.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ENOENT' ? 'missing' : { exit: null }));
    child.stderr!.on('data', (text: string) => {
      if (stderr.length < MAX_STDERR) stderr += text;
      // Both print "listening on IFACE" / "Capturing on 'IFACE'" once the capture runs.
      if (/listening on|capturing on/i.test(stderr)) resolve('ready');
    });
    child.once('exit', (code) => resolve({ exit: code }));
    // A program that prints no banner and is still running after a while is capturing.
    setTimeout(() => resolve('ready'), BANNER_WAIT_MS).unref();
  });
  if (outcome === 'missing') return 'missing';
  if (outcome !== 'ready') throw new InputError(`${label}: ${failureText(stderr, program.name)}`);
  let stopped = false;
  const stop = (): void => {
    if (stopped) return;
    stopped = true;
    child.kill('SIGTERM');
    // The process may hold no more bytes worth reading: the stream ends now, not when it exits.
    child.stdout!.destroy();
  };
  const exited = new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
  return { chunks: chunksOf(child, exited, () => stopped, () => failureText(stderr, program.name)), label, stop };
}

/**
 * The child's stdout. A program that announced its capture and then failed before writing a byte
 * (dumpcap prints "Capturing on" before it finds it lacks permission) ends with its reason.
 */
async function* chunksOf(child: ChildProcess, exited: Promise<number | null>, stopped: () => boolean, why: () => string): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  try {
    for await (const chunk of child.stdout! as AsyncIterable<Buffer>) {
      bytes += chunk.length;
      yield chunk;
    }
  } catch {
    // destroyed by stop(): the capture simply ends
  }
  if (bytes === 0 && !stopped() && (await exited) !== 0) throw new InputError(why());
}

/** One line from the program's stderr, with what to do about the usual causes. */
function failureText(stderr: string, name: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.replace(/[\x00-\x1f\x7f]/g, '').trim())
    .filter((l) => l !== '' && !/^(warning|usage|\s)/i.test(l));
  const line = (lines.find((l) => /permission|not permitted|denied|no such device|syntax error|doesn't exist|not found/i.test(l)) ?? lines[0] ?? `${name} exited without capturing`).slice(0, 300);
  if (/permission|not permitted|denied/i.test(line)) return `permission denied: ${line} (run as root, or give ${name} the CAP_NET_RAW capability)`;
  return line;
}
