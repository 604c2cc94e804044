// What the client accepts from the server (docs/protocol.md): frames are JSON objects with a
// string `type`; events carry a numeric `seq`. Anything else is ignored, never thrown on.

/** @typedef {import('./kubecast.js').KubecastEvent} KubecastEvent */

/**
 * A server frame, or null for anything that is not a JSON object with a string `type`.
 * @param {unknown} data
 * @returns {Record<string, any> | null}
 */
export function parseFrame(data) {
  if (typeof data !== 'string') return null;
  try {
    const frame = JSON.parse(data);
    return frame && typeof frame === 'object' && typeof frame.type === 'string' ? frame : null;
  } catch (e) {
    return null;
  }
}

/**
 * @param {any} ev
 * @returns {ev is KubecastEvent}
 */
export function isEvent(ev) {
  return !!ev && typeof ev === 'object' && Number.isFinite(ev.seq);
}
