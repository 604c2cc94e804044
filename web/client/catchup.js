// HTTP catch-up (DESIGN §5, docs/protocol.md `GET /events`, `GET /snapshot`): brings the state
// to the log's head over HTTP, with /events pages from lastSeq following `next` until `head`, or
// a snapshot when there is no state, on 410 or on another epoch. Polls and gap fills both use
// it; runs are serialised, so they never interleave, and each request has a deadline (http.js),
// so a run always ends. A run stops applying pages once a snapshot from the socket has replaced
// the state under it (the state generation changed).

/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */
/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {import('./http.js').HttpClient} HttpClient */
/** @typedef {import('./store.js').StateAccess} StateAccess */

/**
 * What a catch-up reads besides the state it changes (`StateAccess`).
 * @typedef {object} CatchUpCursor
 * @property {() => number} generation changes whenever a snapshot replaces the state
 * @property {() => URLSearchParams} eventsQuery the filter and the cursor
 * @property {() => URLSearchParams} snapshotQuery the filter
 */

/** @typedef {StateAccess & CatchUpCursor} CatchUpTarget */

/** @typedef {{ readonly timing: KubecastTiming }} CatchUpSettings */

export class CatchUp {
  /**
   * @param {CatchUpTarget} target
   * @param {HttpClient} http
   * @param {CatchUpSettings} settings the client's, read at each use
   */
  constructor(target, http, settings) {
    this._target = target;
    this._http = http;
    this._settings = settings;
    /** @type {Promise<unknown>} */
    this._tail = Promise.resolve();
  }

  /**
   * Runs a catch-up after the ones under way; resolves to the applied events (a snapshot counts
   * as one entry, so callers see that something arrived).
   * @returns {Promise<KubecastEvent[]>}
   */
  run() {
    const run = () => this._fetchPages();
    const result = this._tail.then(run, run);
    this._tail = result.catch(() => {});
    return result;
  }

  /** @returns {Promise<KubecastEvent[]>} */
  async _fetchPages() {
    const target = this._target;
    if (target.epoch() === null || target.lastSeq() === null) return this._loadSnapshot();
    const gen = target.generation();
    /** @type {KubecastEvent[]} */
    const applied = [];
    for (let page = 0; page < this._settings.timing.maxPagesPerPoll; page += 1) {
      const res = await this._http.get(`/events?${target.eventsQuery()}`);
      if (gen !== target.generation()) return applied; // a socket snapshot replaced the state meanwhile
      if (res.status === 410) return applied.concat(await this._loadSnapshot());
      if (!res.ok) throw new Error(`GET /events: HTTP ${res.status}`);
      const body = res.body;
      if (body.epoch !== target.epoch()) return applied.concat(await this._loadSnapshot());
      applied.push(...target.applyEvents(body.epoch, Array.isArray(body.events) ? body.events : []));
      target.advance(body.epoch, body.next);
      if (!(body.next < body.head)) break;
    }
    return applied;
  }

  /** @returns {Promise<KubecastEvent[]>} */
  async _loadSnapshot() {
    const res = await this._http.get(`/snapshot?${this._target.snapshotQuery()}`);
    if (!res.ok) throw new Error(`GET /snapshot: HTTP ${res.status}`);
    const snap = res.body;
    this._target.replaceState(snap.epoch, snap.seq, snap.objects || [], snap.summaries || []);
    return [{ seq: snap.seq, epoch: snap.epoch, op: 'added', kind: 'Snapshot', ns: '', name: '' }];
  }
}
