// Hybrid polling (DESIGN §5): every socket frame (`position` heartbeats included) proves the
// socket alive and pushes the next poll `quietMs` out, so a healthy socket means no polls. When
// the socket is quiet or down the client polls (an HTTP catch-up); polls that bring nothing
// back off (doubling up to `pollMaxMs`), one that brings something resets the interval.

import { Timer } from './timing.js';

/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */
/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {import('./timing.js').TimerFunctions} TimerFunctions */

/**
 * What polling needs from the client.
 * @typedef {object} PollOwner
 * @property {() => boolean} mayPoll the client runs and the page is visible
 * @property {() => Promise<KubecastEvent[]>} catchUp the applied events (throws when the server did not answer)
 * @property {() => void} onPolled a poll finished (`ok` may have changed)
 */

export class Poller {
  /**
   * @param {PollOwner} owner
   * @param {{ readonly timing: KubecastTiming }} settings the client's, read at each use
   * @param {TimerFunctions} timers
   */
  constructor(owner, settings, timers) {
    this._owner = owner;
    this._settings = settings;
    this._timer = new Timer(timers);
    this._delay = settings.timing.quietMs;
    this._frames = 0;
    this._run = 0; // bumped by stop(): a poll under way then reports nothing
    /** The last poll answered; cleared when a socket says `hello` (the status has to be earned again). */
    this.ok = false;
  }

  /** The client's timing, read at each use. */
  get _timing() {
    return this._settings.timing;
  }

  /**
   * Polls in `ms` (in place of the pending poll), if polling is allowed now.
   * @param {number} ms
   */
  schedule(ms) {
    if (!this._owner.mayPoll()) return;
    this._timer.start(ms, () => this._poll());
  }

  /**
   * The transports (re)start: idle backoff starts over, the next poll comes in `ms`.
   * @param {number} ms
   */
  restart(ms) {
    this._delay = this._timing.quietMs;
    this.schedule(ms);
  }

  /** A socket frame arrived, so the socket is alive: push the next poll out. */
  onFrame() {
    this._frames += 1;
    this._delay = this._timing.quietMs;
    this.schedule(this._timing.quietMs);
  }

  /** No poll until `schedule` / `restart` (the page is hidden). */
  pause() {
    this._timer.cancel();
  }

  /** No poll, and `ok` has to be earned again (the answer of a poll under way is ignored). */
  stop() {
    this.ok = false;
    this._run += 1;
    this._timer.cancel();
  }

  async _poll() {
    if (!this._owner.mayPoll()) return;
    const framesBefore = this._frames;
    const run = this._run;
    /** @type {KubecastEvent[]} */
    let applied = [];
    let ok = true;
    try {
      applied = await this._owner.catchUp();
    } catch (e) {
      ok = false;
    }
    if (run !== this._run) return; // stopped meanwhile: this answer says nothing about now
    this.ok = ok;
    this._owner.onPolled();
    if (this._frames !== framesBefore) return; // a frame arrived meanwhile and rescheduled us
    // Idle polling backs off; anything new snaps it back.
    this._delay = applied.length ? this._timing.quietMs : Math.min(this._timing.pollMaxMs, this._delay * 2);
    this.schedule(this._delay);
  }
}
