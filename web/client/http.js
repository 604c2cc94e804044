// The client's HTTP requests (docs/protocol.md, "HTTP"): GET with the token as
// `Authorization: Bearer`, the JSON body of a 2xx answer parsed. Every request has a deadline
// (`requestTimeoutMs`, on the injected clock) covering the token, the answer and its body: past
// it the request is aborted (where the host has an AbortController) and fails, so one request
// that never answers cannot stall the catch-ups queued behind it. `cancelAll()` fails (and
// aborts) every request under way, when the client stops. A 401 is handed to the owner with
// the token it refused (a function's token is renewed, a fixed one reported: kubecast.js).

import { Timer } from './timing.js';

/** @typedef {import('./kubecast.js').FetchLike} FetchLike */
/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {import('./timing.js').TimerFunctions} TimerFunctions */
/** @typedef {import('./token.js').TokenCache} TokenCache */

/**
 * An answer: its status, and its parsed JSON body when it is a success (null otherwise).
 * @typedef {object} HttpAnswer
 * @property {number} status
 * @property {boolean} ok
 * @property {any} body
 */

/**
 * How requests are made and authorised (the client's injected environment).
 * @typedef {object} HttpAccess
 * @property {FetchLike} fetch
 * @property {TokenCache} tokens
 * @property {TimerFunctions} timers
 * @property {(token: string | null, message: string) => void} onUnauthenticated a 401 refused `token`
 */

/** @typedef {{ readonly baseUrl: string, readonly timing: KubecastTiming }} HttpSettings */

export class HttpClient {
  /**
   * @param {HttpAccess} access
   * @param {HttpSettings} settings the client's, read at each use
   */
  constructor(access, settings) {
    this._access = access;
    this._settings = settings;
    /** @type {Set<(error: Error) => void>} how to fail each request under way */
    this._underWay = new Set();
  }

  /** Every request under way fails now (and is aborted where the host can). */
  cancelAll() {
    for (const fail of [...this._underWay]) fail(new Error('request cancelled'));
  }

  /**
   * GET `path` (with its query); fails when there is no whole answer within `requestTimeoutMs`.
   * @param {string} path
   * @returns {Promise<HttpAnswer>}
   */
  get(path) {
    const controller = typeof AbortController === 'function' ? new AbortController() : null;
    const ms = this._settings.timing.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      const deadline = new Timer(this._access.timers);
      const settled = () => {
        deadline.cancel();
        this._underWay.delete(fail);
      };
      /** @param {Error} error */
      const fail = (error) => {
        settled();
        reject(error);
        if (controller) controller.abort();
      };
      this._underWay.add(fail);
      deadline.start(ms, () => fail(new Error(`GET ${path.split('?')[0]}: no answer within ${ms} ms`)));
      this._fetch(path, controller).then(
        (answer) => {
          settled();
          resolve(answer);
        },
        (e) => {
          settled();
          reject(e);
        },
      );
    });
  }

  /**
   * @param {string} path
   * @param {AbortController | null} controller
   * @returns {Promise<HttpAnswer>}
   */
  async _fetch(path, controller) {
    const access = this._access;
    const token = await access.tokens.current();
    /** @type {Parameters<FetchLike>[1]} */
    const init = { headers: token ? { Authorization: `Bearer ${token}` } : {} };
    if (controller) init.signal = controller.signal;
    const res = await access.fetch(`${this._settings.baseUrl}${path}`, init);
    if (res.status === 401) access.onUnauthenticated(token, `GET ${path.split('?')[0]}: HTTP 401`);
    return { status: res.status, ok: res.ok, body: res.ok ? await res.json() : null };
  }
}
