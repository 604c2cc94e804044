import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, startLive } from '../testing/fakes.js';

/** Live client holding a, b and c at epoch e1. */
async function liveWithThree() {
  const h = setup();
  for (const name of ['a', 'b', 'c']) h.server.append('added', name);
  const ws = await startLive(h);
  assert.deepEqual([...h.client.objects.keys()].sort(), ['Pod/shop/a', 'Pod/shop/b', 'Pod/shop/c']);
  h.seen.objectChanges.length = 0;
  return { h, ws };
}

/** The server loses its log: a new epoch holding b (changed) and d only. */
function rebuildServer(h, epoch = 'e2') {
  h.server.newEpoch(epoch);
  h.server.append('added', 'b', { obj: { phase: 'Running' } });
  h.server.append('added', 'd');
}

test('a reset frame keeps the old view until the snapshot, which then replaces it', async () => {
  const { h, ws } = await liveWithThree();
  rebuildServer(h);
  ws.push({ type: 'reset', epoch: 'e2', seq: 2, reason: 'epoch' });
  ws.events([{ seq: 3, epoch: 'e2', op: 'added', kind: 'Pod', ns: 'shop', name: 'early' }]);
  assert.equal(h.client.objects.size, 3, 'old objects shown until the snapshot arrives');
  ws.snapshot(1); // in two parts

  assert.equal(h.client.epoch, 'e2');
  assert.equal(h.client.lastSeq, 2);
  assert.deepEqual([...h.client.objects.keys()].sort(), ['Pod/shop/b', 'Pod/shop/d']);
  assert.equal(h.client.objects.get('Pod/shop/b').obj.phase, 'Running');
  assert.deepEqual(
    h.seen.objectChanges.map((c) => `${c.type} ${c.key}`).sort(),
    ['added Pod/shop/d', 'deleted Pod/shop/a', 'deleted Pod/shop/c', 'modified Pod/shop/b'],
  );

  // Live events of the new epoch apply on top.
  ws.events([h.server.append('added', 'e')]);
  assert.equal(h.client.lastSeq, 3);
  assert.ok(h.client.objects.has('Pod/shop/e'));
});

test('a reset in the same epoch (trimmed): frames before the snapshot are not applied or gap-filled', async () => {
  const { h, ws } = await liveWithThree();
  for (let i = 0; i < 6; i += 1) h.server.append('updated', 'b', { obj: { i } });
  h.server.append('deleted', 'a');
  ws.push({ type: 'reset', epoch: 'e1', seq: h.server.head, reason: 'trimmed' });
  ws.events([{ seq: 11, epoch: 'e1', op: 'added', kind: 'Pod', ns: 'shop', name: 'early' }]);
  await h.clock.advance(0);
  assert.equal(h.server.requests.length, 0, 'no gap fill from the dead cursor');
  assert.equal(h.client.objects.has('Pod/shop/early'), false);
  ws.snapshot();
  assert.equal(h.client.lastSeq, 10);
  assert.deepEqual([...h.client.objects.keys()].sort(), ['Pod/shop/b', 'Pod/shop/c']);
  assert.equal(h.client.objects.get('Pod/shop/b').obj.i, 5);
});

test('410 on a poll replaces the state from GET /snapshot and drops stale objects', async () => {
  const { h, ws } = await liveWithThree();
  ws.serverClose(1001); // the socket is gone: the client catches up by polling
  rebuildServer(h, 'e1'); // the state moved on and our cursor (3) was trimmed away
  h.server.override = (url) =>
    url.pathname === '/events' ? { status: 410, ok: false, json: async () => ({ type: 'reset', reason: 'trimmed' }) } : undefined;
  await h.clock.advance(0);

  assert.equal(h.server.requestsTo('/events').length, 1);
  assert.equal(h.server.requestsTo('/snapshot').length, 1);
  assert.deepEqual([...h.client.objects.keys()].sort(), ['Pod/shop/b', 'Pod/shop/d']);
  assert.equal(h.client.lastSeq, 2);
  assert.ok(h.seen.objectChanges.some((c) => c.type === 'deleted' && c.key === 'Pod/shop/a'));
});

test('an events frame from another epoch is not applied; a snapshot is requested on the socket', async () => {
  const { h, ws } = await liveWithThree();
  rebuildServer(h);
  ws.events(h.server.log); // epoch e2, seqs 1..2, lower than our lastSeq 3
  assert.equal(h.client.epoch, 'e1');
  assert.equal(h.client.objects.size, 3);
  assert.deepEqual(ws.sent.at(-1), { type: 'get_snapshot' });
  ws.position(); // ignored while the snapshot is awaited
  ws.snapshot();
  assert.equal(h.client.epoch, 'e2');
  assert.deepEqual([...h.client.objects.keys()].sort(), ['Pod/shop/b', 'Pod/shop/d']);
});

test('a poll answered from another epoch loads a snapshot', async () => {
  const { h, ws } = await liveWithThree();
  ws.serverClose(1006);
  rebuildServer(h, 'e2');
  h.server.override = (url) =>
    url.pathname === '/events'
      ? { status: 200, ok: true, json: async () => ({ epoch: 'e2', events: h.server.log, next: 2, head: 2 }) }
      : undefined;
  await h.clock.advance(0);
  assert.equal(h.server.requestsTo('/snapshot').length, 1);
  assert.equal(h.client.epoch, 'e2');
  assert.deepEqual([...h.client.objects.keys()].sort(), ['Pod/shop/b', 'Pod/shop/d']);
});

test('a reset interrupted by a close keeps the old cursor (the server resets it again)', async () => {
  const { h, ws } = await liveWithThree();
  ws.push({ type: 'reset', epoch: 'e2', seq: 0, reason: 'epoch' });
  ws.serverClose(1001); // closed before the snapshot came
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  const q = h.server.lastSocket.url.searchParams;
  assert.equal(q.get('epoch'), 'e1');
  assert.equal(q.get('since'), '3');
  assert.equal(h.client.objects.size, 3, 'nothing was cleared without a snapshot');
});
