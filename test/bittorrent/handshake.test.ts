// Client names from the handshake's peer id (src/bittorrent/handshake.ts), on handshakes cut from
// real captures.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeHandshake } from '../../src/bittorrent/handshake.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));

// aria2 1.36.0's handshake (samples/aria2-magnet.pcap, frame 6): peer id "A2-1-36-0-" + 10 random bytes
const ARIA2 = hex('13426974546f7272656e742070726f746f636f6c00000000001000044dd297bb86d29b243d98dd5da72541518b35444e41322d312d33362d302d0271c09b87e6793722f2');

test('aria2 1.36 is named from its A2-1-36-0- peer id (bittorrent-peerid knows only -aria2-)', () => {
  const hs = decodeHandshake(ARIA2);
  assert.equal(hs.fields.client, 'aria2 1.36.0');
  assert.deepEqual(hs.fields.extensions, ['extension_protocol', 'fast']);
});

test('a peer id that only starts like aria2 is not named aria2', () => {
  const id = Buffer.from(ARIA2);
  Buffer.from('A2-x-36-0-').copy(id, 48);
  assert.notEqual(decodeHandshake(Uint8Array.from(id)).fields.client?.startsWith('aria2'), true);
});
