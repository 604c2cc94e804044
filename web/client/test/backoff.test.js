import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay } from '../kubecast.js';
import { setup, seededRandom, flush } from '../testing/fakes.js';

const BASE = 500;
const CAP = 30000;
const bound = (attempt) => Math.min(CAP, BASE * 2 ** attempt);

test('backoffDelay stays within [0, min(cap, base * 2^attempt)) for every attempt and random value', () => {
  const randoms = [0, 1e-9, 0.25, 0.5, 0.999999999];
  for (let attempt = 0; attempt <= 40; attempt += 1) {
    for (const r of randoms) {
      const delay = backoffDelay(attempt, () => r);
      assert.ok(delay >= 0, `attempt ${attempt}: ${delay} < 0`);
      assert.ok(delay <= bound(attempt), `attempt ${attempt}: ${delay} > ${bound(attempt)}`);
      assert.ok(delay <= CAP);
    }
  }
  // Full jitter: the delay is random * bound, not a fixed step plus a little noise.
  assert.equal(backoffDelay(3, () => 0), 0);
  assert.equal(backoffDelay(3, () => 0.5), 2000);
  assert.equal(backoffDelay(20, () => 0.5), 15000);
});

/** Lets the server refuse `count` connections in a row; returns each reconnect delay. */
async function measureReconnectDelays(h, count) {
  const delays = [];
  h.client.start();
  await flush();
  for (let i = 0; i < count; i += 1) {
    const ws = h.server.lastSocket;
    const before = h.server.sockets.length;
    ws.serverClose(1006);
    const closedAt = h.clock.time;
    await h.clock.runUntil(() => h.server.sockets.length > before);
    delays.push(h.server.lastSocket.createdAt - closedAt);
  }
  return delays;
}

test('reconnect delays through the client are full-jitter bounded and never above 30 s', async () => {
  const h = setup({ random: seededRandom(42) });
  h.server.down = true; // polls fail too: the client stays `reconnecting`
  const delays = await measureReconnectDelays(h, 14);
  delays.forEach((delay, attempt) => {
    assert.ok(delay >= 0 && delay <= bound(attempt), `attempt ${attempt}: ${delay} not in [0, ${bound(attempt)}]`);
  });
  assert.ok(Math.max(...delays) <= CAP);
  // Late attempts are capped but still spread (jitter), not all equal to the cap.
  const late = delays.slice(7);
  assert.ok(new Set(late).size > 1, `no jitter: ${late}`);
  assert.ok(late.some((d) => d < CAP * 0.9), `late delays all near the cap: ${late}`);
  assert.equal(h.client.status, 'reconnecting');
});

test('different random sources give different reconnect schedules', async () => {
  const a = await measureReconnectDelays(setup({ random: seededRandom(1) }), 6);
  const b = await measureReconnectDelays(setup({ random: seededRandom(2) }), 6);
  assert.notDeepEqual(a, b);
});

test('the backoff starts over after a connection that stayed live, not after a short one', async () => {
  const h = setup({ random: () => 0.99 });
  h.server.down = true;
  await measureReconnectDelays(h, 6); // attempt counter is now 6
  h.server.down = false;

  // A connection that is live for 2 s only: the next delay keeps growing.
  let ws = h.server.lastSocket;
  ws.hello();
  ws.snapshot();
  await h.clock.advance(2000);
  let before = h.server.sockets.length;
  ws.serverClose(1001);
  let closedAt = h.clock.time;
  await h.clock.runUntil(() => h.server.sockets.length > before);
  assert.equal(h.server.lastSocket.createdAt - closedAt, 0.99 * CAP);

  // A connection live for 60 s: the next delay is back to the first step (< 500 ms).
  ws = h.server.lastSocket;
  ws.hello();
  for (let i = 0; i < 30; i += 1) {
    await h.clock.advance(2000);
    ws.position();
  }
  before = h.server.sockets.length;
  ws.serverClose(1001);
  closedAt = h.clock.time;
  await h.clock.runUntil(() => h.server.sockets.length > before);
  assert.equal(h.server.lastSocket.createdAt - closedAt, 0.99 * BASE);
});
