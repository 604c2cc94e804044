// The client's listeners by type (`change`, `status`, `event`, `object`, `error`), from the
// `on*` options and `client.on()`. A listener that throws is reported (`reportError` /
// `console.error`) and never stops the client or the other listeners.

/** @typedef {import('./kubecast.js').KubecastOptions} KubecastOptions */
/** @typedef {import('./kubecast.js').KubecastListeners} KubecastListeners */

/** @type {ReadonlyArray<[keyof KubecastOptions, keyof KubecastListeners]>} */
const OPTION_LISTENERS = Object.freeze([
  ['onChange', 'change'],
  ['onStatus', 'status'],
  ['onEvent', 'event'],
  ['onObject', 'object'],
  ['onError', 'error'],
]);

export class Listeners {
  /**
   * The listeners given as `on*` options.
   * @param {KubecastOptions} opts
   */
  static fromOptions(opts) {
    const listeners = new Listeners();
    for (const [option, type] of OPTION_LISTENERS) {
      const listener = opts[option];
      if (typeof listener === 'function') listeners.add(type, /** @type {Function} */ (listener));
    }
    return listeners;
  }

  constructor() {
    /** @type {Map<string, Set<Function>>} */
    this._byType = new Map();
  }

  /**
   * Adds a listener; returns its remover.
   * @param {string} type
   * @param {Function} listener
   */
  add(type, listener) {
    let listeners = this._byType.get(type);
    if (!listeners) this._byType.set(type, (listeners = new Set()));
    const set = listeners;
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  /**
   * Calls every listener of `type` (as registered when the emit starts) with `args`.
   * @param {keyof KubecastListeners} type
   * @param {...unknown} args
   */
  emit(type, ...args) {
    const listeners = this._byType.get(type);
    if (!listeners) return;
    for (const listener of [...listeners]) {
      try {
        listener(...args);
      } catch (e) {
        reportListenerError(e); // a failing UI callback must not break the client
      }
    }
  }
}

/** @param {unknown} e */
function reportListenerError(e) {
  if (typeof globalThis.reportError === 'function') globalThis.reportError(e);
  else if (globalThis.console) globalThis.console.error(e);
}
