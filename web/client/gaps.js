// Gap fill (DESIGN §5): without an `ns` / `kinds` filter the log's seqs reach a client
// contiguously, so an events frame that starts beyond lastSeq + 1 means the socket missed
// events. The client then holds the socket's events, fetches the missed range over HTTP, and
// applies the held events after it, in order. Filtered subscriptions see sparse seqs by design,
// and so does a token limited to some namespaces: once a fill finds nothing in the skipped
// range, skips stop counting as gaps for this client.

import { isEvent } from './frames.js';

/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */
/** @typedef {{ buffer: unknown[], firstHeld: number }} HeldEvents */

/**
 * What a fill needs from the client.
 * @typedef {object} GapOwner
 * @property {() => Promise<KubecastEvent[]>} catchUp the events applied over HTTP
 * @property {(held: unknown[]) => void} applyHeld the range is filled: apply the held events
 * @property {() => void} onFailed the range could not be fetched (the fill is still current)
 */

export class GapFill {
  /** @param {GapOwner} owner */
  constructor(owner) {
    this._owner = owner;
    this._sparse = false;
    /** @type {HeldEvents | null} */
    this._current = null;
  }

  /** A fill is under way: the socket's events are held. */
  get active() {
    return this._current !== null;
  }

  /**
   * Whether `events` skip seqs after `lastSeq` that an unfiltered subscription must have seen.
   * @param {unknown[]} events
   * @param {number | null} lastSeq
   * @param {boolean} filtered
   */
  isGap(events, lastSeq, filtered) {
    if (this._sparse || filtered || lastSeq === null) return false;
    const first = events.find(isEvent);
    return !!first && first.seq > lastSeq + 1;
  }

  /**
   * Holds `events` and fetches what came before them.
   * @param {unknown[]} events
   */
  start(events) {
    const first = events.find(isEvent);
    /** @type {HeldEvents} */
    const fill = { buffer: events.filter(isEvent), firstHeld: first ? first.seq : 0 };
    this._current = fill;
    this._owner.catchUp().then(
      (applied) => {
        if (this._current !== fill) return;
        this._current = null;
        if (!applied.some((ev) => ev.seq < fill.firstHeld)) this._sparse = true;
        this._owner.applyHeld(fill.buffer);
      },
      () => {
        if (this._current !== fill) return;
        this._owner.onFailed();
      },
    );
  }

  /**
   * More socket events while a fill is under way.
   * @param {unknown[]} events
   */
  hold(events) {
    if (this._current) this._current.buffer.push(...events);
  }

  /** The fill no longer applies (the socket is gone, or a snapshot replaced the state). */
  cancel() {
    this._current = null;
  }
}
