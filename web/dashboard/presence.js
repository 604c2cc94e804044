// Smooth pod transitions. A new pod is drawn once it has existed for `settleMs`, so a pod that
// comes and goes faster never flickers onto the page; a deleted pod stays `fadeMs` marked as
// leaving (the view fades it out) before it disappears; one back within that time is shown
// again at once. Pure: the caller passes the time.

/**
 * @template T
 * @typedef {{ name: string, pod: T, leaving: boolean }} PresenceItem
 */

/** @template T */
export class Presence {
  /** @param {{ settleMs?: number, fadeMs?: number }} [timing] */
  constructor({ settleMs = 800, fadeMs = 600 } = {}) {
    this.settleMs = settleMs;
    this.fadeMs = fadeMs;
    /** Pods not drawn yet, by when they were first seen. @type {Map<string, number>} */
    this._waiting = new Map();
    /** @type {Map<string, T>} */
    this._shown = new Map();
    /** @type {Map<string, { pod: T, since: number }>} */
    this._leaving = new Map();
  }

  /**
   * What to draw now for the pods currently in the store, sorted by name, and when to ask again
   * (`nextAt`, null when nothing is pending).
   * @param {Map<string, T>} pods
   * @param {number} now
   * @param {boolean} [immediate] draw new pods at once (the page's first load)
   * @returns {{ items: PresenceItem<T>[], nextAt: number | null }}
   */
  view(pods, now, immediate = false) {
    /** @type {PresenceItem<T>[]} */
    const items = [];
    let nextAt = /** @type {number | null} */ (null);
    const wakeAt = (/** @type {number} */ t) => {
      if (nextAt === null || t < nextAt) nextAt = t;
    };
    for (const [name, pod] of pods) {
      const wasLeaving = this._leaving.delete(name);
      if (wasLeaving || this._shown.has(name) || immediate || this._settled(name, now)) {
        this._waiting.delete(name);
        this._shown.set(name, pod);
        items.push({ name, pod, leaving: false });
      } else {
        wakeAt(/** @type {number} */ (this._waiting.get(name)) + this.settleMs);
      }
    }
    this._forgetGone(pods, now);
    for (const [name, { pod, since }] of this._leaving) {
      if (now - since >= this.fadeMs) this._leaving.delete(name);
      else {
        items.push({ name, pod, leaving: true });
        wakeAt(since + this.fadeMs);
      }
    }
    items.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { items, nextAt };
  }

  /** Something is drawn at `now`: a shown pod, or one still fading out. @param {number} now */
  drawsAt(now) {
    if (this._shown.size) return true;
    for (const { since } of this._leaving.values()) if (now - since < this.fadeMs) return true;
    return false;
  }

  /** @param {string} name @param {number} now */
  _settled(name, now) {
    const first = this._waiting.get(name);
    if (first === undefined) {
      this._waiting.set(name, now);
      return this.settleMs <= 0;
    }
    return now - first >= this.settleMs;
  }

  /** Shown pods no longer in the store start leaving; waiting ones are dropped unseen. */
  _forgetGone(pods, now) {
    for (const [name, pod] of this._shown) {
      if (pods.has(name)) continue;
      this._shown.delete(name);
      this._leaving.set(name, { pod, since: now });
    }
    for (const name of this._waiting.keys()) if (!pods.has(name)) this._waiting.delete(name);
  }
}
