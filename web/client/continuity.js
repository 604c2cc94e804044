// Seq continuity (DESIGN §1, §3, §4): the log's seqs are contiguous, and a subscription that
// sees all of it gets every one of them, so a seq it skips is an event it lost. Filtered
// subscriptions (`ns` / `kinds`), and unfiltered ones that the token narrows to some
// namespaces, see sparse seqs by design; events frames carry nothing that tells such a skip
// from a loss, but an /events page does: it holds every matching event after its `since` up to
// its `next`. So a client expects contiguous seqs unless it is filtered, or a page has shown it
// that the server has nothing for it right after its cursor (`markSparse`). What a page shows
// holds for one token (another may grant more) in one epoch (a new log starts over).

import { isEvent } from './frames.js';

/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */

/**
 * Splits `events` where they stop continuing `lastSeq`: `run` holds the events up to the first
 * hole (seq lastSeq + 1, + 2, …; duplicates, seq <= the last one, are dropped), `rest` every
 * item from the first one that would leave a hole, in the order given.
 * @param {unknown[]} events
 * @param {number} lastSeq
 * @returns {{ run: KubecastEvent[], rest: unknown[] }}
 */
export function splitAtHole(events, lastSeq) {
  /** @type {KubecastEvent[]} */
  const run = [];
  let last = lastSeq;
  for (let i = 0; i < events.length; i += 1) {
    const ev = events[i];
    if (!isEvent(ev) || ev.seq <= last) continue;
    if (ev.seq !== last + 1) return { run, rest: events.slice(i) };
    run.push(ev);
    last = ev.seq;
  }
  return { run, rest: [] };
}

/**
 * What the continuity rule reads from the client.
 * @typedef {object} ContinuityOwner
 * @property {() => boolean} filtered the subscription has an `ns` or `kinds` filter
 * @property {() => string} scope what the server's answers depend on: the epoch and the token
 */

export class Continuity {
  /** @param {ContinuityOwner} owner */
  constructor(owner) {
    this._owner = owner;
    /** @type {string | null} the scope in which a page showed sparse seqs */
    this._sparseIn = null;
  }

  /** Whether every seq must reach this client, so that a skipped one is a lost event. */
  expected() {
    return !this._owner.filtered() && this._sparseIn !== this._owner.scope();
  }

  /** A page showed that the server has nothing for this client right after its cursor. */
  markSparse() {
    this._sparseIn = this._owner.scope();
  }
}
