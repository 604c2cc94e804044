// Gap fill (DESIGN §5): where every seq must reach the client (continuity.js), socket frames
// that would leave a hole in its seqs are held, from the first hole on, while the skipped range
// is fetched over HTTP (a catch-up, whose pages are checked the same way); then the held frames
// are replayed in order through the same check, so a hole further on starts another fill and
// nothing is applied past a hole. A fill fails when its catch-up fails, or when it brought
// nothing (the cursor did not move, so the hole is still there); the client then resumes the
// socket from its cursor instead (the server replays what it missed).

/** @typedef {Record<string, any>} Frame */
/** @typedef {{ frames: Frame[], from: number | null }} HeldFrames */

/**
 * What a fill needs from the client.
 * @typedef {object} GapOwner
 * @property {() => Promise<unknown>} catchUp brings the state to the head over HTTP
 * @property {() => number | null} lastSeq
 * @property {(frames: Frame[]) => void} replay the range is filled: handle the held frames
 * @property {() => void} onFailed the range could not be fetched (the fill is still current)
 */

export class GapFill {
  /** @param {GapOwner} owner */
  constructor(owner) {
    this._owner = owner;
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
    const fill = { frames: [frame], from: owner.lastSeq() };
    this._current = fill;
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
    if (this._current) this._current.frames.push(frame);
  }

  /** The fill no longer applies (the socket is gone, or a snapshot replaced the state). */
  cancel() {
    this._current = null;
  }
}
