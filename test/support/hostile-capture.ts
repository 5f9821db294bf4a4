// A capture whose peer strings are hostile: a client (`v`) and an extension name holding HTML,
// script, event handlers, quotes, Markdown table and fence syntax and mermaid statement syntax,
// in a real-looking conversation that gives findings naming them. The same conversation with
// plain strings of the same shape is the control. Written with the project's PcapWriter.
import { PcapWriter } from '../../src/capture/pcap-writer.js';
import { concat, donthave, extended, extHandshake, handshake, msg, request, u32 } from './bt-bytes.js';

export const HOSTILE_V = `"'><script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">|\`\`\`\n%%;#-->>B: x</details>`;
export const HOSTILE_EXT = '<svg onload=window.__pwned=3>|`';
export const HOSTILE_PEER_ID = '"><b onclick=x>|`#;'.padEnd(20, '!');

export interface Strings {
  v: string;
  ext: string;
  peerId: string;
}

/** Plain strings with the same lengths: what the hostile report must look like, element for element. */
export const PLAIN: Strings = { v: 'p'.repeat(HOSTILE_V.length), ext: 'e'.repeat(HOSTILE_EXT.length), peerId: 'q'.repeat(20) };
export const HOSTILE: Strings = { v: HOSTILE_V, ext: HOSTILE_EXT, peerId: HOSTILE_PEER_ID };

export async function writeHostileCapture(path: string, s: Strings): Promise<void> {
  const w = new PcapWriter(path);
  await w.opened();
  let ts = 1_800_000_000;
  const f = w.flow({ ip: '10.0.0.1', port: 40000 }, { ip: '10.0.0.2', port: 6881 }, ts);
  f.established((ts += 0.001));
  const send = (dir: 0 | 1, bytes: Uint8Array): void => void f.data(dir, bytes, (ts += 0.01));
  send(0, handshake({ peerId: s.peerId }));
  send(1, handshake({ peerId: '-WW0100-wellbehaved!' }));
  send(0, extHandshake({ m: { lt_donthave: 3, [s.ext]: 7 }, v: s.v }));
  send(1, extHandshake({ m: { lt_donthave: 5, ut_pex: 1 }, v: 'Benign 1.0' }));
  send(1, msg(5, Uint8Array.of(0xff, 0xff)));
  send(0, msg(5, Uint8Array.of(0x0f, 0x00)));
  send(1, msg(1));
  send(0, msg(2));
  for (let p = 0; p < 8; p++) send(0, request(p, 0, 16384));
  // The seeder withdraws piece 2; the client asks for it again and sends a block too large.
  send(1, donthave(3, 2));
  send(0, request(2, 0, 16384));
  send(0, request(3, 0, 32768));
  // lt_donthave for a piece the client never announced, and an id nobody advertised.
  send(0, donthave(5, 9));
  send(0, extended(9, concat(u32(1))));
  f.fin(0, (ts += 0.01));
  f.fin(1, (ts += 0.01));
  await w.close();
}
