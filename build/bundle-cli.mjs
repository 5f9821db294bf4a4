// Bundles the command-line program into dist/cli/main.js (overwriting tsc's unbundled copy; the
// library under dist/ stays as tsc wrote it). Measured: importing ink as ~80 separate ES modules takes
// about 0.4 s on this machine and bundled about 0.1 s, and the UI's first screen must appear within
// 300 ms. The UI stays a separate chunk, loaded only when stdout is a terminal.
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Chunk names carry a content hash: old ones would pile up.
rmSync(new URL('../dist/cli/chunks', import.meta.url), { recursive: true, force: true });

await build({
  absWorkingDir: root,
  entryPoints: { main: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // React's production build; the development build checks every render and is slower.
  // yoga-layout's emscripten loader fetch()es its inline wasm data: URL when fetch exists, which on
  // Node loads undici first (about 40 ms of the UI's start); without fetch it decodes the bytes itself.
  // Nothing else in the program uses fetch.
  define: { 'process.env.NODE_ENV': '"production"', fetch: 'undefined' },
  // ink imports react-devtools-core only when DEV=true; it is not installed, so it must not be bundled.
  alias: { 'react-devtools-core': './build/no-devtools.mjs' },
  // Bundled CommonJS dependencies (react, bencode helpers) still call require.
  banner: { js: "import { createRequire as __ltdhRequire } from 'node:module'; const require = __ltdhRequire(import.meta.url);" },
  legalComments: 'none',
  minify: !process.env.LTDH_NO_MINIFY,
  logLevel: 'warning',
});
