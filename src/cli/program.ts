// The command-line program: options, subcommands, help. Actions live in capture-command.ts and
// proxy/proxy-command.ts; this file only describes them.
import { Command, InvalidArgumentError, Option, type OutputConfiguration } from 'commander';
import { runCaptureCommand } from './capture-command.js';
import { DEFAULT_BPF } from '../capture/live-capture.js';
import { runProxyCommand } from '../proxy/proxy-command.js';
import { parseExtMap, type GivenMapping } from '../bittorrent/extensions.js';
import { FAIL_ON_LEVELS, type FailOn } from '../output/check-writer.js';
import { DEFAULT_STALL_SECONDS } from '../analysis/stall-tracker.js';
import type { RunIo } from './io.js';

export const VERSION = '0.1.0';

/** The program on `io`: help, usage errors and the commands' output go to its streams. */
export function buildProgram(setExitCode: (code: number) => void, io: RunIo): Command {
  const program = new Command('ltdh-inspect')
    .version(VERSION)
    .description(
      // Commander wraps each line to the terminal's width: one line per paragraph.
      'Decode BitTorrent peer-wire traffic (BEP 3/6/9/10/11/29/52/54) from a capture or a live proxy. ' +
        "Extended messages are named through the receiving peer's BEP 10 mapping; every lt_donthave " +
        '(BEP 54) is labelled with its piece index. Interactive timeline on a terminal, text otherwise.',
    )
    .argument('[capture]', 'pcap or pcapng file (gzip-compressed too); "-" reads standard input, e.g. tcpdump -U -w - | ltdh-inspect -')
    .option('--json', 'one JSON record per line (format: docs/json.md)')
    .option('--no-tui', 'print the text timeline even when stdout is a terminal')
    .option('-r, --read <file>', 'read this capture (tshark -r); the same as giving it as the argument')
    .option('-Y, --filter <expr>', "show only records matching a display filter, e.g. 'lt_donthave and piece == 30'")
    .addOption(new Option('-c, --count <n>', 'stop after reading N packets (tshark -c)').argParser(positiveInt))
    .option('-i, --interface <iface>', 'capture live on IFACE by running tcpdump (or dumpcap), e.g. -i lo; needs root or CAP_NET_RAW')
    .option('-f, --bpf <filter>', `capture filter for -i (BPF, as tcpdump takes it; default '${DEFAULT_BPF}')`)
    .addOption(new Option('-p, --port <port>', 'decode flows on this port even when their handshake was not captured (repeatable)').argParser(collectPort))
    .addOption(
      new Option('--ext-map <endpoint=name:id,...>', 'Decode As: the extension ids ENDPOINT (ip:port, or ip for every port) advertised in an extended handshake the capture missed, e.g. 10.0.0.2:6881=lt_donthave:3,ut_pex:1 (repeatable)').argParser(
        collectExtMap,
      ),
    )
    .option('--stats', 'print statistics instead of the timeline: Conversations (one row per connection), message types per direction, bytes/s per direction (IO graph); of what --filter keeps; with --json as one object')
    .option('--check', 'print findings and a verdict; exit 1 if any error-level finding, whatever becomes of stdout (| head -1 too); with --json: the finding records, then one {"event":"verdict",...} record (see --fail-on)')
    .addOption(new Option('--fail-on <severity>', 'with --check: the lowest severity that fails the check, error or warning (warning: a request-stalled or any other warning fails too)').choices(FAIL_ON_LEVELS).default('error'))
    .addOption(stallOption())
    .option('--torrent <file>', '.torrent of the swarm: piece count and hashes for range and hash checks')
    .option('--no-summary', 'leave out the per-connection summary at the end')
    .option('-w, --export <file>', '(tshark -w) write every packet of the connections that have a record matching --filter (all connections without one) to FILE: pcap, or pcapng when FILE ends in .pcapng; link type and timestamps kept. Works from stdin')
    .addOption(
      new Option('--report <file>', 'write a report of those connections to hand to other developers: FILE.html (one self-contained page: findings, extension maps, piece maps, message ladder) or FILE.md (GitHub Markdown with mermaid diagrams); repeatable').argParser(collectText),
    )
    .addOption(
      new Option(
        '--idle-timeout <seconds>',
        'release a connection silent this long in capture time (a "released" record; if it speaks again it is decoded as one first seen mid-stream); half-open and handshake-only ones after at most 30 s (10 s while over 16384 flows are tracked, as in a SYN scan); 0 keeps every one (default: 600)',
      ).argParser(parseSeconds),
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  ltdh-inspect capture.pcapng                      interactive timeline\n' +
        '  ltdh-inspect capture.pcap --json | jq .          records for scripts\n' +
        "  ltdh-inspect capture.pcap --filter 'lt_donthave' text timeline of lt_donthave only\n" +
        '  ltdh-inspect capture.pcap --check --torrent x.torrent   interop verdict for CI\n' +
        '  sudo tcpdump -i any -U -w - port 6881 | ltdh-inspect - --no-tui\n' +
        "  sudo ltdh-inspect -i any -f 'tcp port 6881'         live capture (runs tcpdump)\n" +
        "  ltdh-inspect -r capture.pcap -Y lt_donthave -c 1000 tshark-style flags\n" +
        "  ltdh-inspect capture.pcap --filter 'lt_donthave' --export bug.pcapng --report bug.html --report bug.md\n" +
        '                                                   a minimal capture and reports for a bug report\n' +
        '  ltdh-inspect proxy :6881 peer.example:6881       relay and decode a live connection\n' +
        '\nExit status: 0 decoded (--check: no error finding; with --fail-on warning, no warning either), 1 --check failed, 2 input unreadable, output unwritable (full disk) or bad arguments.',
    )
    .action(async (capture: string | undefined, options: CaptureCliOptions, command: Command) => {
      const inputs = [capture, options.read, options.interface].filter((x) => x !== undefined);
      if (inputs.length > 1) command.error('give one input: a capture file, -r FILE or -i IFACE', { exitCode: 2 });
      if (options.bpf !== undefined && options.interface === undefined) command.error('-f is a capture filter for -i; for a file use -Y', { exitCode: 2 });
      if (inputs.length === 0) command.help({ error: true });
      setExitCode(await runCaptureCommand(capture ?? options.read, options, io));
    });

  // Set before `proxy` exists: commander copies these settings to a subcommand when it is created.
  // exitOverride makes usage errors throw (main turns them into exit status 2 instead of 1).
  program.exitOverride();
  program.configureOutput({ ...outputTo(io), ...oneLineErrors('ltdh-inspect --help') });

  program
    .command('proxy')
    .description('relay every connection accepted on LISTEN to TARGET, bytes untouched, decoding both directions as they pass')
    .argument('<listen>', '[host]:port to listen on (":6881" binds every interface)')
    .argument('<target>', 'host:port to relay to (IPv6 as [addr]:port)')
    .option('--json', 'one JSON record per line')
    .option('--no-tui', 'print the text timeline even when stdout is a terminal')
    .option('--filter <expr>', 'show only records matching a display filter')
    .option('--save <file>', 'also write what was relayed as a pcap capture (reopen it with ltdh-inspect FILE)')
    .addOption(stallOption())
    .addOption(new Option('--torrent <file>', 'decrypt MSE/PE sessions of this torrent (its info hash is the shared secret; repeatable)').argParser(collectText))
    .addOption(new Option('--info-hash <hex>', 'decrypt MSE/PE sessions of this info hash (40 or 64 hex digits; repeatable)').argParser(collectText))
    .option('--no-summary', 'leave out the per-connection summary at the end')
    .configureOutput(oneLineErrors('ltdh-inspect proxy --help'))
    .action(async (listen: string, target: string, options: ProxyCliOptions) => {
      setExitCode(await runProxyCommand(listen, target, options, io));
    });

  // Without this the top-level options (--json, --filter, ...) are also taken from after `proxy`, so
  // `ltdh-inspect proxy A B --json` would set the capture command's --json and the proxy's would stay unset.
  program.enablePositionalOptions();
  // `ltdh-inspect help` and `ltdh-inspect help proxy` print the help, as git and npm users expect
  // (commander offers it only to programs without an action of their own). A capture file named
  // "help" is still read as ./help.
  program.helpCommand('help [command]', 'show the help of ltdh-inspect or of a command (help proxy)');
  return program;
}

/**
 * `--stall SECONDS`, for both commands: how long a peer may leave requests unanswered (no piece,
 * reject or choke) before the request-stalled warning; capture time for a file, wall-clock time in
 * the proxy.
 */
function stallOption(): Option {
  return new Option(
    '--stall <seconds>',
    'raise request-stalled (a warning) when a peer that unchoked the requester sends no piece, reject or choke for this long while requests wait (capture time; the proxy: wall-clock)',
  )
    .argParser(parseStall)
    .default(DEFAULT_STALL_SECONDS);
}

function parseStall(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0) || n > 86400) throw new InvalidArgumentError('a number of seconds above 0 (at most 86400), e.g. 10 or 2.5');
  return n;
}

export interface CaptureCliOptions {
  json?: boolean;
  tui: boolean;
  filter?: string;
  read?: string;
  count?: number;
  interface?: string;
  bpf?: string;
  port?: number[];
  extMap?: GivenMapping[];
  check?: boolean;
  failOn: FailOn;
  stall: number;
  stats?: boolean;
  torrent?: string;
  summary: boolean;
  idleTimeout?: number;
  export?: string;
  report?: string[];
}

export interface ProxyCliOptions {
  json?: boolean;
  tui: boolean;
  filter?: string;
  save?: string;
  stall: number;
  summary: boolean;
  torrent?: string[];
  infoHash?: string[];
}

/** Help and errors on the run's streams, wrapped and coloured as commander does for the process's. */
function outputTo(io: RunIo): OutputConfiguration {
  return {
    writeOut: (text) => void io.stdout.write(text),
    writeErr: (text) => void io.stderr.write(text),
    getOutHelpWidth: () => (io.isTTY ? io.stdout.columns : undefined) ?? 80,
    getErrHelpWidth: () => io.stderr.columns ?? 80,
    // The help has no colour of its own to keep or strip.
    getOutHasColors: () => false,
    getErrHasColors: () => false,
  };
}

/** Usage errors as one line on stderr, with where to read more. */
function oneLineErrors(help: string): { outputError: (text: string, write: (s: string) => void) => void } {
  return { outputError: (text, write) => write(`ltdh-inspect: ${text.trim().replace(/^error: /, '')} (see ${help})\n`) };
}

// Repeatable options start undefined (a default would be printed in --help as "(default: [])").
function collectText(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function collectExtMap(value: string, previous: GivenMapping[] | undefined): GivenMapping[] {
  const given = parseExtMap(value);
  if (typeof given === 'string') throw new InvalidArgumentError(given);
  return [...(previous ?? []), given];
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !Number.isFinite(n)) throw new InvalidArgumentError('seconds are a number, 0 or more');
  return n;
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

function collectPort(value: string, previous: number[] | undefined): number[] {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port < 1 || port > 65535) throw new InvalidArgumentError('a port is a number from 1 to 65535');
  return [...(previous ?? []), port];
}
