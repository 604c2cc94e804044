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

test('a hole inside an events frame is filled before anything past it is applied', async () => {
  const h = setup();
  h.server.append('added', 'a');
  const ws = await startLive(h); // at seq 1
  for (const name of ['b', 'c', 'd', 'e']) h.server.append('added', name); // seqs 2..5
  h.server.hold = true;
  ws.events([h.server.log[1], h.server.log[4]]); // [2, 5]: 3 and 4 never came over the socket
  await flush();
  assert.deepEqual(h.seen.events.map((e) => e.seq), [2], 'applied up to the hole only');
  assert.deepEqual(h.server.requestsTo('/events').map(sinceOf), [2]);
  h.server.hold = false;
  h.server.release();
  await flush();
  assert.deepEqual(h.seen.events.map((e) => e.seq), [2, 3, 4, 5]);
  assert.equal(h.client.objects.size, 5);
});

test('frames held during a fill are checked again: a hole further on starts another fill', async () => {
  const h = setup();
  const ws = await startLive(h); // at seq 0
  for (const name of ['a', 'b', 'c', 'd', 'e', 'f']) h.server.append('added', name); // seqs 1..6
  const [, e2, , e4, , e6] = h.server.log;
  const head = h.server.log.slice();
  // The fill's page stops at seq 2 (the replica serving /events is behind the socket's).
  h.server.override = (url) => {
    if (url.pathname !== '/events' || url.searchParams.get('since') !== '0') return undefined;
    return { status: 200, ok: true, json: async () => ({ epoch: 'e1', events: head.slice(0, 2), next: 2, head: 2 }) };
  };
  ws.events([e2]); // hole at 1
  ws.events([e4, e6]); // held during the fill; after it, 3 is still missing
  await flush();
  assert.deepEqual(h.server.requestsTo('/events').map(sinceOf), [0, 2]);
  assert.deepEqual(h.seen.events.map((e) => e.seq), [1, 2, 3, 4, 5, 6]);
});

test('a position beyond the cursor on an unfiltered subscription is a hole: filled, not skipped', async () => {
  const h = setup();
  h.server.append('added', 'a');
  const ws = await startLive(h); // at seq 1
  h.server.append('added', 'b');
  h.server.append('added', 'c');
  ws.position(3); // the socket says it sent 2 and 3, which never arrived
  await flush();
  assert.deepEqual(h.server.requestsTo('/events').map(sinceOf), [1]);
  assert.deepEqual(h.seen.events.map((e) => e.seq), [2, 3]);
  assert.equal(h.client.lastSeq, 3);
});

/** An /events answer built from the server's log: only `seqs`, with `next` and `head`. */
function pageOf(h, seqs, next, head = h.server.head) {
  const events = h.server.log.filter((e) => seqs.includes(e.seq));
  return { status: 200, ok: true, json: async () => ({ epoch: 'e1', events, next, head }) };
}

test('a poll page with a hole is applied up to the hole, and the next page starts there', async () => {
  const h = setup();
  h.server.append('added', 'a');
  const ws = await startLive(h); // at seq 1
  for (const name of ['b', 'c', 'd', 'e']) h.server.append('added', name); // seqs 2..5
  h.server.override = (url) =>
    url.pathname === '/events' && url.searchParams.get('since') === '1' ? pageOf(h, [2, 5], 5) : undefined;
  ws.serverClose(1006);
  await h.clock.advance(0);
  assert.deepEqual(h.server.requestsTo('/events').map(sinceOf), [1, 2]);
  assert.deepEqual(h.seen.events.map((e) => e.seq), [2, 3, 4, 5]);
});

test('a narrowed grant: pages that skip seqs right after the cursor make seqs sparse, no fill on the socket', async () => {
  const h = setup();
  h.server.append('added', 'a');
  const ws = await startLive(h); // at seq 1
  h.server.append('added', 'hidden', { ns: 'secret' }); // 2: this token cannot see it
  h.server.append('added', 'b'); // 3
  h.server.append('added', 'hidden2', { ns: 'secret' }); // 4
  h.server.append('added', 'c'); // 5
  h.server.override = (url) => {
    if (url.pathname !== '/events') return undefined;
    const since = Number(url.searchParams.get('since'));
    return pageOf(h, [3, 5].filter((s) => s > since), 5);
  };
  ws.serverClose(1006);
  await h.clock.advance(0);
  assert.deepEqual(h.server.requestsTo('/events').map(sinceOf), [1], 'the page starts past since: no second read');
  assert.deepEqual(h.seen.events.map((e) => e.seq), [3, 5]);

  await h.clock.runUntil(() => h.server.sockets.length === 2);
  const ws2 = h.server.lastSocket;
  ws2.hello();
  h.server.append('added', 'hidden3', { ns: 'secret' }); // 6
  ws2.events([h.server.append('added', 'd')]); // 7 after 5
  ws2.position(8);
  await flush();
  assert.equal(h.server.requestsTo('/events').length, 1, 'sparse seqs: no fill');
  assert.equal(h.client.lastSeq, 8);
});

test('a filtered subscription never re-reads pages with holes', async () => {
  const h = setup({ clientOptions: { kinds: ['Pod'] } });
  h.server.append('added', 'a');
  const ws = await startLive(h);
  for (const name of ['b', 'c', 'd', 'e']) h.server.append('added', name);
  h.server.override = (url) => (url.pathname === '/events' ? pageOf(h, [2, 5], 5) : undefined);
  ws.serverClose(1006);
  await h.clock.advance(0);
  assert.equal(h.server.requestsTo('/events').length, 1);
  assert.deepEqual(h.seen.events.map((e) => e.seq), [2, 5]);
  assert.equal(h.client.lastSeq, 5);
});

/** A live client (token 'narrow') that has learned from a fill that its seqs are sparse. */
async function sparseClient() {
  const h = setup({ clientOptions: { token: 'narrow' } });
  const ws = await startLive(h);
  h.server.append('added', 'hidden', { ns: 'secret' }); // seq 1: not for this token
  h.server.override = (url) => (url.pathname === '/events' ? pageOf(h, [], 1, 1) : undefined);
  ws.events([h.server.append('added', 'a')]); // seq 2
  await flush();
  assert.equal(h.server.requestsTo('/events').length, 1);
  assert.equal(h.client.lastSeq, 2);
  h.server.override = null;
  return { h, ws };
}

test('sparse seqs learned under one token are not assumed under the next: a hole after setToken is filled', async () => {
  const { h, ws } = await sparseClient();
  h.client.setToken('wide'); // a token granting everything: seqs are contiguous again
  h.server.append('added', 'b'); // 3
  ws.events([h.server.append('added', 'c')]); // 4: 3 was lost
  await flush();
  assert.deepEqual(h.server.requestsTo('/events').map(sinceOf), [0, 2]);
  assert.deepEqual(h.seen.events.map((e) => e.seq), [2, 3, 4]);
});

test('sparse seqs learned in one epoch are not assumed in the next: a hole after a new epoch is filled', async () => {
  const { h, ws } = await sparseClient();
  h.server.newEpoch('e2');
  h.server.append('added', 'x'); // e2 seq 1
  ws.push({ type: 'reset', epoch: 'e2', seq: 1, reason: 'epoch' });
  ws.snapshot();
  assert.equal(h.client.epoch, 'e2');
  h.server.append('added', 'y'); // 2
  ws.events([h.server.append('added', 'z')]); // 3: 2 was lost
  await flush();
  assert.deepEqual(h.server.requestsTo('/events').map(sinceOf), [0, 1]);
  assert.equal(h.client.lastSeq, 3);
  assert.ok(h.client.objects.has('Pod/shop/y'));
});

test('events held during a fill are bounded: past maxHeldEvents they are dropped and the socket resumes from lastSeq', async () => {
  const h = setup({ clientOptions: { timing: { maxHeldEvents: 3 } } });
  const ws = await startLive(h); // at seq 0
  h.server.append('added', 'a'); // 1: lost on the socket
  h.server.hold = true;
  ws.events([h.server.append('added', 'b')]); // 2: a fill starts, and hangs
  await flush();
  ws.events([h.server.append('added', 'c'), h.server.append('added', 'd')]); // 3 held
  assert.equal(ws.closedByClient, null, 'within the bound');
  ws.events([h.server.append('added', 'e')]); // 4 held: over the bound
  assert.deepEqual(ws.closedByClient, { code: 4000, reason: 'gap' });
  assert.deepEqual(h.seen.events, [], 'nothing applied out of order');
  h.server.hold = false;
  h.server.release(); // the fill's catch-up still brings the range, in order
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  const ws2 = h.server.lastSocket;
  assert.equal(ws2.url.searchParams.get('since'), String(h.client.lastSeq));
  ws2.hello();
  ws2.events(h.server.log.filter((e) => e.seq > Number(ws2.url.searchParams.get('since'))));
  assert.deepEqual(h.seen.events.map((e) => e.seq), [1, 2, 3, 4, 5], 'nothing lost, nothing twice');
});
