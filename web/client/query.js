// The query the client sends with every request and socket (docs/protocol.md): its
// subscription filter (`ns`, `kinds`), and the cursor (`since` + `epoch`) once it has a state
// to resume from.

/**
 * @typedef {object} Subscription
 * @property {string[]} ns
 * @property {string[]} kinds
 */

/**
 * `?ns=a,b&kinds=Pod` (empty lists are left out: everything the token grants).
 * @param {Subscription} sub
 */
export function filterQuery(sub) {
  const q = new URLSearchParams();
  if (sub.ns.length) q.set('ns', sub.ns.join(','));
  if (sub.kinds.length) q.set('kinds', sub.kinds.join(','));
  return q;
}

/**
 * The filter plus `since` and `epoch` when there is a state to resume from.
 * @param {Subscription & { epoch: string | null, lastSeq: number | null }} client
 */
export function cursorQuery(client) {
  const q = filterQuery(client);
  if (client.epoch !== null && client.lastSeq !== null) {
    q.set('since', String(client.lastSeq));
    q.set('epoch', client.epoch);
  }
  return q;
}
