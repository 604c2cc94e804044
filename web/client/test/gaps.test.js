import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, startLive, flush } from '../testing/fakes.js';

const sinceOf = (r) => Number(r.url.searchParams.get('since'));

test('a gap on the socket is filled from /events pages until head, in order, exactly once', async () => {
  const h = setup();
  h.server.pageLimit = 3;
  h.server.append('added', 'p0');
  const ws = await startLive(h); // at seq 1
  for (let i = 1; i <= 11; i += 1) h.server.append('added', `p${i}`); // seqs 2..12
  const e12 = h.server.log[11];
  assert.equal(e12.seq, 12);

  ws.events([e12]); // 2..11 never came over the socket
  await flush();

  assert.deepEqual(h.server.requestsTo('/events').map(sinceOf), [1, 4, 7, 10]);
  assert.deepEqual(h.seen.events.map((e) => e.seq), [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  assert.equal(h.client.objects.size, 12); // p0..p11
  assert.equal(h.client.lastSeq, 12);
});

test('socket events arriving during a gap fill wait for it and keep their order', async () => {
  const h = setup();
  const ws = await startLive(h); // at seq 0
  for (const name of ['a', 'b', 'c']) h.server.append('added', name);
  h.server.hold = true;
  ws.events([h.server.log[2]]); // seq 3: gap of 1..2
  await flush();
  assert.equal(h.server.requestsTo('/events').length, 1);
  const e4 = h.server.append('added', 'd');
  ws.events([e4]);
  ws.position(4);
  assert.deepEqual(h.seen.events, [], 'nothing applied before the gap is filled');
  h.server.hold = false;
  h.server.release();
  await flush();
  assert.deepEqual(h.seen.events.map((e) => e.seq), [1, 2, 3, 4]);
  assert.equal(h.client.lastSeq, 4);
  assert.equal(h.server.requestsTo('/events').length, 1, 'one fill, the later frame was held for it');
});

test('a filtered subscription expects sparse seqs and does not treat skips as gaps', async () => {
  const h = setup({ clientOptions: { ns: ['shop'] } });
  const ws = await startLive(h);
  h.server.append('added', 'x', { ns: 'other' });
  ws.events([h.server.append('added', 'a')]); // seq 2 after 0
  await flush();
  assert.equal(h.server.requestsTo('/events').length, 0);
  assert.equal(h.client.lastSeq, 2);
});

test('a skip that a fill shows to be empty (narrowed grant) stops gap fills', async () => {
  const h = setup();
  const ws = await startLive(h);
  // The server hides seq 1 from this token: its /events pages skip it too.
  h.server.override = (url) => {
    if (url.pathname !== '/events') return undefined;
    return { status: 200, ok: true, json: async () => ({ epoch: 'e1', events: [], next: 1, head: 1 }) };
  };
  h.server.append('added', 'hidden', { ns: 'secret' });
  ws.events([h.server.append('added', 'a')]); // seq 2
  await flush();
  assert.equal(h.server.requestsTo('/events').length, 1);
  assert.equal(h.client.lastSeq, 2);
  assert.ok(h.client.objects.has('Pod/shop/a'));

  h.server.append('added', 'hidden2', { ns: 'secret' });
  ws.events([h.server.append('added', 'b')]); // seq 4 after 2
  await flush();
  assert.equal(h.server.requestsTo('/events').length, 1, 'no second fill');
  assert.equal(h.client.lastSeq, 4);
});

test('a gap that cannot be filled over HTTP resumes the socket from lastSeq', async () => {
  const h = setup();
  const ws = await startLive(h);
  h.server.append('added', 'a');
  h.server.down = true;
  ws.events([h.server.append('added', 'b')]); // seq 2, gap at 1
  await flush();
  assert.deepEqual(ws.closedByClient, { code: 4000, reason: 'gap' });
  assert.equal(h.client.lastSeq, 0);
  h.server.down = false;
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  assert.equal(h.server.lastSocket.url.searchParams.get('since'), '0');
});

test('a gap fill whose request never answers is given up at the timeout: the socket resumes from lastSeq', async () => {
  const h = setup({ clientOptions: { timing: { requestTimeoutMs: 3000 } } });
  const ws = await startLive(h);
  h.server.append('added', 'a');
  h.server.hold = true;
  ws.events([h.server.append('added', 'b')]); // seq 2, gap at 1: the fill hangs
  await flush();
  h.server.hold = false;
  await h.clock.advance(2999);
  assert.equal(ws.closedByClient, null, 'not before the timeout');
  await h.clock.advance(1);
  assert.deepEqual(ws.closedByClient, { code: 4000, reason: 'gap' });
  assert.equal(h.client.lastSeq, 0, 'nothing applied past the gap');
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  assert.equal(h.server.lastSocket.url.searchParams.get('since'), '0');
  await h.clock.advance(4000); // the socket has not said hello: a poll catches up, in order
  assert.deepEqual(h.seen.events.map((e) => e.seq), [1, 2]);
});
