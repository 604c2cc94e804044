// Kubecast browser client (DESIGN §5, docs/protocol.md, README.md): dependency-free ES modules.
// This is the entry module: `KubecastClient`, and the helpers of the public API re-exported.
//
// State: (epoch, lastSeq), a store of live objects keyed `Kind/ns/name` and the per-workload
// summaries (store.js). Events are applied idempotently: an event with seq <= lastSeq is dropped.
//
// Transport: a WebSocket for live pushes (socket.js) and GET /events polling whenever the
// socket is quiet or down (polling.js, catchup.js); an unfiltered subscription fills gaps in
// the socket's seqs over HTTP. `reset`, HTTP 410 or a new epoch replace the state from a
// snapshot (socket parts or GET /snapshot).
//
// Status (`onStatus`): `live` (socket up), `polling` (socket down, polls answer), `reconnecting`
// (neither yet), `offline` (the browser is offline, the user switched live updates off, the
// client is stopped, or the server refused the token with 4403).
//
// Page visibility: while the page is hidden the socket is kept (it is cheap and keeps the view
// fresh) but the client does not poll, and a socket that drops is not reconnected until the page
// is visible again. Becoming visible (or online) reconnects at once and polls at once to catch up.
//
// Authentication (token.js): `token` is a JWT or a function returning one (sync or async). It
// goes in the `bearer.<jwt>` subprotocol next to `kubecast.v1` on the socket and in
// `Authorization: Bearer` on polls. Close 4401 fetches a fresh token from the function before
// reconnecting (a fixed string token is reported through `onError` instead, so the page can call
// `setToken()`); 4403 stops the client and reports `forbidden` through `onError`.
//
// Every environment dependency (WebSocket, fetch, timers, random, clock, storage, online and
// visibility events) can be injected through the constructor, which is how the tests drive it.
// The class owns the state, the lifecycle and the status; its parts report back to it through
// the callbacks it gives them.

import { CatchUp } from './catchup.js';
import {
  DEFAULT_STORAGE_KEY,
  browserEnvironment,
  defaultStorage,
  readLiveSwitch,
  writeLiveSwitch,
} from './environment.js';
import { isEvent, parseFrame } from './frames.js';
import { Listeners } from './listeners.js';
import { Poller } from './polling.js';
import { LiveSocket } from './socket.js';
import { diffStores, objectKey } from './store.js';
import { DEFAULT_TIMING } from './timing.js';
import { TokenCache } from './token.js';

export { backoffDelay } from './backoff.js';
export { browserEnvironment } from './environment.js';
export { objectKey } from './store.js';

/** @typedef {import('./kubecast.js').KubecastOptions} KubecastOptions */
/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */
/** @typedef {import('./kubecast.js').KubecastStatus} KubecastStatus */
/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {import('./kubecast.js').EnvironmentChange} EnvironmentChange */
/** @typedef {import('./kubecast.js').ObjectChange} ObjectChange */
/** @typedef {import('./kubecast.js').TokenSource} TokenSource */
/** @typedef {import('./kubecast.js').FetchLike} FetchLike */
/** @typedef {import('./kubecast.js').KubecastListeners} KubecastListeners */
/** @typedef {import('./timing.js').TimerFunctions} TimerFunctions */
/** @typedef {import('./store.js').StateAccess} StateAccess */
/** @typedef {import('./socket.js').SocketOwner} SocketOwner */
/** @typedef {import('./polling.js').PollOwner} PollOwner */
/** @typedef {{ objects: KubecastEvent[], summaries: KubecastEvent[] }} PendingSnapshot */
/** @typedef {{ buffer: KubecastEvent[], firstHeld: number }} GapFill */

const CLIENT_GAP_CLOSE = 4000; // our own close code when a gap could not be filled

export class KubecastClient {
  /** @param {KubecastOptions} [opts] (see kubecast.d.ts) */
  constructor(opts = {}) {
    const origin = opts.baseUrl || (globalThis.location && globalThis.location.origin);
    if (!origin) throw new TypeError('KubecastClient: baseUrl is required outside a page');
    this.baseUrl = origin.replace(/\/$/, '');
    this.ns = opts.ns || [];
    this.kinds = opts.kinds || [];

    // Injected environment (browser defaults).
    /** @type {TimerFunctions} */
    const timers = {
      setTimeout: opts.setTimeout || ((fn, ms) => globalThis.setTimeout(fn, ms)),
      clearTimeout: opts.clearTimeout || ((id) => globalThis.clearTimeout(id)),
    };
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

    // Lifecycle.
    this._started = false;
    this._forbidden = false;
    /** @type {(() => void) | null} */
    this._unsubscribeEnv = null;
    this._stateGen = 0; // bumped by every snapshot, so a catch-up under way sees it was overtaken
    /** @type {PendingSnapshot | null} */
    this._pendingSnapshot = null;
    this._awaitingSnapshot = false;
    /** @type {GapFill | null} */
    this._gapFill = null;
    this._sparse = false;

    // The parts; each reports back through the callbacks given here.
    this._socket = this._createSocket(opts, timers);
    this._catchUp = this._createCatchUp(opts, this._stateAccess());
    this._poller = this._createPoller(timers);
  }

  /**
   * @param {KubecastOptions} opts
   * @param {TimerFunctions} timers
   */
  _createSocket(opts, timers) {
    const env = { WebSocket: opts.WebSocket || null, timers, random: opts.random || Math.random, now: this._now };
    /** @type {SocketOwner} */
    const owner = {
      url: () => `${this.baseUrl.replace(/^http/, 'ws')}/ws?${this._cursorQuery()}`,
      token: () => this._tokens.current(),
      running: () => this._canRun(),
      hidden: () => this._env.isHidden(),
      onFrame: (data) => this._onFrame(data),
      onForget: () => this._forgetSocketStream(),
      onClose: (code, reason, wasLive) => this._onSocketClosed(code, reason, wasLive),
      onGiveUp: () => this._updateStatus(),
    };
    return new LiveSocket(owner, this, env);
  }

  /**
   * @param {KubecastOptions} opts
   * @param {StateAccess} state
   */
  _createCatchUp(opts, state) {
    /** @type {FetchLike} */
    const fetch = opts.fetch || ((url, init) => globalThis.fetch(url, init));
    const target = {
      ...state,
      generation: () => this._stateGen,
      eventsQuery: () => this._cursorQuery(),
      snapshotQuery: () => this._filterQuery(),
    };
    return new CatchUp(target, { fetch, tokens: this._tokens }, this);
  }

  /** @param {TimerFunctions} timers */
  _createPoller(timers) {
    /** @type {PollOwner} */
    const owner = {
      mayPoll: () => this._canPoll(),
      catchUp: () => this._catchUp.run(),
      onPolled: () => this._updateStatus(),
    };
    return new Poller(owner, this, timers);
  }

  /** @returns {StateAccess} the client's state as its parts read and change it */
  _stateAccess() {
    return {
      epoch: () => this.epoch,
      lastSeq: () => this.lastSeq,
      applyEvents: (epoch, events) => this._applyEvents(epoch, events),
      advance: (epoch, seq) => this._advance(epoch, seq),
      replaceState: (epoch, seq, objects, summaries) => this._replaceState(epoch, seq, objects, summaries),
    };
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
      this._socket.resetBackoff();
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
    if (typeof token !== 'function' && this._socket.live) this._socket.send({ type: 'auth', token });
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
    this._socket.open();
    this._poller.restart(pollInMs);
  }

  /**
   * Stops every transport: closes the socket, cancels timers and any connect under way.
   * @param {string} reason
   */
  _suspend(reason) {
    this._poller.stop();
    this._socket.stop(reason);
  }

  /** @param {EnvironmentChange} change */
  _onEnvironment(change) {
    if (!this._started) return;
    if (change === 'offline') {
      // A socket is rarely usable offline and may take long to notice: drop it, stop retrying.
      this._suspend('offline');
    } else if (change === 'online') {
      this._socket.resetBackoff();
      this._resume(0);
    } else if (change === 'hidden') {
      this._poller.pause();
      this._socket.cancelReconnect();
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
    else if (this._socket.live) status = 'live';
    else if (this._poller.ok) status = 'polling';
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
    if (this._socket.live) {
      this._awaitingSnapshot = true;
      this._socket.send({ type: 'get_snapshot' });
    } else {
      this._poller.schedule(0);
    }
  }

  // --- the socket's frames ------------------------------------------------------------------

  /** @param {unknown} data */
  _onFrame(data) {
    // Every frame, even one we cannot use, proves the socket is alive: push the next poll out.
    this._poller.onFrame();
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
    this._socket.markLive();
    this._poller.ok = false; // `polling` has to be earned again by a poll once this socket is gone
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
    this._catchUp.run().then(
      (applied) => {
        if (this._gapFill !== fill) return;
        this._gapFill = null;
        if (!applied.some((ev) => ev.seq < fill.firstHeld)) this._sparse = true;
        this._applyEvents(this.epoch, fill.buffer);
      },
      () => {
        if (this._gapFill !== fill) return;
        // Could not fill it over HTTP: resume the socket from lastSeq instead (the server replays).
        this._socket.close(CLIENT_GAP_CLOSE, 'gap');
        this._socket.scheduleReconnect();
        this._updateStatus();
      },
    );
  }

  // --- the socket's end ----------------------------------------------------------------------

  /** The socket is gone: what it was sending (snapshot parts, a gap's events) is void. */
  _forgetSocketStream() {
    this._pendingSnapshot = null;
    this._awaitingSnapshot = false;
    this._gapFill = null;
  }

  /**
   * @param {number} code
   * @param {string} reason
   * @param {boolean} wasLive
   */
  _onSocketClosed(code, reason, wasLive) {
    if (code === 4403) {
      this._forbidden = true;
      this._suspend('forbidden');
      this._listeners.emit('error', { code: 'forbidden', message: reason || 'forbidden' });
      this._updateStatus();
      return;
    }
    if (code === 4401) this._onUnauthenticated(reason);
    this._socket.scheduleReconnect();
    if (wasLive) this._poller.schedule(0); // catch up over HTTP while the socket is down
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
}
