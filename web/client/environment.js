// The page around the client: the host functions it calls (fetch, timers, clock, random,
// WebSocket: injected or the browser's), the browser's online/offline and visibility signals,
// and the storage that remembers the user's live-updates switch across page loads. Every access
// is guarded, so a host without `window`, `document` or usable storage still runs the client.

/** @typedef {import('./kubecast.js').KubecastEnvironment} KubecastEnvironment */
/** @typedef {import('./kubecast.js').KubecastOptions} KubecastOptions */
/** @typedef {import('./kubecast.js').EnvironmentChange} EnvironmentChange */
/** @typedef {import('./kubecast.js').FetchLike} FetchLike */
/** @typedef {import('./kubecast.js').StorageLike} StorageLike */
/** @typedef {import('./kubecast.js').WebSocketConstructorLike} WebSocketConstructorLike */
/** @typedef {import('./timing.js').TimerFunctions} TimerFunctions */

export const DEFAULT_STORAGE_KEY = 'kubecast.live';

/**
 * `f`, called as a plain function whatever it is called on: a browser built-in given as an
 * option (`fetch: window.fetch`, `setTimeout: window.setTimeout`) throws "Illegal invocation"
 * when called as a method of another object, such as the client's options or one of its parts.
 * @template {(...args: any[]) => any} F
 * @param {F} f
 * @returns {F}
 */
export function unbound(f) {
  return /** @type {F} */ ((...args) => f(...args));
}

/**
 * The host functions the client calls: the options' (unbound), or the browser's.
 * @typedef {object} HostFunctions
 * @property {TimerFunctions} timers
 * @property {() => number} now
 * @property {() => number} random
 * @property {FetchLike} fetch
 * @property {WebSocketConstructorLike | null} WebSocket null: `globalThis.WebSocket` when connecting
 */

/**
 * @param {KubecastOptions} opts
 * @returns {HostFunctions}
 */
export function hostFunctions(opts) {
  return {
    timers: {
      setTimeout: opts.setTimeout ? unbound(opts.setTimeout) : (fn, ms) => globalThis.setTimeout(fn, ms),
      clearTimeout: opts.clearTimeout ? unbound(opts.clearTimeout) : (id) => globalThis.clearTimeout(id),
    },
    now: opts.now ? unbound(opts.now) : () => Date.now(),
    random: opts.random ? unbound(opts.random) : () => Math.random(),
    fetch: opts.fetch ? unbound(opts.fetch) : (url, init) => globalThis.fetch(url, init),
    WebSocket: opts.WebSocket || null,
  };
}

/**
 * The browser's online/offline and visibility signals (inert where there is no window).
 * @param {typeof globalThis} [g]
 * @returns {KubecastEnvironment}
 */
export function browserEnvironment(g = globalThis) {
  const win = g.window;
  const doc = g.document;
  return {
    isOnline: () => !g.navigator || g.navigator.onLine !== false,
    isHidden: () => !!doc && doc.visibilityState === 'hidden',
    /** @param {(change: EnvironmentChange) => void} listener */
    subscribe(listener) {
      const online = () => listener('online');
      const offline = () => listener('offline');
      const visibility = () => listener(doc && doc.visibilityState === 'hidden' ? 'hidden' : 'visible');
      if (win && win.addEventListener) {
        win.addEventListener('online', online);
        win.addEventListener('offline', offline);
      }
      if (doc && doc.addEventListener) doc.addEventListener('visibilitychange', visibility);
      return () => {
        if (win && win.removeEventListener) {
          win.removeEventListener('online', online);
          win.removeEventListener('offline', offline);
        }
        if (doc && doc.removeEventListener) doc.removeEventListener('visibilitychange', visibility);
      };
    },
  };
}

/** @returns {StorageLike | null} */
export function defaultStorage() {
  try {
    return globalThis.localStorage || null;
  } catch (e) {
    return null; // storage disabled (privacy settings, sandboxed frame)
  }
}

/**
 * The saved live-updates switch: on unless it was saved off.
 * @param {StorageLike | null} storage
 * @param {string} key
 */
export function readLiveSwitch(storage, key) {
  try {
    return !storage || storage.getItem(key) !== '0';
  } catch (e) {
    return true;
  }
}

/**
 * @param {StorageLike | null} storage
 * @param {string} key
 * @param {boolean} live
 */
export function writeLiveSwitch(storage, key, live) {
  try {
    if (storage) storage.setItem(key, live ? '1' : '0');
  } catch (e) {
    // quota or privacy mode: the switch still works for this page
  }
}
