import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ArgumentError, parseListen, parseTarget, resolveTarget } from '../../src/proxy/address.js';

test('LISTEN: [host]:port, :port (every interface), port, IPv6 in brackets', () => {
  assert.deepEqual(parseListen(':6881'), { host: undefined, port: 6881 });
  assert.deepEqual(parseListen('6881'), { host: undefined, port: 6881 });
  assert.deepEqual(parseListen('127.0.0.1:6881'), { host: '127.0.0.1', port: 6881 });
  assert.deepEqual(parseListen('[::1]:6881'), { host: '::1', port: 6881 });
  assert.deepEqual(parseListen('localhost:0'), { host: 'localhost', port: 0 });
  for (const bad of ['', ':', 'x', ':65536', '::1:6881', '1.2.3.4:-1', ':68a1', '[::1]6881']) {
    assert.throws(() => parseListen(bad), ArgumentError, bad);
  }
});

test('TARGET: host:port, IPv6 as [addr]:port, names resolved', async () => {
  assert.deepEqual(parseTarget('peer.example:6881'), { host: 'peer.example', port: 6881 });
  assert.deepEqual(parseTarget('[2001:db8::1]:51413'), { host: '2001:db8::1', port: 51413 });
  for (const bad of ['6881', ':6881', 'host:0', 'host:70000', '[notv6]:1', '2001:db8::1:6881', 'host:']) {
    assert.throws(() => parseTarget(bad), ArgumentError, bad);
  }
  assert.deepEqual(await resolveTarget({ host: 'localhost', port: 1 }).then((t) => ['127.0.0.1', '::1'].includes(t.host)), true);
  await assert.rejects(resolveTarget({ host: 'no-such-host.invalid', port: 1 }), ArgumentError);
});
