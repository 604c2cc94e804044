// The client's timing: the default of every delay (each can be overridden with the `timing`
// option, see kubecast.d.ts), and the one-shot timers its parts schedule on the (injectable)
// clock. A timer holds one pending callback: starting it again replaces the pending one, so a
// poll or a reconnect is never scheduled twice.

/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */

/** @type {Readonly<KubecastTiming>} */
export const DEFAULT_TIMING = Object.freeze({
  quietMs: 4000, // every WS frame pushes the next poll this far out
  pollMaxMs: 30000, // idle polling doubles up to this
  reconnectBaseMs: 500, // full jitter: random() * min(reconnectMaxMs, reconnectBaseMs * 2^attempt)
  reconnectMaxMs: 30000,
  stableMs: 10000, // a socket live at least this long resets the reconnect backoff
  connectTimeoutMs: 10000, // a socket without `hello` by then is given up and retried
  silenceMs: 30000, // a live socket without any frame this long (heartbeats every 2 s) is replaced
  maxPagesPerPoll: 100, // bound on /events pages fetched by one catch-up
  requestTimeoutMs: 10000, // an HTTP request without a whole answer by then is aborted and fails
  maxHeldEvents: 10000, // socket events held during a gap fill; past it: resume from lastSeq
});

/**
 * @typedef {object} TimerFunctions
 * @property {(callback: () => void, ms: number) => unknown} setTimeout
 * @property {(id: any) => void} clearTimeout
 */

export class Timer {
  /** @param {TimerFunctions} timers */
  constructor(timers) {
    this._timers = timers;
    /** @type {unknown} */
    this._id = null;
  }

  /**
   * Calls `callback` in `ms`, in place of any callback still pending.
   * @param {number} ms
   * @param {() => void} callback
   */
  start(ms, callback) {
    this.cancel();
    this._id = this._timers.setTimeout(() => {
      this._id = null;
      callback();
    }, ms);
  }

  cancel() {
    if (this._id !== null) this._timers.clearTimeout(this._id);
    this._id = null;
  }
}
