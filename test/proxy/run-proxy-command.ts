// Child process for proxy-command tests: `node --import tsx run-proxy-command.ts LISTEN TARGET [--json] [--save F]`.
import { runProxyCommand } from '../../src/proxy/proxy-command.js';

const [listen = '', target = '', ...rest] = process.argv.slice(2);
const save = rest.includes('--save') ? rest[rest.indexOf('--save') + 1] : undefined;
const io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, isTTY: false, exit: (code: number) => process.exit(code), argv: process.argv.slice(2) };
process.exitCode = await runProxyCommand(listen, target, { json: rest.includes('--json'), save, tui: false, summary: true }, io);
