import { test } from 'node:test';
import assert from 'node:assert/strict';
import { KubecastClient } from '../kubecast.js';
import { setup, startLive, flush, MemoryStorage, FakeClock, FakeServer, FakeEnvironment, seededRandom } from '../testing/fakes.js';

test('the first socket carries the filter and the subprotocols; a reconnect resumes with since+epoch', async () => {
  const h = setup({ clientOptions: { ns: ['shop', 'web'], kinds: ['Pod'], token: 'jwt1' } });
  h.server.append('added', 'a');
  const ws = await startLive(h);
  assert.equal(ws.url.origin, 'ws://kubecast.test');
  assert.equal(ws.url.pathname, '/ws');
  assert.equal(ws.url.searchParams.get('ns'), 'shop,web');
  assert.equal(ws.url.searchParams.get('kinds'), 'Pod');
  assert.equal(ws.url.searchParams.get('since'), null);
  assert.deepEqual(ws.protocols, ['kubecast.v1', 'bearer.jwt1']);

  ws.events([h.server.append('added', 'b')]);
  ws.serverClose(4008, 'too slow');
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  const q = h.server.lastSocket.url.searchParams;
  assert.equal(q.get('since'), '2');
  assert.equal(q.get('epoch'), 'e1');
  assert.equal(q.get('ns'), 'shop,web');
});

test('polls send the token as Authorization: Bearer and the cursor', async () => {
  const h = setup({ clientOptions: { token: 'jwt1' } });
  const ws = await startLive(h);
  ws.events([h.server.append('added', 'a')]);
  await h.clock.advance(4000);
  const [poll] = h.server.requestsTo('/events');
  assert.equal(poll.headers.Authorization, 'Bearer jwt1');
  assert.equal(poll.url.searchParams.get('since'), '1');
  assert.equal(poll.url.searchParams.get('epoch'), 'e1');
});

test('4401 asks the token function for a fresh token, then reconnects with it', async () => {
  const tokens = ['old', 'fresh'];
  let calls = 0;
  const h = setup({ clientOptions: { token: async () => tokens[calls++] } });
  const ws = await startLive(h);
  assert.deepEqual(ws.protocols, ['kubecast.v1', 'bearer.old']);
  ws.serverClose(4401, 'token expired');
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  assert.equal(calls, 2);
  assert.deepEqual(h.server.lastSocket.protocols, ['kubecast.v1', 'bearer.fresh']);
  assert.deepEqual(h.seen.errors, []);
});

test('4401 with a fixed token is reported so the page can call setToken()', async () => {
  const h = setup({ clientOptions: { token: 'stale' } });
  const ws = await startLive(h);
  ws.serverClose(4401);
  assert.deepEqual(h.seen.errors.map((e) => e.code), ['unauthenticated']);
  h.client.setToken('renewed');
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  assert.deepEqual(h.server.lastSocket.protocols, ['kubecast.v1', 'bearer.renewed']);
});

test('setToken() on a live socket sends an auth message', async () => {
  const h = setup({ clientOptions: { token: 'one' } });
  const ws = await startLive(h);
  h.client.setToken('two');
  assert.deepEqual(ws.sent, [{ type: 'auth', token: 'two' }]);
});

test('4403 stops the client, reports forbidden and never retries', async () => {
  const h = setup({ clientOptions: { token: 't' } });
  const ws = await startLive(h);
  ws.serverClose(4403, 'namespace not granted');
  assert.deepEqual(h.seen.errors, [{ code: 'forbidden', message: 'namespace not granted' }]);
  assert.equal(h.client.status, 'offline');
  const requests = h.server.requests.length;
  await h.clock.advance(10 * 60 * 1000);
  assert.equal(h.server.sockets.length, 1);
  assert.equal(h.server.requests.length, requests);
  assert.equal(h.clock.timers.size, 0);
});

test('offline: status offline, no reconnects or polls; online: reconnect and catch up at once', async () => {
  const h = setup();
  const ws = await startLive(h);
  h.env.emit('offline');
  assert.equal(h.client.status, 'offline');
  assert.deepEqual(ws.closedByClient, { code: 1000, reason: 'offline' });
  await h.clock.advance(10 * 60 * 1000);
  assert.equal(h.server.sockets.length, 1);
  assert.equal(h.server.requests.length, 0);

  h.server.append('added', 'missed');
  h.env.emit('online');
  assert.equal(h.client.status, 'reconnecting');
  await h.clock.advance(0);
  assert.equal(h.server.sockets.length, 2, 'reconnected without waiting for a backoff');
  assert.equal(h.server.requestsTo('/events').length, 1, 'polled at once');
  assert.ok(h.client.objects.has('Pod/shop/missed'));
  h.server.lastSocket.hello();
  assert.equal(h.client.status, 'live');
});

test('a client started offline reports offline and connects when the browser comes online', async () => {
  const h = setup();
  h.env.online = false;
  h.client.start();
  await h.clock.advance(60000);
  assert.equal(h.client.status, 'offline');
  assert.equal(h.server.sockets.length, 0);
  h.env.emit('online');
  await flush();
  assert.equal(h.server.sockets.length, 1);
});

test('hidden page: the socket stays, polling stops, a dropped socket waits; visible: catch up at once', async () => {
  const h = setup();
  const ws = await startLive(h);
  h.env.emit('hidden');
  for (let i = 0; i < 30; i += 1) {
    await h.clock.advance(2000);
    ws.events([]); // the server's heartbeats keep coming
  }
  assert.equal(ws.closedByClient, null, 'socket kept while hidden');
  assert.equal(h.server.requests.length, 0, 'no polls while hidden');

  ws.serverClose(1001);
  await h.clock.advance(5 * 60 * 1000);
  assert.equal(h.server.sockets.length, 1, 'no reconnect while hidden');
  assert.equal(h.server.requests.length, 0);

  h.server.append('added', 'while-hidden');
  h.env.emit('visible');
  await h.clock.advance(0);
  assert.equal(h.server.sockets.length, 2);
  assert.equal(h.server.requestsTo('/events').length, 1);
  assert.ok(h.client.objects.has('Pod/shop/while-hidden'));
});

test('a reconnect already scheduled when the page is hidden waits until it is visible', async () => {
  const h = setup();
  const ws = await startLive(h);
  ws.serverClose(1006);
  h.env.emit('hidden');
  await h.clock.advance(5 * 60 * 1000);
  assert.equal(h.server.sockets.length, 1);
  h.env.emit('visible');
  await flush();
  assert.equal(h.server.sockets.length, 2);
});

test('the live switch turns socket and polling off and on, and is persisted', async () => {
  const storage = new MemoryStorage();
  const h = setup({ storage });
  const ws = await startLive(h);
  assert.equal(h.client.live, true);
  h.client.setLive(false);
  assert.equal(h.client.live, false);
  assert.equal(h.client.status, 'offline');
  assert.deepEqual(ws.closedByClient, { code: 1000, reason: 'live updates off' });
  await h.clock.advance(10 * 60 * 1000);
  assert.equal(h.server.sockets.length, 1);
  assert.equal(h.server.requests.length, 0);

  // A new page with the same storage starts with live updates off.
  const h2 = setup({ storage });
  assert.equal(h2.client.live, false);
  h2.client.start();
  await h2.clock.advance(60000);
  assert.equal(h2.server.sockets.length, 0);
  assert.equal(h2.server.requests.length, 0);
  assert.equal(h2.client.status, 'offline');

  h2.client.setLive(true);
  await h2.clock.advance(0);
  assert.equal(h2.server.sockets.length, 1);
  assert.equal(h2.server.requestsTo('/snapshot').length, 1, 'catches up at once');
  assert.equal(setup({ storage }).client.live, true);
});

test('stop() closes the socket and cancels every timer', async () => {
  const h = setup();
  const ws = await startLive(h);
  h.client.stop();
  assert.deepEqual(ws.closedByClient, { code: 1000, reason: 'stopped' });
  assert.equal(h.client.status, 'offline');
  assert.equal(h.clock.timers.size, 0);
  assert.equal(h.env.listeners.size, 0);
});

test('a socket that never says hello is given up after the connect timeout and retried', async () => {
  const h = setup();
  h.client.start();
  await flush();
  const hanging = h.server.lastSocket;
  await h.clock.advance(9999);
  assert.equal(hanging.closedByClient, null, 'not before the timeout');
  await h.clock.advance(1);
  assert.deepEqual(hanging.closedByClient, { code: 4001, reason: 'connect timeout' });
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  const next = h.server.lastSocket;
  next.hello();
  await h.clock.advance(20000);
  assert.equal(next.closedByClient, null, 'a socket that said hello is kept');
  assert.equal(h.client.status, 'live');
});

test('injected functions are called unbound, as the browser built-ins (window.fetch, setTimeout) require', async () => {
  /** Like a browser built-in: "Illegal invocation" when called as a method of another object. */
  const builtin = (name, f) =>
    function (...args) {
      if (this !== undefined && this !== globalThis) throw new TypeError(`Illegal invocation (${name})`);
      return f(...args);
    };
  const clock = new FakeClock();
  const server = new FakeServer(clock);
  const errors = [];
  const client = new KubecastClient({
    baseUrl: 'http://kubecast.test',
    WebSocket: server.WebSocket,
    fetch: builtin('fetch', server.fetch),
    setTimeout: builtin('setTimeout', clock.setTimeout),
    clearTimeout: builtin('clearTimeout', clock.clearTimeout),
    now: builtin('now', clock.now),
    random: builtin('random', seededRandom(1)),
    token: builtin('token', () => 'jwt'),
    storage: null,
    environment: new FakeEnvironment(),
    onError: (e) => errors.push(e),
  });
  server.append('added', 'a');
  client.start();
  await clock.advance(4000); // no hello: the first poll loads the snapshot
  assert.equal(client.status, 'polling');
  assert.ok(client.objects.has('Pod/shop/a'));
  const ws = server.lastSocket;
  assert.deepEqual(ws.protocols, ['kubecast.v1', 'bearer.jwt']);
  ws.hello();
  ws.serverClose(1001); // reconnect with backoff (random, setTimeout) after a live socket (now)
  await clock.runUntil(() => server.sockets.length === 2);
  client.stop(); // clearTimeout
  assert.deepEqual(errors, []);
});

test('a fixed token refused with 4401 is reported once, retried with backoff, and a new token connects at once', async () => {
  const h = setup({ clientOptions: { token: 'stale' } });
  const ws = await startLive(h);
  ws.serverClose(4401, 'token expired');
  const refusedAt = h.clock.time;
  while (h.clock.time - refusedAt < 120000) {
    const n = h.server.sockets.length;
    await h.clock.runUntil(() => h.server.sockets.length > n);
    h.server.lastSocket.serverClose(4401, 'token expired'); // the same token, refused again
  }
  assert.deepEqual(h.seen.errors, [{ code: 'unauthenticated', message: 'token expired' }], 'reported once');
  assert.ok(h.server.sockets.length <= 16, `backing off: ${h.server.sockets.length} connects in 2 min`);

  h.client.setToken('fresh');
  await flush();
  const fresh = h.server.lastSocket;
  assert.deepEqual(fresh.protocols, ['kubecast.v1', 'bearer.fresh'], 'connects at once with the new token');
  assert.equal(fresh.createdAt, h.clock.time);
  fresh.serverClose(4401, 'expired too');
  assert.deepEqual(h.seen.errors.map((e) => e.message), ['token expired', 'expired too'], 'once per token');
});

test('a 401 on a poll with a fixed token is reported once per token, like 4401', async () => {
  const h = setup({ clientOptions: { token: 'stale' } });
  h.server.override = (url) => ({ status: 401, ok: false, json: async () => ({ error: { code: 'unauthenticated' } }) });
  h.client.start();
  await flush(); // the socket never says hello: polls carry the client
  await h.clock.advance(4000 + 8000 + 16000);
  assert.equal(h.server.requestsTo('/snapshot').length, 3, 'failed polls back off');
  assert.equal(h.client.status, 'reconnecting');
  assert.deepEqual(h.seen.errors, [{ code: 'unauthenticated', message: 'GET /snapshot: HTTP 401' }]);
  h.server.lastSocket.serverClose(4401, 'token expired'); // the same token, refused on the socket
  assert.equal(h.seen.errors.length, 1);

  h.client.setToken('also-stale');
  await h.clock.advance(0);
  assert.equal(h.server.requestsTo('/snapshot').at(-1).headers.Authorization, 'Bearer also-stale');
  assert.equal(h.seen.errors.length, 2, 'a new token refused is reported again');
});

test('a 401 on a poll with a token function asks it again, and reports nothing', async () => {
  let calls = 0;
  const h = setup({ clientOptions: { token: () => `t${++calls}` } });
  h.server.override = (url) =>
    url.pathname === '/snapshot' && calls === 1 ? { status: 401, ok: false, json: async () => ({}) } : undefined;
  h.client.start();
  await flush();
  await h.clock.advance(4000 + 8000);
  const polls = h.server.requestsTo('/snapshot').map((r) => r.headers.Authorization);
  assert.deepEqual(polls, ['Bearer t1', 'Bearer t2']);
  assert.equal(h.client.status, 'polling');
  assert.deepEqual(h.seen.errors, []);
});

test('a live socket that goes silent is replaced; one that keeps talking is kept', async () => {
  const h = setup();
  const ws = await startLive(h);
  for (let i = 0; i < 20; i += 1) {
    await h.clock.advance(2000);
    ws.events([]);
  }
  assert.equal(ws.closedByClient, null, 'heard every 2 s: kept for 40 s');
  await h.clock.advance(29999);
  assert.equal(ws.closedByClient, null, 'not before the limit');
  await h.clock.advance(1);
  assert.deepEqual(ws.closedByClient, { code: 4002, reason: 'silent' });
  await h.clock.runUntil(() => h.server.sockets.length === 2);
  assert.equal(h.server.lastSocket.url.searchParams.get('epoch'), 'e1', 'the new socket resumes');
});
