// Kubecast browser client (DESIGN §5, docs/protocol.md): dependency-free ES modules; this is the
// entry module, with the `KubecastClient` class and everything the package exports.
//
// State: (epoch, lastSeq), a store of live objects keyed `Kind/ns/name` and the per-workload
// summaries. Events are applied idempotently: an event with seq <= lastSeq is dropped.
//
// Transport: a WebSocket for live pushes plus GET /events polling. Every WS frame (`position`
// heartbeats included) proves the socket is alive and pushes the next poll `quietMs` (4 s) out;
// when the socket is quiet or dead the client polls /events?since=lastSeq, following `next`
// until `head`, and backs off (doubling, up to 30 s) while polls bring nothing. The socket
// reconnects with full-jitter exponential backoff and resumes with since+epoch; `reset`, HTTP
// 410 or a new epoch replace the state from a snapshot (socket parts or GET /snapshot).
//
// Status (`onStatus`): `live` (socket up), `polling` (socket down, polls answer), `reconnecting`
// (neither yet), `offline` (the browser is offline, the user switched live updates off, the
// client is stopped, or the server refused the token with 4403).
//
// Page visibility: while the page is hidden the socket is kept (it is cheap and keeps the view
// fresh) but the client does not poll, and a socket that drops is not reconnected until the page
// is visible again. Becoming visible (or online) reconnects at once and polls at once to catch up.
//
// Authentication: `token` is a JWT or a function returning one (sync or async). It goes in the
// `bearer.<jwt>` subprotocol next to `kubecast.v1` on the socket and in `Authorization: Bearer`
// on polls. Close 4401 fetches a fresh token from the function before reconnecting (a fixed
// string token is reported through `onError` instead, so the page can call `setToken()`);
// 4403 stops the client and reports `forbidden` through `onError`.
//
// Every environment dependency (WebSocket, fetch, timers, random, clock, storage, online and
// visibility events) can be injected through the constructor, which is how the tests drive it.
//
// The helpers live in the modules beside it: backoff.js, environment.js, frames.js, store.js,
// listeners.js, token.js and timing.js.

import { backoffDelay } from './backoff.js';
import {
  DEFAULT_STORAGE_KEY,
  browserEnvironment,
  defaultStorage,
  readLiveSwitch,
  writeLiveSwitch,
} from './environment.js';
import { isEvent, parseFrame } from './frames.js';
import { Listeners } from './listeners.js';
import { diffStores, objectKey } from './store.js';
import { DEFAULT_TIMING, Timer } from './timing.js';
import { TokenCache } from './token.js';

export { backoffDelay } from './backoff.js';
export { browserEnvironment } from './environment.js';
export { objectKey } from './store.js';

/** @typedef {import('./kubecast.js').KubecastOptions} KubecastOptions */
/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */
/** @typedef {import('./kubecast.js').KubecastStatus} KubecastStatus */
/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {import('./kubecast.js').KubecastEnvironment} KubecastEnvironment */
/** @typedef {import('./kubecast.js').EnvironmentChange} EnvironmentChange */
/** @typedef {import('./kubecast.js').ObjectChange} ObjectChange */
/** @typedef {import('./kubecast.js').StorageLike} StorageLike */
/** @typedef {import('./kubecast.js').TokenSource} TokenSource */
/** @typedef {import('./kubecast.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./kubecast.js').WebSocketConstructorLike} WebSocketConstructorLike */
/** @typedef {import('./kubecast.js').ResponseLike} ResponseLike */
/** @typedef {import('./kubecast.js').KubecastListeners} KubecastListeners */
/** @typedef {{ objects: KubecastEvent[], summaries: KubecastEvent[] }} PendingSnapshot */
/** @typedef {{ buffer: KubecastEvent[], firstHeld: number }} GapFill */

const CLIENT_GAP_CLOSE = 4000; // our own close code when a gap could not be filled
const CLIENT_CONNECT_TIMEOUT_CLOSE = 4001; // ours when a socket gave no `hello` in time

export class KubecastClient {
  /** @param {KubecastOptions} [opts] (see kubecast.d.ts) */
  constructor(opts = {}) {
    const origin = opts.baseUrl || (globalThis.location && globalThis.location.origin);
    if (!origin) throw new TypeError('KubecastClient: baseUrl is required outside a page');
    this.baseUrl = origin.replace(/\/$/, '');
    this.ns = opts.ns || [];
    this.kinds = opts.kinds || [];

    // Injected environment (browser defaults).
    this._WebSocket = opts.WebSocket || null; // resolved when connecting (globalThis.WebSocket)
    /** @type {import('./kubecast.js').FetchLike} */
    this._fetchFn = opts.fetch || ((url, init) => globalThis.fetch(url, init));
    /** @type {import('./timing.js').TimerFunctions} */
    const timers = {
      setTimeout: opts.setTimeout || ((fn, ms) => globalThis.setTimeout(fn, ms)),
      clearTimeout: opts.clearTimeout || ((id) => globalThis.clearTimeout(id)),
    };
    this._random = opts.random || Math.random;
    this._now = opts.now || Date.now;
    this._storage = opts.storage !== undefined ? opts.storage : defaultStorage();
    this._storageKey = opts.storageKey || DEFAULT_STORAGE_KEY;
    this._env = opts.environment || browserEnvironment();
    /** @type {KubecastTiming} */
    this.timing = { ...DEFAULT_TIMING, ...(opts.timing || {}) };

    this._listeners = Listeners.fromOptions(opts);
    this._tokens = new TokenCache(opts.token);

    // Public state.
    /** @type {string | null} */
    this.epoch = null;
    /** @type {number | null} */
    this.lastSeq = null;
    /** @type {Map<string, KubecastEvent>} */
    this.objects = new Map();
    /** @type {Map<string, KubecastEvent>} */
    this.summaries = new Map();
    /** @type {KubecastStatus | null} */
    this.status = null;
    /** @type {Date | null} */
    this.lastUpdate = null;
    this.live = readLiveSwitch(this._storage, this._storageKey);

    // Lifecycle and transport state.
    this._started = false;
    this._forbidden = false;
    /** @type {(() => void) | null} */
    this._unsubscribeEnv = null;
    /** @type {WebSocketLike | null} */
    this._ws = null;
    this._socketLive = false;
    this._liveSince = 0;
    this._connecting = false;
    this._connectGen = 0;
    this._attempt = 0;
    this._reconnectTimer = new Timer(timers);
    this._connectTimer = new Timer(timers);
    this._pollTimer = new Timer(timers);
    this._pollDelay = this.timing.quietMs;
    this._pollOk = false;
    this._frames = 0;
    this._stateGen = 0;
    /** @type {PendingSnapshot | null} */
    this._pendingSnapshot = null;
    this._awaitingSnapshot = false;
    /** @type {GapFill | null} */
    this._gapFill = null;
    this._sparse = false;
    /** @type {Promise<unknown>} */
    this._catchUpTail = Promise.resolve();
  }

  // --- public API ----------------------------------------------------------------------------

  start() {
    if (this._started) return;
    this._started = true;
    this._forbidden = false;
    this._unsubscribeEnv = this._env.subscribe((change) => this._onEnvironment(change));
    this._resume(this.timing.quietMs);
    this._updateStatus();
  }

  stop() {
    if (!this._started) return;
    this._started = false;
    if (this._unsubscribeEnv) this._unsubscribeEnv();
    this._unsubscribeEnv = null;
    this._suspend('stopped');
    this._updateStatus();
  }

  /**
   * Turns live updates on or off; the choice is persisted in `storage`.
   * @param {boolean} on
   */
  setLive(on) {
    const live = !!on;
    if (live === this.live) return;
    this.live = live;
    writeLiveSwitch(this._storage, this._storageKey, live);
    if (live) {
      this._attempt = 0;
      this._resume(0);
    } else {
      this._suspend('live updates off');
    }
    this._updateStatus();
  }

  /**
   * Replaces the token (a JWT, or a function returning one). A live socket switches to a new
   * JWT at once (before the old one expires); a function is called on the next connect or poll.
   * @param {TokenSource} token
   */
  setToken(token) {
    this._tokens.replace(token);
    if (typeof token !== 'function' && this._socketLive) this._send({ type: 'auth', token });
  }

  /**
   * Adds a listener (`change`, `status`, `event`, `object`, `error`); returns its remover.
   * @template {keyof KubecastListeners} K
   * @param {K} type
   * @param {KubecastListeners[K]} listener
   * @returns {() => void}
   */
  on(type, listener) {
    return this._listeners.add(type, listener);
  }

  // --- lifecycle -----------------------------------------------------------------------------

  _canRun() {
    return this._started && this.live && !this._forbidden && this._env.isOnline();
  }

  _canPoll() {
    return this._canRun() && !this._env.isHidden();
  }

  /**
   * (Re)starts the transports: connect now unless a socket exists, poll in `pollInMs`.
   * @param {number} pollInMs
   */
  _resume(pollInMs) {
    if (!this._canRun() || this._env.isHidden()) return;
    if (!this._ws && !this._connecting) {
      this._reconnectTimer.cancel();
      this._connect();
    }
    this._pollDelay = this.timing.quietMs;
    this._schedulePoll(pollInMs);
  }

  /**
   * Stops every transport: closes the socket, cancels timers and any connect under way.
   * @param {string} reason
   */
  _suspend(reason) {
    this._connectGen += 1;
    this._connecting = false;
    this._pollOk = false;
    this._pollTimer.cancel();
    this._reconnectTimer.cancel();
    this._closeSocket(1000, reason);
  }

  /** @param {EnvironmentChange} change */
  _onEnvironment(change) {
    if (!this._started) return;
    if (change === 'offline') {
      // A socket is rarely usable offline and may take long to notice: drop it, stop retrying.
      this._suspend('offline');
    } else if (change === 'online') {
      this._attempt = 0;
      this._resume(0);
    } else if (change === 'hidden') {
      this._pollTimer.cancel();
      this._reconnectTimer.cancel();
    } else if (change === 'visible') {
      this._resume(0);
    }
    this._updateStatus();
  }

  _updateStatus() {
    if (!this._started && this.status === null) return; // never started: nothing to report
    /** @type {KubecastStatus} */
    let status;
    if (!this._canRun()) status = 'offline';
    else if (this._socketLive) status = 'live';
    else if (this._pollOk) status = 'polling';
    else status = 'reconnecting';
    if (status !== this.status) {
      this.status = status;
      this._listeners.emit('status', status);
    }
  }

  // --- state ---------------------------------------------------------------------------------

  _filterQuery() {
    const q = new URLSearchParams();
    if (this.ns.length) q.set('ns', this.ns.join(','));
    if (this.kinds.length) q.set('kinds', this.kinds.join(','));
    return q;
  }

  _cursorQuery() {
    const q = this._filterQuery();
    if (this.epoch !== null && this.lastSeq !== null) {
      q.set('since', String(this.lastSeq));
      q.set('epoch', this.epoch);
    }
    return q;
  }

  /**
   * Applies events of `epoch` in order, dropping seq <= lastSeq; returns the applied ones.
   * @param {unknown} epoch
   * @param {unknown[]} events
   * @returns {KubecastEvent[]}
   */
  _applyEvents(epoch, events) {
    if (epoch !== this.epoch || this.lastSeq === null) return [];
    /** @type {KubecastEvent[]} */
    const applied = [];
    /** @type {ObjectChange[]} */
    const changes = [];
    for (const ev of events) {
      if (!isEvent(ev) || (this.lastSeq !== null && ev.seq <= this.lastSeq)) continue;
      this.lastSeq = ev.seq;
      applied.push(ev);
      this._applyToStore(ev, changes);
    }
    if (applied.length) {
      for (const ev of applied) this._listeners.emit('event', ev);
      this._changed(changes);
    }
    return applied;
  }

  /**
   * @param {KubecastEvent} ev
   * @param {ObjectChange[]} changes
   */
  _applyToStore(ev, changes) {
    const key = objectKey(ev);
    if (ev.op === 'summary') {
      this.summaries.set(key, ev);
    } else if (ev.op === 'deleted') {
      // The server's view keeps objects and summaries under one key space: a delete removes
      // either (a finished Job's summary goes this way).
      this.summaries.delete(key);
      const previous = this.objects.get(key);
      if (previous) {
        this.objects.delete(key);
        changes.push({ type: 'deleted', key, object: ev, previous });
      }
    } else if (ev.op !== 'churn') {
      const previous = this.objects.get(key);
      this.objects.set(key, ev);
      changes.push(previous ? { type: 'modified', key, object: ev, previous } : { type: 'added', key, object: ev });
    }
  }

  /**
   * A snapshot replaces the whole state; objects missing from it are reported deleted.
   * @param {string} epoch
   * @param {number} seq
   * @param {unknown[]} objects
   * @param {unknown[]} summaries
   */
  _replaceState(epoch, seq, objects, summaries) {
    const next = new Map(objects.filter(isEvent).map((o) => [objectKey(o), o]));
    const changes = diffStores(this.objects, next);
    this.epoch = epoch;
    this.lastSeq = seq;
    this.objects = next;
    this.summaries = new Map(summaries.filter(isEvent).map((o) => [objectKey(o), o]));
    this._stateGen += 1;
    this._awaitingSnapshot = false;
    this._gapFill = null;
    this._changed(changes);
  }

  /**
   * @param {unknown} epoch
   * @param {unknown} seq
   */
  _advance(epoch, seq) {
    if (epoch === this.epoch && this.lastSeq !== null && typeof seq === 'number' && seq > this.lastSeq) {
      this.lastSeq = seq;
    }
  }

  /** @param {ObjectChange[]} changes */
  _changed(changes) {
    this.lastUpdate = new Date(this._now());
    for (const change of changes) this._listeners.emit('object', change);
    this._listeners.emit('change', this, changes);
  }

  /** Our state belongs to another epoch (or none): get a snapshot, preferably on the socket. */
  _requestSnapshot() {
    this.lastSeq = null;
    if (this._socketLive) {
      this._awaitingSnapshot = true;
      this._send({ type: 'get_snapshot' });
    } else {
      this._schedulePoll(0);
    }
  }

  // --- WebSocket -----------------------------------------------------------------------------

  _socketUrl() {
    return `${this.baseUrl.replace(/^http/, 'ws')}/ws?${this._cursorQuery()}`;
  }

  async _connect() {
    const gen = ++this._connectGen;
    this._connecting = true;
    let ws;
    try {
      const token = await this._tokens.current();
      if (gen !== this._connectGen || !this._canRun()) return; // suspended meanwhile
      const protocols = token ? ['kubecast.v1', `bearer.${token}`] : ['kubecast.v1'];
      const Socket = this._WebSocket || /** @type {WebSocketConstructorLike} */ (globalThis.WebSocket);
      ws = new Socket(this._socketUrl(), protocols);
    } catch (e) {
      if (gen === this._connectGen) this._scheduleReconnect();
      return;
    } finally {
      if (gen === this._connectGen) this._connecting = false;
    }
    this._ws = ws;
    this._socketLive = false;
    ws.onmessage = (msg) => {
      if (this._ws === ws) this._onFrame(msg.data);
    };
    ws.onclose = (ev) => {
      if (this._ws === ws) this._onSocketClosed(ev.code, ev.reason);
    };
    // A connection can hang (a dead path, a proxy that never answers): give it up and retry.
    this._connectTimer.start(this.timing.connectTimeoutMs, () => {
      if (this._ws === ws && !this._socketLive) this._giveUpSocket();
    });
  }

  /** Drops a socket that never became live and schedules the next attempt (with backoff). */
  _giveUpSocket() {
    this._closeSocket(CLIENT_CONNECT_TIMEOUT_CLOSE, 'connect timeout');
    this._scheduleReconnect();
    this._updateStatus();
  }

  /** @param {object} message */
  _send(message) {
    try {
      if (this._ws) this._ws.send(JSON.stringify(message));
    } catch (e) {
      // the close event follows
    }
  }

  /**
   * @param {number} code
   * @param {string} reason
   */
  _closeSocket(code, reason) {
    const ws = this._ws;
    if (!ws) return;
    this._forgetSocket();
    try {
      ws.close(code, reason);
    } catch (e) {
      // already closing
    }
  }

  _forgetSocket() {
    this._connectTimer.cancel();
    this._ws = null;
    this._socketLive = false;
    this._pendingSnapshot = null;
    this._awaitingSnapshot = false;
    this._gapFill = null;
  }

  /**
   * @param {number} code
   * @param {string} reason
   */
  _onSocketClosed(code, reason) {
    const wasLive = this._socketLive;
    if (wasLive && this._now() - this._liveSince >= this.timing.stableMs) this._attempt = 0;
    this._forgetSocket();
    if (code === 4403) {
      this._forbidden = true;
      this._suspend('forbidden');
      this._listeners.emit('error', { code: 'forbidden', message: reason || 'forbidden' });
      this._updateStatus();
      return;
    }
    if (code === 4401) this._onUnauthenticated(reason);
    this._scheduleReconnect();
    if (wasLive) this._schedulePoll(0); // catch up over HTTP while the socket is down
    this._updateStatus();
  }

  /** @param {string} reason */
  _onUnauthenticated(reason) {
    if (this._tokens.renewable) {
      this._tokens.refused(); // the next connect asks the function for a fresh token
    } else {
      this._listeners.emit('error', { code: 'unauthenticated', message: reason || 'unauthenticated' });
    }
  }

  _scheduleReconnect() {
    // Hidden pages and offline browsers reconnect when they become visible / online again.
    if (!this._canRun() || this._env.isHidden()) return;
    const t = this.timing;
    const delay = backoffDelay(this._attempt, this._random, t.reconnectBaseMs, t.reconnectMaxMs);
    this._attempt += 1;
    this._reconnectTimer.start(delay, () => {
      if (!this._ws && !this._connecting) this._connect();
    });
  }

  /** @param {unknown} data */
  _onFrame(data) {
    // Every frame, even one we cannot use, proves the socket is alive: push the next poll out.
    this._frames += 1;
    this._pollDelay = this.timing.quietMs;
    this._schedulePoll(this.timing.quietMs);
    const frame = parseFrame(data);
    if (!frame) return;
    switch (frame.type) {
      case 'hello':
        this._onHello();
        break;
      case 'snapshot':
        this._onSnapshotPart(frame);
        break;
      case 'events':
        this._onEventsFrame(frame);
        break;
      case 'position':
        this._onPosition(frame);
        break;
      case 'reset':
        // The cursor cannot be resumed; a snapshot follows on the socket. Keep showing the
        // old objects until it has arrived, then replace them.
        this._awaitingSnapshot = true;
        this._pendingSnapshot = null;
        break;
      default:
        break; // pong, error (a close follows when it matters), future frame types
    }
  }

  _onHello() {
    this._connectTimer.cancel();
    this._socketLive = true;
    this._pollOk = false; // `polling` has to be earned again by a poll once this socket is gone
    this._liveSince = this._now();
    this._updateStatus();
  }

  /** @param {Record<string, any>} frame */
  _onSnapshotPart(frame) {
    if (!Array.isArray(frame.objects)) return;
    if (frame.part === 0 || !this._pendingSnapshot) this._pendingSnapshot = { objects: [], summaries: [] };
    const pending = this._pendingSnapshot;
    pending.objects.push(...frame.objects);
    if (Array.isArray(frame.summaries)) pending.summaries.push(...frame.summaries);
    if (frame.last !== false) {
      this._pendingSnapshot = null;
      this._replaceState(frame.epoch, frame.seq, pending.objects, pending.summaries);
    }
  }

  /** @param {Record<string, any>} frame */
  _onEventsFrame(frame) {
    if (!Array.isArray(frame.events) || this._awaitingSnapshot || this.epoch === null) return;
    if (frame.epoch !== this.epoch) {
      this._requestSnapshot(); // epoch change without a reset: our state is from a dead log
      return;
    }
    if (this.lastSeq === null) return; // a snapshot was requested and has not arrived yet
    if (this._gapFill) {
      this._gapFill.buffer.push(...frame.events);
      return;
    }
    if (this._isGap(frame.events)) this._fillGap(frame.events);
    else this._applyEvents(frame.epoch, frame.events);
  }

  /** @param {Record<string, any>} frame */
  _onPosition(frame) {
    if (this.epoch !== null && this.lastSeq !== null && frame.epoch !== this.epoch && !this._awaitingSnapshot) {
      this._requestSnapshot();
    } else if (!this._gapFill) {
      this._advance(frame.epoch, frame.seq);
    }
  }

  // --- gap fill ------------------------------------------------------------------------------

  /**
   * Without a filter, seqs are contiguous, so an events frame starting beyond lastSeq + 1 means
   * events were missed. (Filtered subscriptions and namespace-limited tokens see sparse seqs;
   * once a fill finds nothing in a skipped range, the client stops treating skips as gaps.)
   */
  /** @param {unknown[]} events */
  _isGap(events) {
    if (this._sparse || this.ns.length || this.kinds.length || this.lastSeq === null) return false;
    const first = events.find(isEvent);
    return !!first && first.seq > this.lastSeq + 1;
  }

  /**
   * Holds the socket's events, fetches the missed range from /events, then applies them.
   * @param {unknown[]} events
   */
  _fillGap(events) {
    const first = events.find(isEvent);
    /** @type {GapFill} */
    const fill = { buffer: events.filter(isEvent), firstHeld: first ? first.seq : 0 };
    this._gapFill = fill;
    this._catchUp().then(
      (applied) => {
        if (this._gapFill !== fill) return;
        this._gapFill = null;
        if (!applied.some((ev) => ev.seq < fill.firstHeld)) this._sparse = true;
        this._applyEvents(this.epoch, fill.buffer);
      },
      () => {
        if (this._gapFill !== fill) return;
        // Could not fill it over HTTP: resume the socket from lastSeq instead (the server replays).
        this._closeSocket(CLIENT_GAP_CLOSE, 'gap');
        this._scheduleReconnect();
        this._updateStatus();
      },
    );
  }

  // --- polling -------------------------------------------------------------------------------

  /** @param {number} ms */
  _schedulePoll(ms) {
    if (!this._canPoll()) return;
    this._pollTimer.start(ms, () => this._poll());
  }

  async _poll() {
    if (!this._canPoll()) return;
    const framesBefore = this._frames;
    /** @type {KubecastEvent[]} */
    let applied = [];
    try {
      applied = await this._catchUp();
      this._pollOk = true;
    } catch (e) {
      this._pollOk = false;
    }
    this._updateStatus();
    if (this._frames !== framesBefore) return; // a frame arrived meanwhile and rescheduled us
    // Idle polling backs off; anything new snaps it back.
    this._pollDelay = applied.length ? this.timing.quietMs : Math.min(this.timing.pollMaxMs, this._pollDelay * 2);
    this._schedulePoll(this._pollDelay);
  }

  /**
   * Runs catch-ups one at a time (a poll and a gap fill never interleave).
   * @returns {Promise<KubecastEvent[]>}
   */
  _catchUp() {
    const run = () => this._fetchPages();
    const result = this._catchUpTail.then(run, run);
    this._catchUpTail = result.catch(() => {});
    return result;
  }

  /**
   * Brings the state to the head over HTTP: /events pages from lastSeq, following `next` until
   * `head`, or a snapshot when there is no state, on 410 or on another epoch. Returns the applied
   * events (a snapshot counts as one entry so callers see that something arrived).
   * @returns {Promise<KubecastEvent[]>}
   */
  async _fetchPages() {
    if (this.epoch === null || this.lastSeq === null) return this._loadSnapshot();
    const gen = this._stateGen;
    /** @type {KubecastEvent[]} */
    const applied = [];
    for (let page = 0; page < this.timing.maxPagesPerPoll; page += 1) {
      const res = await this._request(`/events?${this._cursorQuery()}`);
      if (gen !== this._stateGen) return applied; // a socket snapshot replaced the state meanwhile
      if (res.status === 410) return applied.concat(await this._loadSnapshot());
      if (!res.ok) throw new Error(`GET /events: HTTP ${res.status}`);
      const body = await res.json();
      if (gen !== this._stateGen) return applied;
      if (body.epoch !== this.epoch) return applied.concat(await this._loadSnapshot());
      applied.push(...this._applyEvents(body.epoch, Array.isArray(body.events) ? body.events : []));
      this._advance(body.epoch, body.next);
      if (!(body.next < body.head)) break;
    }
    return applied;
  }

  /** @returns {Promise<KubecastEvent[]>} */
  async _loadSnapshot() {
    const res = await this._request(`/snapshot?${this._filterQuery()}`);
    if (!res.ok) throw new Error(`GET /snapshot: HTTP ${res.status}`);
    const snap = await res.json();
    this._replaceState(snap.epoch, snap.seq, snap.objects || [], snap.summaries || []);
    return [{ seq: snap.seq, epoch: snap.epoch, op: 'added', kind: 'Snapshot', ns: '', name: '' }];
  }

  /**
   * @param {string} path
   * @returns {Promise<ResponseLike>}
   */
  async _request(path) {
    const token = await this._tokens.current();
    /** @type {Record<string, string>} */
    const headers = token ? { Authorization: `Bearer ${token}` } : {};
    const res = await this._fetchFn(`${this.baseUrl}${path}`, { headers });
    if (res.status === 401) this._tokens.refused();
    return res;
  }
}
