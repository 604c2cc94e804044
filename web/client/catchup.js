// HTTP catch-up (DESIGN §5, docs/protocol.md `GET /events`, `GET /snapshot`): brings the state
// to the log's head over HTTP, with /events pages from lastSeq following `next` until `head`, or
// a snapshot when there is no state, on 410 or on another epoch. Polls and gap fills both use
// it; runs are serialised, so they never interleave, and each request has a deadline (http.js),
// so a run always ends. A run applies nothing once a snapshot from the socket has replaced the
// state under it (the state generation changed), nor once the client has stopped or paused
// (`cancel()`: it fails every run asked for before it, and aborts their requests). A page that
// does not move the cursor while the head is ahead ends the run as failed (fetching it again
// would bring the same page), reported once through `onError` until pages advance again.
//
// Where every seq must reach the client (continuity.js), a page is applied up to its first
// hole and the next page is fetched from there; a page with nothing right after its `since`
// shows that the server has nothing there for this client, whose seqs are then sparse.

import { splitAtHole } from './continuity.js';

/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */
/** @typedef {import('./kubecast.js').KubecastError} KubecastError */
/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {import('./http.js').HttpClient} HttpClient */
/** @typedef {import('./continuity.js').Continuity} Continuity */
/** @typedef {import('./store.js').StateAccess} StateAccess */

/**
 * What a catch-up reads besides the state it changes (`StateAccess`).
 * @typedef {object} CatchUpCursor
 * @property {() => number} generation changes whenever a snapshot replaces the state
 * @property {() => URLSearchParams} eventsQuery the filter and the cursor
 * @property {() => URLSearchParams} snapshotQuery the filter
 * @property {Continuity} continuity whether every seq must reach the client
 */

/** @typedef {StateAccess & CatchUpCursor & { onError: (error: KubecastError) => void }} CatchUpTarget */

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
    this._session = 0; // bumped by cancel()
    this._stallReported = false; // a page that did not advance was reported (and none has since)
  }

  /**
   * Runs a catch-up after the ones under way; resolves to the applied events (a snapshot counts
   * as one entry, so callers see that something arrived).
   * @returns {Promise<KubecastEvent[]>}
   */
  run() {
    const session = this._session;
    const run = () => this._fetchPages(session);
    const result = this._tail.then(run, run);
    this._tail = result.catch(() => {});
    return result;
  }

  /** The client stopped or paused: runs under way or queued fail, and apply nothing. */
  cancel() {
    this._session += 1;
    this._http.cancelAll();
  }

  /**
   * GET `path` for a run of `session`; fails when the run was cancelled meanwhile.
   * @param {string} path
   * @param {number} session
   */
  async _get(path, session) {
    if (session !== this._session) throw new Error('catch-up cancelled');
    const res = await this._http.get(path);
    if (session !== this._session) throw new Error('catch-up cancelled');
    return res;
  }

  /**
   * @param {number} session
   * @returns {Promise<KubecastEvent[]>}
   */
  async _fetchPages(session) {
    const target = this._target;
    if (target.epoch() === null || target.lastSeq() === null) return this._loadSnapshot(session);
    const gen = target.generation();
    /** @type {KubecastEvent[]} */
    const applied = [];
    for (let page = 0; page < this._settings.timing.maxPagesPerPoll; page += 1) {
      const since = target.lastSeq();
      const res = await this._get(`/events?${target.eventsQuery()}`, session);
      // A socket snapshot replaced the state meanwhile, or one was asked for.
      if (gen !== target.generation() || target.lastSeq() === null || since === null) return applied;
      if (res.status === 410) return applied.concat(await this._loadSnapshot(session));
      if (!res.ok) throw new Error(`GET /events: HTTP ${res.status}`);
      const body = res.body;
      if (body.epoch !== target.epoch()) return applied.concat(await this._loadSnapshot(session));
      applied.push(...this._applyPage(body, since));
      const lastSeq = target.lastSeq() ?? since;
      if (!(body.next < body.head) && !(lastSeq < body.next)) break; // at the head, no hole left behind
      if (lastSeq === since) throw this._stalled(since, body);
      this._stallReported = false;
    }
    return applied;
  }

  /**
   * Applies a page of the events after `since`, and moves the cursor to its `next`; where every
   * seq must reach the client, only up to its first hole (the next page starts there).
   * @param {Record<string, any>} body
   * @param {number} since
   * @returns {KubecastEvent[]}
   */
  _applyPage(body, since) {
    const target = this._target;
    const events = Array.isArray(body.events) ? body.events : [];
    if (target.continuity.expected()) {
      if (!splitAtHole(events, since).run.length && body.next > since) {
        target.continuity.markSparse(); // nothing for us right after `since`, up to `next`
      } else {
        const { run, rest } = splitAtHole(events, target.lastSeq() ?? since);
        const reached = run.length ? run[run.length - 1].seq : target.lastSeq() ?? since;
        if (rest.length || reached < body.next) return target.applyEvents(body.epoch, run);
      }
    }
    const applied = target.applyEvents(body.epoch, events);
    target.advance(body.epoch, body.next);
    return applied;
  }

  /**
   * The error that ends a run whose page did not advance; reported the first time.
   * @param {number | null} since
   * @param {Record<string, unknown>} body
   */
  _stalled(since, body) {
    const message = `GET /events?since=${since}: the page does not advance (next ${body.next}, head ${body.head}); retrying with backoff`;
    if (!this._stallReported) this._target.onError({ code: 'no_progress', message });
    this._stallReported = true;
    return new Error(message);
  }

  /**
   * @param {number} session
   * @returns {Promise<KubecastEvent[]>}
   */
  async _loadSnapshot(session) {
    const gen = this._target.generation();
    const res = await this._get(`/snapshot?${this._target.snapshotQuery()}`, session);
    if (gen !== this._target.generation()) return []; // a socket snapshot, newer, came first
    if (!res.ok) throw new Error(`GET /snapshot: HTTP ${res.status}`);
    const snap = res.body;
    this._target.replaceState(snap.epoch, snap.seq, snap.objects || [], snap.summaries || []);
    return [{ seq: snap.seq, epoch: snap.epoch, op: 'added', kind: 'Snapshot', ns: '', name: '' }];
  }
}
