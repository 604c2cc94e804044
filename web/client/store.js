// The client's store: live objects and per-workload summaries, each a Map from `Kind/ns/name`
// to the last event of that object (the server's view keeps both under one key space). A
// snapshot replaces it, and the difference is reported per object. `StateAccess` is how the
// client's parts see its state.

/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */
/** @typedef {import('./kubecast.js').ObjectChange} ObjectChange */

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
