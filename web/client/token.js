// The client's credentials: a fixed JWT, or a function (sync or async) that returns one. A
// function's token is cached until the server refuses it (close 4401, HTTP 401); the next
// connect or poll then asks the function again. A fixed token can only be replaced by the page
// (`setToken`), so its refusal is reported to the page, once per token. `generation` counts
// the tokens used: each may grant other namespaces.

/** @typedef {import('./kubecast.js').TokenSource} TokenSource */

export class TokenCache {
  /** @param {TokenSource | undefined} source */
  constructor(source) {
    /** @type {TokenSource | null} */
    this._source = source || null;
    /** @type {string | null} */
    this._token = typeof source === 'string' ? source : null;
    this.generation = 0; // bumped whenever the token changes
    this._refusalReported = false; // the page was told that this fixed token is refused
  }

  /**
   * The token to send (asks the function when nothing is cached), or null for none.
   * @returns {Promise<string | null>}
   */
  async current() {
    const source = this._source;
    if (this._token === null && typeof source === 'function') {
      this._token = (await source()) || null; // called unbound, like every injected function
      this.generation += 1;
    }
    return this._token;
  }

  /** @param {TokenSource} source */
  replace(source) {
    this._source = source;
    this._token = typeof source === 'function' ? null : source;
    this.generation += 1;
    this._refusalReported = false;
  }

  /** Whether a refused token can be replaced without the page (the source is a function). */
  get renewable() {
    return typeof this._source === 'function';
  }

  /**
   * The server refused `token` (a request's; by default the current one): a function is asked
   * again next time. Returns whether to tell the page: the first refusal of a fixed token (one
   * replaced since is not the one refused).
   * @param {string | null} [token]
   */
  refused(token = this._token) {
    if (token !== this._token) return false;
    if (this.renewable) {
      this._token = null;
      return false;
    }
    const first = !this._refusalReported;
    this._refusalReported = true;
    return first;
  }
}
