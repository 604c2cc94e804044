// The client's WebSocket (DESIGN §5): at most one at a time, opened with the `kubecast.v1`
// subprotocol (and `bearer.<jwt>` when there is a token), given up when it has not said `hello`
// within `connectTimeoutMs` or once live silent for `silenceMs` (the server sends a `position`
// heartbeat every 2 s, so silence means a half-open connection), and reopened with full-jitter
// backoff whose attempt counter starts over once a socket has stayed live for `stableMs`.
//
// It does not read frames: it hands them to its owner (the client), and tells it when a socket
// is forgotten or closed by the other side. Only the current socket is heard: one we closed or
// gave up is forgotten first, so its late frames and close are ignored, and a connect that was
// cancelled while it awaited its token opens nothing (the generation counter).

import { backoffDelay } from './backoff.js';
import { Timer } from './timing.js';

/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {import('./kubecast.js').WebSocketLike} WebSocketLike */
/** @typedef {import('./kubecast.js').WebSocketConstructorLike} WebSocketConstructorLike */
/** @typedef {import('./timing.js').TimerFunctions} TimerFunctions */

const CLIENT_CONNECT_TIMEOUT_CLOSE = 4001; // ours when a socket gave no `hello` in time
const CLIENT_SILENCE_CLOSE = 4002; // ours when a live socket went silent (half-open)

/**
 * What the socket needs from, and tells, the client that owns it.
 * @typedef {object} SocketOwner
 * @property {() => string} url the `/ws` URL for the current cursor
 * @property {() => Promise<string | null>} token
 * @property {() => boolean} running the client may connect (started, live, allowed, online)
 * @property {() => boolean} hidden the page is hidden (it reconnects when visible again)
 * @property {(data: unknown) => void} onFrame
 * @property {() => void} onForget the current socket is gone, whoever closed it
 * @property {(code: number, reason: string, wasLive: boolean) => void} onClose the server or the network closed it
 * @property {() => void} onGiveUp a socket without `hello` was closed and a retry scheduled
 */

/**
 * How the socket is made and timed (the client's injected environment).
 * @typedef {object} SocketEnvironment
 * @property {WebSocketConstructorLike | null} WebSocket null: `globalThis.WebSocket` when connecting
 * @property {TimerFunctions} timers
 * @property {() => number} random
 * @property {() => number} now
 */

export class LiveSocket {
  /**
   * @param {SocketOwner} owner
   * @param {{ readonly timing: KubecastTiming }} settings the client's, read at each use
   * @param {SocketEnvironment} env
   */
  constructor(owner, settings, env) {
    this._owner = owner;
    this._settings = settings;
    this._env = env;
    /** @type {WebSocketLike | null} */
    this._ws = null;
    this._live = false;
    this._liveSince = 0;
    this._connecting = false;
    this._connectGen = 0;
    this._attempt = 0;
    /** @type {string | null} the token the current socket was opened (or last authenticated) with */
    this._token = null;
    this._reconnectTimer = new Timer(env.timers);
    this._connectTimer = new Timer(env.timers);
    this._silenceTimer = new Timer(env.timers);
    /** When the current socket last brought a frame. */
    this._heardAt = 0;
  }

  /** The socket's `hello` has arrived (and it has not closed since). */
  get live() {
    return this._live;
  }

  /** Connects now unless a socket is open or being opened; a pending reconnect is dropped. */
  open() {
    if (this._ws || this._connecting) return;
    this._reconnectTimer.cancel();
    this._connect();
  }

  /**
   * Closes the socket and cancels any reconnect or connect under way.
   * @param {string} reason
   */
  stop(reason) {
    this._connectGen += 1;
    this._connecting = false;
    this._reconnectTimer.cancel();
    this.close(1000, reason);
  }

  /** The next reconnect starts from the shortest delay again. */
  resetBackoff() {
    this._attempt = 0;
  }

  cancelReconnect() {
    this._reconnectTimer.cancel();
  }

  /** The socket said `hello`. */
  markLive() {
    this._connectTimer.cancel();
    this._live = true;
    this._liveSince = this._env.now();
    this._heardAt = this._liveSince;
    this._watchSilence();
  }

  /** Checks, when the silence limit would be reached, that the live socket was heard since. */
  _watchSilence() {
    const limit = this._settings.timing.silenceMs;
    const due = this._heardAt + limit - this._env.now();
    this._silenceTimer.start(Math.max(0, due), () => {
      if (!this._live) return;
      if (this._env.now() - this._heardAt >= limit) this._dropSilent();
      else this._watchSilence();
    });
  }

  /** A live socket that brought nothing for `silenceMs` is half-open: replace it. */
  _dropSilent() {
    this.close(CLIENT_SILENCE_CLOSE, 'silent');
    this.scheduleReconnect();
    this._owner.onGiveUp();
  }

  /** The token the current socket was opened with, or last switched to (`authenticate`). */
  get token() {
    return this._token;
  }

  /**
   * Switches the live socket to `token` (before the one it was opened with expires).
   * @param {string} token
   */
  authenticate(token) {
    this._token = token;
    this.send({ type: 'auth', token });
  }

  /** @param {object} message */
  send(message) {
    try {
      if (this._ws) this._ws.send(JSON.stringify(message));
    } catch (e) {
      // the close event follows
    }
  }

  /**
   * Closes and forgets the socket (its close event will not be reported).
   * @param {number} code
   * @param {string} reason
   */
  close(code, reason) {
    const ws = this._ws;
    if (!ws) return;
    this._forget();
    try {
      ws.close(code, reason);
    } catch (e) {
      // already closing
    }
  }

  scheduleReconnect() {
    // Hidden pages and offline browsers reconnect when they become visible / online again.
    if (!this._owner.running() || this._owner.hidden()) return;
    const t = this._settings.timing;
    const delay = backoffDelay(this._attempt, this._env.random, t.reconnectBaseMs, t.reconnectMaxMs);
    this._attempt += 1;
    this._reconnectTimer.start(delay, () => {
      if (!this._ws && !this._connecting) this._connect();
    });
  }

  async _connect() {
    const gen = ++this._connectGen;
    this._connecting = true;
    let ws;
    try {
      const token = await this._owner.token();
      if (gen !== this._connectGen || !this._owner.running()) return; // stopped meanwhile
      const protocols = token ? ['kubecast.v1', `bearer.${token}`] : ['kubecast.v1'];
      const Socket = this._env.WebSocket || /** @type {WebSocketConstructorLike} */ (globalThis.WebSocket);
      ws = new Socket(this._owner.url(), protocols);
      this._token = token;
    } catch (e) {
      if (gen === this._connectGen) this.scheduleReconnect();
      return;
    } finally {
      if (gen === this._connectGen) this._connecting = false;
    }
    this._listen(ws);
  }

  /**
   * Makes `ws` the current socket, heard until it closes or is forgotten.
   * @param {WebSocketLike} ws
   */
  _listen(ws) {
    this._ws = ws;
    this._live = false;
    ws.onmessage = (msg) => {
      if (this._ws !== ws) return;
      this._heardAt = this._env.now();
      this._owner.onFrame(msg.data);
    };
    ws.onclose = (ev) => {
      if (this._ws === ws) this._onClose(ev.code, ev.reason);
    };
    // A connection can hang (a dead path, a proxy that never answers): give it up and retry.
    this._connectTimer.start(this._settings.timing.connectTimeoutMs, () => {
      if (this._ws === ws && !this._live) this._giveUp();
    });
  }

  /** Drops a socket that never became live and schedules the next attempt (with backoff). */
  _giveUp() {
    this.close(CLIENT_CONNECT_TIMEOUT_CLOSE, 'connect timeout');
    this.scheduleReconnect();
    this._owner.onGiveUp();
  }

  /**
   * @param {number} code
   * @param {string} reason
   */
  _onClose(code, reason) {
    const wasLive = this._live;
    if (wasLive && this._env.now() - this._liveSince >= this._settings.timing.stableMs) this._attempt = 0;
    this._forget();
    this._owner.onClose(code, reason, wasLive);
  }

  _forget() {
    this._connectTimer.cancel();
    this._silenceTimer.cancel();
    this._ws = null;
    this._live = false;
    this._owner.onForget();
  }
}
