// What the socket's frames do to the client's state (docs/protocol.md, "WebSocket"): `hello`
// makes the socket live; `snapshot` parts are assembled and replace the state once the last one
// has arrived; `events` are applied in order, and held while a gap is filled over HTTP
// (gaps.js); `position` advances the cursor; `reset`, or a frame of another epoch, means the
// state comes from a snapshot. While a snapshot is awaited, events frames are not applied (the
// snapshot includes them). Everything here belongs to one socket and is void once it is gone.

import { parseFrame } from './frames.js';
import { GapFill } from './gaps.js';

/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */
/** @typedef {import('./store.js').StateAccess} StateAccess */
/** @typedef {{ objects: unknown[], summaries: unknown[] }} PendingSnapshot */

/**
 * What the frames need from the client besides its state (`StateAccess`).
 * @typedef {object} StreamHooks
 * @property {() => boolean} filtered the subscription has an `ns` or `kinds` filter (sparse seqs)
 * @property {() => void} onHello
 * @property {() => void} requestSnapshot our state is from another epoch
 * @property {() => Promise<KubecastEvent[]>} catchUp over HTTP, to fill a gap
 * @property {() => void} onGapUnfilled the gap could not be fetched
 */

/** @typedef {StateAccess & StreamHooks} StreamOwner */

export class FrameStream {
  /** @param {StreamOwner} owner */
  constructor(owner) {
    this._owner = owner;
    /** @type {PendingSnapshot | null} */
    this._pendingSnapshot = null; // the parts received so far
    this._awaitingSnapshot = false;
    this._gaps = new GapFill({
      catchUp: () => owner.catchUp(),
      applyHeld: (held) => owner.applyEvents(owner.epoch(), held),
      onFailed: () => owner.onGapUnfilled(),
    });
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
    if (!frame) return;
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

  /** @param {Record<string, any>} frame */
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

  /** @param {Record<string, any>} frame */
  _onEvents(frame) {
    const owner = this._owner;
    if (!Array.isArray(frame.events) || this._awaitingSnapshot || owner.epoch() === null) return;
    if (frame.epoch !== owner.epoch()) {
      owner.requestSnapshot(); // epoch change without a reset: our state is from a dead log
      return;
    }
    const lastSeq = owner.lastSeq();
    if (lastSeq === null) return; // a snapshot was requested and has not arrived yet
    if (this._gaps.active) {
      this._gaps.hold(frame.events);
      return;
    }
    if (this._gaps.isGap(frame.events, lastSeq, owner.filtered())) this._gaps.start(frame.events);
    else owner.applyEvents(frame.epoch, frame.events);
  }

  /** @param {Record<string, any>} frame */
  _onPosition(frame) {
    const owner = this._owner;
    const epoch = owner.epoch();
    if (epoch !== null && owner.lastSeq() !== null && frame.epoch !== epoch && !this._awaitingSnapshot) {
      owner.requestSnapshot();
    } else if (!this._gaps.active) {
      owner.advance(frame.epoch, frame.seq);
    }
  }
}
