// Test doubles for the Kubecast client: a scripted fake fanout (WebSocket + fetch), fake timers,
// a seeded random, a fake page environment and an in-memory storage. Kept outside `test/`
// because `node --test` runs every .js file under a `test` directory as a test file.

import { KubecastClient } from '../kubecast.js';

/** Lets every promise chain that does not wait for a (fake) timer settle. */
export async function flush() {
  for (let i = 0; i < 10; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** A deterministic random in [0, 1) (mulberry32). */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** setTimeout/clearTimeout/now on a virtual clock that only moves when the test says so. */
export class FakeClock {
  constructor() {
    this.time = 0;
    this.timers = new Map();
    this.nextId = 1;
    this.now = () => this.time;
    this.setTimeout = (fn, ms) => {
      const id = this.nextId++;
      this.timers.set(id, { id, fn, at: this.time + Math.max(0, ms || 0) });
      return id;
    };
    this.clearTimeout = (id) => {
      this.timers.delete(id);
    };
  }

  nextTimer() {
    let next = null;
    for (const t of this.timers.values()) {
      if (!next || t.at < next.at || (t.at === next.at && t.id < next.id)) next = t;
    }
    return next;
  }

  /** Moves the clock `ms` forward, firing due timers in order and settling promises between. */
  async advance(ms) {
    const end = this.time + ms;
    for (;;) {
      await flush();
      const next = this.nextTimer();
      if (!next || next.at > end) break;
      this.timers.delete(next.id);
      this.time = next.at;
      next.fn();
    }
    this.time = end;
    await flush();
  }

  /** Fires timers one by one until `condition()` holds (at most `limitMs` of virtual time). */
  async runUntil(condition, limitMs = 10 * 60 * 1000) {
    const end = this.time + limitMs;
    await flush();
    while (!condition()) {
      const next = this.nextTimer();
      if (!next || next.at > end) throw new Error('runUntil: condition never held');
      this.timers.delete(next.id);
      this.time = next.at;
      next.fn();
      await flush();
    }
  }
}

export class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

/** Online/offline and visibility, switched by the test. */
export class FakeEnvironment {
  constructor() {
    this.online = true;
    this.hidden = false;
    this.listeners = new Set();
  }
  isOnline() {
    return this.online;
  }
  isHidden() {
    return this.hidden;
  }
  subscribe(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(change) {
    if (change === 'online' || change === 'offline') this.online = change === 'online';
    if (change === 'hidden' || change === 'visible') this.hidden = change === 'hidden';
    for (const listener of [...this.listeners]) listener(change);
  }
}

function response(status, body) {
  return { status, ok: status >= 200 && status < 300, json: async () => body };
}

/**
 * A scripted fanout: an event log with a snapshot, `/events` pages and `/snapshot` as in
 * docs/protocol.md, and a WebSocket class whose instances the test drives frame by frame.
 * Every socket and request the client makes is recorded.
 */
export class FakeServer {
  constructor(clock, { epoch = 'e1' } = {}) {
    this.clock = clock;
    this.epoch = epoch;
    this.log = [];
    this.objects = new Map();
    this.summaries = new Map();
    this.firstRetained = 1;
    this.pageLimit = 500;
    this.sockets = [];
    this.requests = [];
    this.down = false; // every request answers 503
    this.hold = false; // requests wait until release()
    this.held = [];
    this.override = null; // (url) => response | undefined, checked first
    this.fetch = (url, init) => this.handleFetch(url, init);
    this.WebSocket = makeFakeWebSocket(this);
  }

  get head() {
    return this.log.length ? this.log[this.log.length - 1].seq : 0;
  }

  get lastSocket() {
    return this.sockets[this.sockets.length - 1];
  }

  /** Appends an event (op: added/updated/deleted/summary/churn) and returns it. */
  append(op, name, { kind = 'Pod', ns = 'shop', obj = {} } = {}) {
    const ev = { seq: this.head + 1, epoch: this.epoch, ts: this.clock.time, op, kind, ns, name, obj };
    this.log.push(ev);
    const key = `${kind}/${ns}/${name}`;
    if (op === 'summary') this.summaries.set(key, ev);
    else if (op === 'deleted') this.objects.delete(key);
    else if (op !== 'churn') this.objects.set(key, ev);
    return ev;
  }

  /** A new epoch: the log is lost and the producer republishes its state. */
  newEpoch(epoch) {
    this.epoch = epoch;
    this.log = [];
    this.objects = new Map();
    this.summaries = new Map();
    this.firstRetained = 1;
  }

  snapshotBody() {
    return {
      epoch: this.epoch,
      seq: this.head,
      objects: [...this.objects.values()],
      summaries: [...this.summaries.values()],
    };
  }

  requestsTo(path) {
    return this.requests.filter((r) => r.url.pathname === path);
  }

  release() {
    const held = this.held;
    this.held = [];
    for (const resolve of held) resolve();
  }

  async handleFetch(rawUrl, init = {}) {
    const url = new URL(rawUrl);
    const signal = init.signal || null;
    this.requests.push({ url, headers: { ...(init.headers || {}) }, signal, at: this.clock.time });
    if (this.hold) await holdUntilReleased(this.held, signal);
    if (this.override) {
      const answer = this.override(url);
      if (answer) return answer;
    }
    if (this.down) return response(503, { error: { code: 'unavailable' } });
    if (url.pathname === '/snapshot') return response(200, this.snapshotBody());
    if (url.pathname === '/events') return this.eventsPage(url.searchParams);
    return response(404, { error: { code: 'not_found' } });
  }

  eventsPage(q) {
    const since = Number(q.get('since') || 0);
    const epoch = q.get('epoch') || this.epoch;
    if (epoch !== this.epoch || since < this.firstRetained - 1 || since > this.head) {
      return response(410, { type: 'reset', epoch: this.epoch, seq: this.head, reason: 'epoch' });
    }
    const events = this.log.filter((e) => e.seq > since).slice(0, this.pageLimit);
    const next = events.length === this.pageLimit ? events[events.length - 1].seq : this.head;
    return response(200, { epoch: this.epoch, events, next, head: this.head });
  }
}

/** Waits for `release()`; like fetch, rejects with an AbortError when `signal` aborts first. */
function holdUntilReleased(held, signal) {
  return new Promise((resolve, reject) => {
    held.push(resolve);
    if (signal) signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  });
}

function makeFakeWebSocket(server) {
  return class FakeWebSocket {
    constructor(url, protocols) {
      this.url = new URL(url);
      this.protocols = protocols;
      this.sent = [];
      this.readyState = 0;
      this.closedByClient = null;
      this.createdAt = server.clock.time;
      this.onmessage = null;
      this.onclose = null;
      server.sockets.push(this);
    }

    // What the client does.
    send(data) {
      this.sent.push(JSON.parse(data));
    }
    close(code, reason) {
      this.closedByClient = { code, reason };
      this.readyState = 3;
    }

    // What the test (as the server) does.
    push(frame) {
      if (this.onmessage) this.onmessage({ data: typeof frame === 'string' ? frame : JSON.stringify(frame) });
    }
    hello() {
      this.readyState = 1;
      this.push({ type: 'hello', epoch: server.epoch, seq: server.head, server: 'fake', heartbeat_ms: 2000, protocol: 1 });
    }
    /** Sends the server's state as snapshot frames of at most `perPart` objects. */
    snapshot(perPart = 1000) {
      const body = server.snapshotBody();
      const parts = [];
      for (let i = 0; i < body.objects.length || i === 0; i += perPart) parts.push(body.objects.slice(i, i + perPart));
      parts.forEach((objects, part) => {
        const last = part === parts.length - 1;
        this.push({ type: 'snapshot', epoch: body.epoch, seq: body.seq, objects, summaries: last ? body.summaries : [], part, last });
      });
    }
    events(events) {
      this.push({ type: 'events', epoch: events.length ? events[0].epoch : server.epoch, events });
    }
    position(seq = server.head) {
      this.push({ type: 'position', epoch: server.epoch, seq });
    }
    serverClose(code, reason = '') {
      this.readyState = 3;
      if (this.onclose) this.onclose({ code, reason });
    }
  };
}

/** A client wired to fakes, with everything it reports recorded. */
export function setup(options = {}) {
  const clock = new FakeClock();
  const server = options.server || new FakeServer(clock);
  if (options.server) server.clock = clock;
  const env = options.environment || new FakeEnvironment();
  const storage = options.storage || new MemoryStorage();
  const seen = { statuses: [], changes: [], objectChanges: [], events: [], errors: [] };
  const client = new KubecastClient({
    baseUrl: 'http://kubecast.test',
    WebSocket: server.WebSocket,
    fetch: server.fetch,
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
    now: clock.now,
    random: options.random || seededRandom(1),
    storage,
    environment: env,
    onStatus: (s) => seen.statuses.push(s),
    onChange: (_client, changes) => seen.changes.push(changes),
    onObject: (change) => seen.objectChanges.push(change),
    onEvent: (ev) => seen.events.push(ev),
    onError: (err) => seen.errors.push(err),
    ...options.clientOptions,
  });
  return { client, clock, server, env, storage, seen };
}

/** Starts the client and brings its first socket live with the server's snapshot. */
export async function startLive(h) {
  h.client.start();
  await flush();
  const ws = h.server.lastSocket;
  ws.hello();
  ws.snapshot();
  return ws;
}
