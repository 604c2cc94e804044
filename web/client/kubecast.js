// Kubecast browser client (DESIGN §5, docs/protocol.md, README.md): dependency-free ES modules.
// This is the entry module: `KubecastClient`, and the helpers of the public API re-exported.
//
// State (store.js): (epoch, lastSeq), a store of live objects keyed `Kind/ns/name` and the
// per-workload summaries. Events are applied idempotently: an event with seq <= lastSeq is dropped.
//
// Transport: a WebSocket for live pushes (socket.js; what its frames do: stream.js, gaps.js)
// and GET /events polling whenever the socket is quiet or down (polling.js, catchup.js).
// `reset`, HTTP 410 or a new epoch replace the state from a snapshot (socket parts or GET
// /snapshot).
//
// Status (`onStatus`): `live` (socket up), `polling` (socket down, polls answer), `reconnecting`
// (neither yet), `offline` (the browser is offline, the user switched live updates off, the
// client is stopped, or the server refused the token with 4403).
//
// Page visibility: while the page is hidden the socket is kept (it is cheap and keeps the view
// fresh) but the client does not poll, and a socket that drops is not reconnected until the page
// is visible again. Becoming visible (or online) reconnects at once and polls at once to catch up.
//
// Authentication (token.js): `token` is a JWT or a function returning one (sync or async), sent
// in the `bearer.<jwt>` subprotocol and as `Authorization: Bearer`. A refusal (4401, 401) asks
// the function again; a fixed token's is reported through `onError`, once per token, so the page
// can call `setToken()`. 4403 stops the client and reports `forbidden`.
//
// Every environment dependency (WebSocket, fetch, timers, random, clock, storage, online and
// visibility events) can be injected through the constructor, which is how the tests drive it.
// The class owns the state, the lifecycle and the status; its parts report back to it through
// the callbacks it gives them.

import { CatchUp } from './catchup.js';
import { Continuity } from './continuity.js';
import {
  DEFAULT_STORAGE_KEY,
  browserEnvironment,
  defaultStorage,
  hostFunctions,
  readLiveSwitch,
  writeLiveSwitch,
} from './environment.js';
import { HttpClient } from './http.js';
import { Listeners } from './listeners.js';
import { Poller } from './polling.js';
import { cursorQuery, filterQuery } from './query.js';
import { LiveSocket } from './socket.js';
import { ClientState } from './store.js';
import { FrameStream } from './stream.js';
import { DEFAULT_TIMING } from './timing.js';
import { TokenCache } from './token.js';

export { backoffDelay } from './backoff.js';
export { browserEnvironment } from './environment.js';
export { objectKey } from './store.js';

/** @typedef {import('./kubecast.js').KubecastOptions} KubecastOptions */
/** @typedef {import('./kubecast.js').KubecastError} KubecastError */
/** @typedef {import('./kubecast.js').KubecastStatus} KubecastStatus */
/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {import('./kubecast.js').EnvironmentChange} EnvironmentChange */
/** @typedef {import('./kubecast.js').ObjectChange} ObjectChange */
/** @typedef {import('./kubecast.js').TokenSource} TokenSource */
/** @typedef {import('./kubecast.js').KubecastListeners} KubecastListeners */
/** @typedef {import('./timing.js').TimerFunctions} TimerFunctions */
/** @typedef {import('./environment.js').HostFunctions} HostFunctions */
/** @typedef {import('./store.js').StateAccess} StateAccess */
/** @typedef {import('./socket.js').SocketOwner} SocketOwner */
/** @typedef {import('./polling.js').PollOwner} PollOwner */

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
    const host = hostFunctions(opts);
    this._now = host.now;
    this._storage = opts.storage !== undefined ? opts.storage : defaultStorage();
    this._storageKey = opts.storageKey || DEFAULT_STORAGE_KEY;
    this._env = opts.environment || browserEnvironment();
    /** @type {KubecastTiming} */
    this.timing = { ...DEFAULT_TIMING, ...(opts.timing || {}) };
    this._listeners = Listeners.fromOptions(opts);
    this._tokens = new TokenCache(opts.token);

    // Public state (the cursor and the store are read through getters).
    this._state = new ClientState({
      onApplied: (applied, changes) => {
        for (const ev of applied) this._listeners.emit('event', ev);
        this._changed(changes);
      },
      onReplaced: (changes) => {
        this._stream.stateReplaced();
        this._changed(changes);
      },
    });
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

    // The parts; each reports back through the callbacks given here.
    this._continuity = new Continuity({
      filtered: () => this.ns.length > 0 || this.kinds.length > 0,
      scope: () => `${this.epoch}/${this._tokens.generation}`,
    });
    const state = this._state.access();
    this._socket = this._createSocket(host);
    this._catchUp = this._createCatchUp(host, state);
    this._poller = this._createPoller(host.timers);
    this._stream = this._createStream(state);
  }

  /** @param {HostFunctions} host */
  _createSocket(host) {
    /** @type {SocketOwner} */
    const owner = {
      url: () => `${this.baseUrl.replace(/^http/, 'ws')}/ws?${cursorQuery(this)}`,
      token: () => this._tokens.current(),
      running: () => this._canRun(),
      hidden: () => this._env.isHidden(),
      onFrame: (data) => {
        this._poller.onFrame(); // every frame, even one we cannot use, proves the socket alive
        this._stream.onFrame(data);
      },
      onForget: () => this._stream.forget(),
      onClose: (code, reason, wasLive) => this._onSocketClosed(code, reason, wasLive),
      onGiveUp: () => this._updateStatus(),
    };
    return new LiveSocket(owner, this, host);
  }

  /**
   * @param {HostFunctions} host
   * @param {StateAccess} state
   */
  _createCatchUp(host, state) {
    const http = new HttpClient({
      fetch: host.fetch,
      tokens: this._tokens,
      timers: host.timers,
      onUnauthenticated: (token, message) => this._onUnauthenticated(message, token),
    }, this);
    const target = {
      ...state,
      generation: () => this._state.generation,
      eventsQuery: () => cursorQuery(this),
      snapshotQuery: () => filterQuery(this),
      continuity: this._continuity,
      onError: (/** @type {KubecastError} */ error) => this._listeners.emit('error', error),
    };
    return new CatchUp(target, http, this);
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

  /** @param {StateAccess} state */
  _createStream(state) {
    return new FrameStream({
      ...state,
      continuity: this._continuity,
      onHello: () => this._onHello(),
      requestSnapshot: () => this._requestSnapshot(),
      catchUp: () => this._catchUp.run(),
      onGapUnfilled: () => this._abandonGapFill(),
    }, this);
  }

  // --- public API ----------------------------------------------------------------------------

  /** Epoch of the state held, or null before the first snapshot. */
  get epoch() {
    return this._state.epoch;
  }

  /** Every event up to this seq (matching the subscription) has been applied. */
  get lastSeq() {
    return this._state.lastSeq;
  }

  /** Live objects by `Kind/ns/name` (a new Map after each snapshot). */
  get objects() {
    return this._state.objects;
  }

  /** Per-namespace / per-workload summaries by `Summary/ns/name`. */
  get summaries() {
    return this._state.summaries;
  }

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
   * Without a live socket the client tries the new token at once (reconnect backoff reset).
   * @param {TokenSource} token
   */
  setToken(token) {
    this._tokens.replace(token);
    if (this._socket.live) {
      if (typeof token !== 'function') this._socket.authenticate(token);
    } else {
      this._socket.resetBackoff();
      this._resume(0);
    }
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
   * Stops every transport: closes the socket, cancels timers, any connect under way and every
   * catch-up (an answer that comes after this is not applied).
   * @param {string} reason
   */
  _suspend(reason) {
    this._poller.stop();
    this._catchUp.cancel();
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

  /** @param {ObjectChange[]} changes */
  _changed(changes) {
    this.lastUpdate = new Date(this._now());
    for (const change of changes) this._listeners.emit('object', change);
    this._listeners.emit('change', this, changes);
  }

  /** Our state belongs to another epoch (or none): get a snapshot, preferably on the socket. */
  _requestSnapshot() {
    this._state.lastSeq = null;
    if (this._socket.live) {
      this._stream.awaitSnapshot();
      this._socket.send({ type: 'get_snapshot' });
    } else {
      this._poller.schedule(0);
    }
  }

  // --- the socket ----------------------------------------------------------------------------

  _onHello() {
    this._socket.markLive();
    this._poller.ok = false; // `polling` has to be earned again by a poll once this socket is gone
    this._updateStatus();
  }

  /** Could not fill a gap over HTTP: resume the socket from lastSeq instead (the server replays). */
  _abandonGapFill() {
    this._socket.close(CLIENT_GAP_CLOSE, 'gap');
    this._socket.scheduleReconnect();
    this._updateStatus();
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
    if (code === 4401) this._onUnauthenticated(reason, this._socket.token);
    this._socket.scheduleReconnect();
    if (wasLive) this._poller.schedule(0); // catch up over HTTP while the socket is down
    this._updateStatus();
  }

  /**
   * The server refused `token`: a token function is asked for a fresh one on the next connect
   * or poll; a fixed token's first refusal is reported, so the page can call `setToken()` (the
   * client keeps retrying it with backoff meanwhile).
   * @param {string} reason
   * @param {string | null} token
   */
  _onUnauthenticated(reason, token) {
    if (this._tokens.refused(token)) {
      this._listeners.emit('error', { code: 'unauthenticated', message: reason || 'unauthenticated' });
    }
  }
}
