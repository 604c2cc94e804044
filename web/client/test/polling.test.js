import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setup, startLive, flush, FakeServer } from '../testing/fakes.js';

test('every WS frame, position included, pushes the next poll 4 s out', async () => {
  const h = setup();
  h.server.append('added', 'a');
  const ws = await startLive(h);
  assert.equal(h.client.status, 'live');

  // Frames every 3 s for a minute (heartbeats and events mixed): never a poll.
  for (let i = 0; i < 20; i += 1) {
    await h.clock.advance(3000);
    if (i % 2) ws.position();
    else ws.events([h.server.append('updated', 'a', { obj: { i } })]);
  }
  assert.equal(h.server.requestsTo('/events').length, 0);
  assert.equal(h.server.requestsTo('/snapshot').length, 0);

  // Then the socket goes quiet: the poll comes exactly 4 s after the last frame.
  const lastFrameAt = h.clock.time;
  await h.clock.advance(3999);
  assert.equal(h.server.requestsTo('/events').length, 0);
  await h.clock.advance(1);
  const polls = h.server.requestsTo('/events');
  assert.equal(polls.length, 1);
  assert.equal(polls[0].at, lastFrameAt + 4000);
  assert.equal(polls[0].url.searchParams.get('since'), String(h.server.head));
  assert.equal(polls[0].url.searchParams.get('epoch'), 'e1');
});

test('a frame that cannot be parsed still counts as proof of life', async () => {
  const h = setup();
  const ws = await startLive(h);
  await h.clock.advance(3000);
  ws.push('not json');
  await h.clock.advance(3000);
  assert.equal(h.server.requestsTo('/events').length, 0);
});

/** Times between successive /events polls. */
function pollIntervals(h) {
  const at = h.server.requestsTo('/events').map((r) => r.at);
  return at.slice(1).map((t, i) => t - at[i]);
}

test('idle polling doubles up to 30 s and snaps back to 4 s when something arrives', async () => {
  const h = setup();
  h.server.append('added', 'a');
  h.client.start();
  await flush(); // the socket never opens (no hello): polling carries the client
  await h.clock.advance(4000); // first poll: no state yet, so GET /snapshot
  assert.equal(h.server.requestsTo('/snapshot').length, 1);
  assert.equal(h.client.objects.size, 1);
  assert.equal(h.client.status, 'polling');

  await h.clock.advance(4000 + 8000 + 16000 + 30000 + 30000 + 30000);
  assert.deepEqual(pollIntervals(h), [8000, 16000, 30000, 30000, 30000]);

  // Something changes: the poll that finds it resets the interval to 4 s, then it backs off again.
  h.server.append('added', 'b');
  await h.clock.advance(30000 + 4000 + 8000);
  assert.deepEqual(pollIntervals(h).slice(5), [30000, 4000, 8000]);
  assert.equal(h.client.objects.size, 2);
});

test('a frame resets the poll backoff, so polling after it starts again at 4 s', async () => {
  const h = setup();
  h.client.start();
  await flush();
  await h.clock.advance(4000 + 4000 + 8000 + 16000); // snapshot, then idle polls back off
  const ws = h.server.lastSocket;
  ws.hello();
  ws.position(0);
  const frameAt = h.clock.time;
  await h.clock.advance(4000);
  const polls = h.server.requestsTo('/events');
  assert.equal(polls[polls.length - 1].at, frameAt + 4000);
});

test('status: reconnecting, live, then polling when the socket is gone but polls answer', async () => {
  const h = setup();
  h.server.append('added', 'a');
  const ws = await startLive(h);
  ws.serverClose(1001);
  assert.equal(h.client.status, 'reconnecting');
  await h.clock.advance(0); // the close triggers an immediate catch-up poll
  assert.equal(h.server.requestsTo('/events').length, 1);
  assert.equal(h.client.status, 'polling');
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  h.server.lastSocket.hello();
  assert.equal(h.client.status, 'live');
  assert.deepEqual(h.seen.statuses, ['reconnecting', 'live', 'reconnecting', 'polling', 'live']);
});

test('a poll from before the socket went live does not make a later outage read as polling', async () => {
  const h = setup();
  h.client.start();
  await flush();
  await h.clock.advance(4000); // the socket is slow to open: a poll loads the snapshot
  assert.equal(h.client.status, 'polling');
  const ws = h.server.lastSocket;
  ws.hello();
  assert.equal(h.client.status, 'live');
  h.server.down = true;
  ws.serverClose(1006);
  assert.equal(h.client.status, 'reconnecting');
  await h.clock.advance(0); // the catch-up poll fails
  assert.equal(h.client.status, 'reconnecting');
});

test('failed polls report reconnecting and back off too', async () => {
  const h = setup();
  h.server.down = true;
  h.client.start();
  await flush();
  await h.clock.advance(4000 + 8000 + 16000 + 30000);
  const at = h.server.requestsTo('/snapshot').map((r) => r.at);
  assert.deepEqual(at, [4000, 12000, 28000, 58000]);
  assert.equal(h.client.status, 'reconnecting');
});

test('a frame arriving while a poll is in flight decides the next poll time (4 s after it)', async () => {
  const h = setup();
  const ws = await startLive(h);
  h.server.hold = true;
  await h.clock.advance(4000); // quiet: a poll starts and waits for its answer
  assert.equal(h.server.requestsTo('/events').length, 1);
  await h.clock.advance(1000);
  ws.position();
  const frameAt = h.clock.time;
  h.server.hold = false;
  h.server.release(); // the poll comes back empty
  await h.clock.advance(4000);
  const polls = h.server.requestsTo('/events');
  assert.equal(polls.length, 2);
  assert.equal(polls[1].at, frameAt + 4000);
});

test('a request that never answers is aborted after requestTimeoutMs and counts as a failed poll', async () => {
  const h = setup();
  h.server.append('added', 'a');
  h.client.start();
  await flush(); // the socket never says hello: polls carry the client
  h.server.hold = true;
  await h.clock.advance(4000); // the first poll (GET /snapshot) hangs
  h.server.hold = false;
  const [hung] = h.server.requestsTo('/snapshot');
  await h.clock.advance(9999);
  assert.equal(hung.signal.aborted, false, 'not before the timeout');
  await h.clock.advance(1);
  assert.equal(hung.signal.aborted, true, 'aborted at the timeout');
  assert.equal(h.client.status, 'reconnecting');
  await h.clock.advance(8000); // failed: the next poll backs off (4 s → 8 s) and is not blocked
  const polls = h.server.requestsTo('/snapshot');
  assert.deepEqual(polls.map((r) => r.at), [4000, 22000]);
  assert.equal(h.client.status, 'polling');
  assert.ok(h.client.objects.has('Pod/shop/a'));
});

test('a hung /events page is timed out too, and a later poll goes through', async () => {
  const h = setup({ clientOptions: { timing: { requestTimeoutMs: 2000 } } });
  const ws = await startLive(h);
  ws.serverClose(1006); // the socket is gone: the client polls at once
  h.server.hold = true;
  await h.clock.advance(0);
  h.server.hold = false;
  h.server.append('added', 'b');
  await h.clock.advance(2000);
  assert.equal(h.server.requestsTo('/events')[0].signal.aborted, true);
  await h.clock.runUntil(() => h.client.objects.has('Pod/shop/b'));
  assert.equal(h.server.requestsTo('/events').length, 2);
});

/** A live client whose socket has just dropped, with the catch-up poll it starts held in flight. */
async function pollInFlight(clientOptions = {}, server = undefined) {
  const h = setup({ clientOptions, server });
  const ws = await startLive(h);
  ws.serverClose(1006);
  h.server.hold = true;
  await h.clock.advance(0);
  h.server.hold = false;
  assert.equal(h.server.requestsTo('/events').length, 1);
  return h;
}

/** Answers the first held request only. */
function releaseFirst(server) {
  const [first, ...rest] = server.held;
  server.held = rest;
  first();
}

for (const [name, switchOff] of [
  ['stop()', (h) => h.client.stop()],
  ['setLive(false)', (h) => h.client.setLive(false)],
  ['going offline', (h) => h.env.emit('offline')],
]) {
  test(`${name} discards the poll in flight: its answer is not applied, even where it cannot be aborted`, async () => {
    // A fetch that ignores the abort signal: the answer still comes, and must be discarded.
    const server = new FakeServer(null); // setup() gives it its clock
    const h = await pollInFlight({ fetch: (url, init) => server.fetch(url, { headers: init.headers }) }, server);
    h.server.append('added', 'late');
    switchOff(h);
    releaseFirst(h.server);
    await flush();
    assert.equal(h.client.lastSeq, 0);
    assert.equal(h.client.objects.has('Pod/shop/late'), false);
    assert.equal(h.client.status, 'offline');
  });
}

test('after setLive(false) and setLive(true), the status reads polling only once a new poll has answered', async () => {
  const h = await pollInFlight();
  const [old] = h.server.requestsTo('/events');
  h.client.setLive(false);
  assert.equal(old.signal.aborted, true, 'the poll in flight is aborted');
  h.server.hold = true; // the poll started by setLive(true) hangs too
  h.client.setLive(true);
  await h.clock.advance(0);
  assert.equal(h.server.requestsTo('/events').length, 2);
  releaseFirst(h.server); // the old answer would come now, if it came at all
  await flush();
  assert.equal(h.client.status, 'reconnecting');
  h.server.hold = false;
  h.server.release();
  await flush();
  assert.equal(h.client.status, 'polling');
});

test('a snapshot over HTTP that answers after the socket snapshot replaced the state is discarded', async () => {
  const h = setup();
  h.server.append('added', 'a');
  const stale = h.server.snapshotBody();
  h.client.start();
  await flush();
  h.server.override = (url) => (url.pathname === '/snapshot' ? { status: 200, ok: true, json: async () => stale } : undefined);
  h.server.hold = true;
  await h.clock.advance(4000); // the socket has not said hello: a poll asks for the snapshot
  h.server.hold = false;
  h.server.append('added', 'b');
  const ws = h.server.lastSocket;
  ws.hello();
  ws.snapshot(); // the newer state, at seq 2
  h.server.release();
  await flush();
  assert.equal(h.client.lastSeq, 2);
  assert.ok(h.client.objects.has('Pod/shop/b'), 'the newer state is kept');
});

test('a page whose next does not advance (next < head) ends the poll as failed, reported once, with backoff', async () => {
  const h = setup();
  const ws = await startLive(h);
  for (const name of ['a', 'b', 'c']) h.server.append('added', name);
  // A broken page: nothing, and a `next` that stays at the cursor although the head is ahead.
  h.server.override = (url) => {
    if (url.pathname !== '/events') return undefined;
    const since = Number(url.searchParams.get('since'));
    return { status: 200, ok: true, json: async () => ({ epoch: 'e1', events: [], next: since, head: 3 }) };
  };
  ws.serverClose(1006);
  await h.clock.advance(0);
  assert.equal(h.server.requestsTo('/events').length, 1, 'the same page is not fetched again');
  assert.equal(h.client.status, 'reconnecting', 'a failed poll');
  assert.deepEqual(h.seen.errors.map((e) => e.code), ['no_progress']);
  assert.match(h.seen.errors[0].message, /since=0.*next 0.*head 3/);

  await h.clock.advance(8000 + 16000); // the next polls back off and fail the same way
  assert.deepEqual(h.server.requestsTo('/events').map((r) => r.at), [0, 8000, 24000]);
  assert.equal(h.seen.errors.length, 1, 'reported once until a page advances again');

  h.server.override = null; // fixed: the next poll catches up
  await h.clock.advance(30000);
  assert.equal(h.client.lastSeq, 3);
  assert.equal(h.client.status, 'polling');
});
