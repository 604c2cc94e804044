// What the socket's frames do to the client's state (docs/protocol.md, "WebSocket"): `hello`
// makes the socket live; `snapshot` parts are assembled and replace the state once the last one
// has arrived; `events` are applied in order; `position` advances the cursor; `reset`, or a
// frame of another epoch, means the state comes from a snapshot. While a snapshot is awaited,
// events and positions are not applied (the snapshot includes them). Where every seq must reach
// the client (continuity.js), an events frame is applied up to its first hole, and a `position`
// beyond the cursor is a hole too: the rest is held while the hole is filled over HTTP
// (gaps.js). Everything here belongs to one socket and is void once it is gone.

import { splitAtHole } from './continuity.js';
import { parseFrame } from './frames.js';
import { GapFill } from './gaps.js';

/** @typedef {import('./continuity.js').Continuity} Continuity */
/** @typedef {import('./kubecast.js').KubecastTiming} KubecastTiming */
/** @typedef {import('./gaps.js').Frame} Frame */
/** @typedef {import('./store.js').StateAccess} StateAccess */
/** @typedef {{ objects: unknown[], summaries: unknown[] }} PendingSnapshot */

/**
 * What the frames need from the client besides its state (`StateAccess`).
 * @typedef {object} StreamHooks
 * @property {Continuity} continuity whether every seq must reach the client
 * @property {() => void} onHello
 * @property {() => void} requestSnapshot our state is from another epoch
 * @property {() => Promise<unknown>} catchUp over HTTP, to fill a gap
 * @property {() => void} onGapUnfilled the gap could not be fetched
 */

/** @typedef {StateAccess & StreamHooks} StreamOwner */

export class FrameStream {
  /**
   * @param {StreamOwner} owner
   * @param {{ readonly timing: KubecastTiming }} settings the client's, read at each use
   */
  constructor(owner, settings) {
    this._owner = owner;
    /** @type {PendingSnapshot | null} */
    this._pendingSnapshot = null; // the parts received so far
    this._awaitingSnapshot = false;
    this._gaps = new GapFill({
      catchUp: () => owner.catchUp(),
      lastSeq: () => owner.lastSeq(),
      replay: (frames) => frames.forEach((frame) => this._onFrame(frame)),
      onFailed: () => owner.onGapUnfilled(),
    }, settings);
  }

  /** A snapshot was asked for on the socket: events wait for it. */
  awaitSnapshot() {
    this._awaitingSnapshot = true;
  }

  /** A snapshot (from the socket or over HTTP) replaced the state. */
  stateReplaced() {
    this._awaitingSnapshot = false;
    this._gaps.cancel();
  }

  /** The socket is gone: its partial snapshot and held events are void. */
  forget() {
    this._pendingSnapshot = null;
    this._awaitingSnapshot = false;
    this._gaps.cancel();
  }

  /** @param {unknown} data */
  onFrame(data) {
    const frame = parseFrame(data);
    if (frame) this._onFrame(frame);
  }

  /** @param {Frame} frame */
  _onFrame(frame) {
    switch (frame.type) {
      case 'hello':
        this._owner.onHello();
        break;
      case 'snapshot':
        this._onSnapshotPart(frame);
        break;
      case 'events':
        this._onEvents(frame);
        break;
      case 'position':
        this._onPosition(frame);
        break;
      case 'reset':
        // The cursor cannot be resumed; a snapshot follows on the socket. Keep showing the
        // old objects until it has arrived, then replace them.
        this._awaitingSnapshot = true;
        this._pendingSnapshot = null;
        break;
      default:
        break; // pong, error (a close follows when it matters), future frame types
    }
  }

  /** @param {Frame} frame */
  _onSnapshotPart(frame) {
    if (!Array.isArray(frame.objects)) return;
    if (frame.part === 0 || !this._pendingSnapshot) this._pendingSnapshot = { objects: [], summaries: [] };
    const pending = this._pendingSnapshot;
    pending.objects.push(...frame.objects);
    if (Array.isArray(frame.summaries)) pending.summaries.push(...frame.summaries);
    if (frame.last !== false) {
      this._pendingSnapshot = null;
      this._owner.replaceState(frame.epoch, frame.seq, pending.objects, pending.summaries);
    }
  }

  /** @param {Frame} frame */
  _onEvents(frame) {
    const owner = this._owner;
    if (!Array.isArray(frame.events) || !this._sameEpoch(frame)) return;
    const lastSeq = owner.lastSeq();
    if (lastSeq === null) return; // a snapshot was requested and has not arrived yet
    if (this._gaps.active) {
      this._gaps.hold(frame);
    } else if (!owner.continuity.expected()) {
      owner.applyEvents(frame.epoch, frame.events);
    } else {
      const { run, rest } = splitAtHole(frame.events, lastSeq);
      if (run.length) owner.applyEvents(frame.epoch, run);
      if (rest.length) this._gaps.start({ ...frame, events: rest });
    }
  }

  /** @param {Frame} frame */
  _onPosition(frame) {
    const owner = this._owner;
    const lastSeq = owner.lastSeq();
    if (!this._sameEpoch(frame) || lastSeq === null) return;
    if (this._gaps.active) this._gaps.hold(frame);
    else if (owner.continuity.expected() && frame.seq > lastSeq) this._gaps.start(frame); // sent, but not to us
    else owner.advance(frame.epoch, frame.seq);
  }

  /**
   * Whether an events or position frame is about our state: not while a snapshot is awaited,
   * and one of another epoch asks for a snapshot (an epoch change without a reset).
   * @param {Frame} frame
   */
  _sameEpoch(frame) {
    const epoch = this._owner.epoch();
    if (this._awaitingSnapshot || epoch === null) return false;
    if (frame.epoch === epoch) return true;
    if (this._owner.lastSeq() !== null) this._owner.requestSnapshot(); // our state is from a dead log
    return false;
  }
}
