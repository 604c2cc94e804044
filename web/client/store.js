// The client's store: live objects and per-workload summaries, each a Map from `Kind/ns/name`
// to the last event of that object (the server's view keeps both under one key space). Events
// change it one at a time; a snapshot replaces it, and the difference is reported per object.
// `ClientState` holds it with the cursor (epoch, lastSeq), and `StateAccess` is how the
// client's parts (catch-up, socket frames) see and change that state.

import { isEvent } from './frames.js';

/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */
/** @typedef {import('./kubecast.js').ObjectChange} ObjectChange */
/** @typedef {{ objects: Map<string, KubecastEvent>, summaries: Map<string, KubecastEvent> }} Store */

/**
 * The client's state as its parts read and change it.
 * @typedef {object} StateAccess
 * @property {() => string | null} epoch
 * @property {() => number | null} lastSeq
 * @property {(epoch: unknown, events: unknown[]) => KubecastEvent[]} applyEvents
 *   applies events of `epoch` in order, dropping seq <= lastSeq; returns the applied ones
 * @property {(epoch: unknown, seq: unknown) => void} advance moves lastSeq up to `seq` (same epoch)
 * @property {(epoch: string, seq: number, objects: unknown[], summaries: unknown[]) => void} replaceState
 *   a snapshot replaces the state
 */

/**
 * The store key of an event or object: `Kind/ns/name`.
 * @param {{ kind: string, ns: string, name: string }} ev
 */
export function objectKey(ev) {
  return `${ev.kind}/${ev.ns}/${ev.name}`;
}

/**
 * A store Map of a snapshot's list (entries that are not events are skipped).
 * @param {unknown[]} items
 * @returns {Map<string, KubecastEvent>}
 */
export function storeMap(items) {
  return new Map(items.filter(isEvent).map((o) => [objectKey(o), o]));
}

/**
 * Applies the events after `state.lastSeq` in order (others, and anything that is not an event,
 * are dropped), moving lastSeq along. Returns the applied events and the object changes
 * (summaries and churn warnings are not object changes).
 * @param {Store & { lastSeq: number | null }} state
 * @param {unknown[]} events
 */
export function applyNewEvents(state, events) {
  /** @type {KubecastEvent[]} */
  const applied = [];
  /** @type {ObjectChange[]} */
  const changes = [];
  for (const ev of events) {
    if (!isEvent(ev) || (state.lastSeq !== null && ev.seq <= state.lastSeq)) continue;
    state.lastSeq = ev.seq;
    applied.push(ev);
    applyToStore(state, ev, changes);
  }
  return { applied, changes };
}

/**
 * @param {Store} store
 * @param {KubecastEvent} ev
 * @param {ObjectChange[]} changes
 */
function applyToStore(store, ev, changes) {
  const key = objectKey(ev);
  if (ev.op === 'summary') {
    store.summaries.set(key, ev);
  } else if (ev.op === 'deleted') {
    // The server's view keeps objects and summaries under one key space: a delete removes
    // either (a finished Job's summary goes this way).
    store.summaries.delete(key);
    const previous = store.objects.get(key);
    if (previous) {
      store.objects.delete(key);
      changes.push({ type: 'deleted', key, object: ev, previous });
    }
  } else if (ev.op !== 'churn') {
    const previous = store.objects.get(key);
    store.objects.set(key, ev);
    changes.push(previous ? { type: 'modified', key, object: ev, previous } : { type: 'added', key, object: ev });
  }
}

/**
 * @param {KubecastEvent} a
 * @param {KubecastEvent} b
 */
function sameObject(a, b) {
  if (Number.isFinite(a.seq) && Number.isFinite(b.seq)) return a.seq === b.seq;
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Per-object changes from one store state to the next (used when a snapshot replaces it).
 * @param {Map<string, KubecastEvent>} before
 * @param {Map<string, KubecastEvent>} after
 * @returns {ObjectChange[]}
 */
export function diffStores(before, after) {
  /** @type {ObjectChange[]} */
  const changes = [];
  for (const [key, object] of after) {
    const previous = before.get(key);
    if (!previous) changes.push({ type: 'added', key, object });
    else if (!sameObject(previous, object)) changes.push({ type: 'modified', key, object, previous });
  }
  for (const [key, previous] of before) {
    if (!after.has(key)) changes.push({ type: 'deleted', key, object: previous, previous });
  }
  return changes;
}

/**
 * What a state change tells the client.
 * @typedef {object} StateOwner
 * @property {(applied: KubecastEvent[], changes: ObjectChange[]) => void} onApplied events were applied
 * @property {(changes: ObjectChange[]) => void} onReplaced a snapshot replaced the state
 */

/** The cursor (epoch, lastSeq) and the store; `generation` counts the snapshots. */
export class ClientState {
  /** @param {StateOwner} owner */
  constructor(owner) {
    this._owner = owner;
    /** @type {string | null} */
    this.epoch = null;
    /** @type {number | null} */
    this.lastSeq = null;
    /** @type {Map<string, KubecastEvent>} */
    this.objects = new Map();
    /** @type {Map<string, KubecastEvent>} */
    this.summaries = new Map();
    this.generation = 0; // bumped by every snapshot, so a catch-up under way sees it was overtaken
  }

  /** @returns {StateAccess} */
  access() {
    return {
      epoch: () => this.epoch,
      lastSeq: () => this.lastSeq,
      applyEvents: (epoch, events) => this.applyEvents(epoch, events),
      advance: (epoch, seq) => this.advance(epoch, seq),
      replaceState: (epoch, seq, objects, summaries) => this.replace(epoch, seq, objects, summaries),
    };
  }

  /**
   * Applies events of `epoch` in order, dropping seq <= lastSeq; returns the applied ones.
   * @param {unknown} epoch
   * @param {unknown[]} events
   * @returns {KubecastEvent[]}
   */
  applyEvents(epoch, events) {
    if (epoch !== this.epoch || this.lastSeq === null) return [];
    const { applied, changes } = applyNewEvents(this, events);
    if (applied.length) this._owner.onApplied(applied, changes);
    return applied;
  }

  /**
   * A snapshot replaces the whole state; objects missing from it are reported deleted.
   * @param {string} epoch
   * @param {number} seq
   * @param {unknown[]} objects
   * @param {unknown[]} summaries
   */
  replace(epoch, seq, objects, summaries) {
    const next = storeMap(objects);
    const changes = diffStores(this.objects, next);
    this.epoch = epoch;
    this.lastSeq = seq;
    this.objects = next;
    this.summaries = storeMap(summaries);
    this.generation += 1;
    this._owner.onReplaced(changes);
  }

  /**
   * Moves lastSeq up to `seq` (same epoch): every event up to it has been seen.
   * @param {unknown} epoch
   * @param {unknown} seq
   */
  advance(epoch, seq) {
    if (epoch === this.epoch && this.lastSeq !== null && typeof seq === 'number' && seq > this.lastSeq) {
      this.lastSeq = seq;
    }
  }
}
