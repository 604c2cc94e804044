import { test } from 'node:test';
import assert from 'node:assert/strict';
import { objectKey } from '../kubecast.js';
import { setup, startLive, flush } from '../testing/fakes.js';

test('events are deduplicated by seq: duplicates and older events change nothing', async () => {
  const h = setup();
  h.server.append('added', 'a');
  const ws = await startLive(h);
  const e2 = h.server.append('updated', 'a', { obj: { phase: 'Running' } });
  const e3 = h.server.append('added', 'b');
  ws.events([e2, e3]);
  assert.equal(h.client.lastSeq, 3);
  const changesBefore = h.seen.changes.length;
  const eventsBefore = h.seen.events.length;

  // The same events again, and an older one carrying different content.
  ws.events([e2, e3]);
  ws.events([{ ...e2, obj: { phase: 'Failed' } }]);
  ws.events([{ ...e3, seq: 1, op: 'deleted' }]);

  assert.equal(h.client.lastSeq, 3);
  assert.equal(h.seen.changes.length, changesBefore);
  assert.equal(h.seen.events.length, eventsBefore);
  assert.equal(h.client.objects.get('Pod/shop/a').obj.phase, 'Running');
  assert.ok(h.client.objects.has('Pod/shop/b'));
});

test('an event seen on the socket and again in a poll page is applied once', async () => {
  const h = setup();
  const ws = await startLive(h);
  const e1 = h.server.append('added', 'a');
  ws.events([e1]);
  h.server.append('added', 'b');
  await h.clock.advance(4000); // quiet socket: the poll returns seq 2 only (since=1)
  assert.deepEqual(h.seen.events.map((e) => e.seq), [1, 2]);
  ws.events(h.server.log); // the socket catches up late with both
  assert.deepEqual(h.seen.events.map((e) => e.seq), [1, 2]);
});

test('store change callbacks report added, modified and deleted per object, and a batch', async () => {
  const h = setup();
  const ws = await startLive(h);
  h.seen.changes.length = 0;
  ws.events([
    h.server.append('added', 'a'),
    h.server.append('added', 'b'),
    h.server.append('updated', 'a', { obj: { ready: true } }),
    h.server.append('deleted', 'b'),
    h.server.append('summary', 'Deployment/web', { kind: 'Summary', obj: { total: 1 } }),
    h.server.append('churn', 'Deployment/web', { kind: 'Churn', obj: { rate: 42 } }),
  ]);
  assert.deepEqual(
    h.seen.objectChanges.map((c) => [c.type, c.key]),
    [['added', 'Pod/shop/a'], ['added', 'Pod/shop/b'], ['modified', 'Pod/shop/a'], ['deleted', 'Pod/shop/b']],
  );
  assert.equal(h.seen.changes.length, 1, 'one batch for one frame');
  assert.equal(h.seen.changes[0].length, 4);
  assert.deepEqual([...h.client.objects.keys()], ['Pod/shop/a']);
  assert.equal(h.client.summaries.get('Summary/shop/Deployment/web').obj.total, 1);
  assert.deepEqual(h.seen.events.map((e) => e.op), ['added', 'added', 'updated', 'deleted', 'summary', 'churn']);
  assert.equal(objectKey({ kind: 'Node', ns: '', name: 'n1' }), 'Node//n1');
});

test('snapshot parts are assembled: the store changes only when the last part arrives', async () => {
  const h = setup();
  for (const name of ['a', 'b', 'c', 'd', 'e']) h.server.append('added', name);
  h.client.start();
  await flush();
  const ws = h.server.lastSocket;
  ws.hello();
  const body = h.server.snapshotBody();
  ws.push({ type: 'snapshot', epoch: 'e1', seq: 5, objects: body.objects.slice(0, 2), summaries: [], part: 0, last: false });
  ws.push({ type: 'snapshot', epoch: 'e1', seq: 5, objects: body.objects.slice(2, 4), summaries: [], part: 1, last: false });
  assert.equal(h.client.objects.size, 0);
  assert.equal(h.client.epoch, null);
  ws.push({ type: 'snapshot', epoch: 'e1', seq: 5, objects: body.objects.slice(4), summaries: [], part: 2, last: true });
  assert.equal(h.client.objects.size, 5);
  assert.equal(h.client.lastSeq, 5);
  assert.equal(h.client.epoch, 'e1');
});

test('bad frames are ignored and the client keeps working', async () => {
  const h = setup();
  const ws = await startLive(h);
  const ok = h.server.append('added', 'a');
  for (const bad of [
    'not json',
    '',
    'null',
    '42',
    JSON.stringify({ no: 'type' }),
    JSON.stringify({ type: 'surprise', events: [ok] }),
    JSON.stringify({ type: 'events', epoch: 'e1', events: 'nope' }),
    JSON.stringify({ type: 'events', epoch: 'e1', events: [null, { seq: 'x' }, 7] }),
    JSON.stringify({ type: 'snapshot', epoch: 'e1', seq: 9 }),
    JSON.stringify({ type: 'error', code: 'bad_message', message: 'x' }),
  ]) {
    ws.push(bad);
  }
  assert.equal(h.client.objects.size, 0);
  assert.equal(h.client.lastSeq, 0);
  ws.events([ok]);
  assert.equal(h.client.objects.size, 1);
  assert.equal(h.client.lastSeq, 1);
  assert.equal(h.client.status, 'live');
});

test('a throwing listener does not break the client', async () => {
  const h = setup({ clientOptions: { onChange: () => { throw new Error('ui bug'); } } });
  const errors = [];
  const original = globalThis.reportError;
  globalThis.reportError = (e) => errors.push(e);
  try {
    const ws = await startLive(h);
    ws.events([h.server.append('added', 'a')]);
    ws.events([h.server.append('added', 'b')]);
  } finally {
    if (original) globalThis.reportError = original;
    else delete globalThis.reportError;
  }
  assert.equal(h.client.objects.size, 2);
  assert.ok(errors.length >= 2);
});

test('a deleted summary leaves the summaries, as it leaves the server view', async () => {
  const h = setup();
  const ws = await startLive(h);
  ws.events([h.server.append('summary', 'Job/import', { kind: 'Summary', obj: { total: 1 } })]);
  assert.ok(h.client.summaries.has('Summary/shop/Job/import'));
  ws.events([h.server.append('deleted', 'Job/import', { kind: 'Summary' })]);
  assert.equal(h.client.summaries.has('Summary/shop/Job/import'), false);
  assert.equal(h.client.lastSeq, 2);
});
