// Gap fill (DESIGN §5): where every seq must reach the client (continuity.js), socket frames
// that would leave a hole in its seqs are held, from the first hole on, while the skipped range
// is fetched over HTTP (a catch-up, whose pages are checked the same way); then the held frames
// are replayed in order through the same check, so a hole further on starts another fill and
// nothing is applied past a hole. A fill fails when its catch-up fails, or when it brought
// nothing (the cursor did not move, so the hole is still there); the client then resumes the
// socket from its cursor instead (the server replays what it missed). So does a fill that would
// hold more than `maxHeldEvents` events: they are dropped, never applied out of order.

/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {Record<string, any>} Frame */
/** @typedef {{ frames: Frame[], from: number | null, events: number }} HeldFrames */

/**
 * What a fill needs from the client.
 * @typedef {object} GapOwner
 * @property {() => Promise<unknown>} catchUp brings the state to the head over HTTP
 * @property {() => number | null} lastSeq
 * @property {(frames: Frame[]) => void} replay the range is filled: handle the held frames
 * @property {() => void} onFailed the range could not be fetched (the fill is still current)
 */

export class GapFill {
  /**
   * @param {GapOwner} owner
   * @param {{ readonly timing: KubecastTiming }} settings the client's, read at each use
   */
  constructor(owner, settings) {
    this._owner = owner;
    this._settings = settings;
    /** @type {HeldFrames | null} */
    this._current = null;
  }

  /** A fill is under way: the socket's frames are held. */
  get active() {
    return this._current !== null;
  }

  /**
   * Holds `frame` (it starts at a hole) and fetches what came before it.
   * @param {Frame} frame
   */
  start(frame) {
    const owner = this._owner;
    /** @type {HeldFrames} */
    const fill = { frames: [], from: owner.lastSeq(), events: 0 };
    this._current = fill;
    this.hold(frame);
    if (this._current !== fill) return; // too big to hold: given up already
    owner.catchUp().then(
      () => {
        if (this._current !== fill) return;
        if (owner.lastSeq() === fill.from) {
          owner.onFailed(); // nothing came: the hole is still there
          return;
        }
        this._current = null;
        owner.replay(fill.frames);
      },
      () => {
        if (this._current === fill) owner.onFailed();
      },
    );
  }

  /**
   * A frame that came while a fill is under way: it waits for the fill.
   * @param {Frame} frame
   */
  hold(frame) {
    const fill = this._current;
    if (!fill) return;
    fill.frames.push(frame);
    fill.events += Array.isArray(frame.events) ? frame.events.length : 0;
    if (fill.events > this._settings.timing.maxHeldEvents) {
      fill.frames = []; // too many to hold: resume from the cursor instead
      this._owner.onFailed();
    }
  }

  /** The fill no longer applies (the socket is gone, or a snapshot replaced the state). */
  cancel() {
    this._current = null;
  }
}
