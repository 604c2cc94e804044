// Small DOM helpers: element creation and keyed reconciliation, so a redraw touches only the
// elements whose data changed (no innerHTML, no rebuilding of lists).

/**
 * An element with a class and optional text.
 * @param {string} tag
 * @param {string} [className]
 * @param {string} [text]
 * @returns {HTMLElement}
 */
export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** Sets text only when it differs (a write would invalidate layout even when equal). */
export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** Sets the class attribute only when it differs. */
export function setClass(node, className) {
  if (node.className !== className) node.className = className;
}

/** Shows or hides an element. */
export function setHidden(node, hidden) {
  if (node.hidden !== hidden) node.hidden = hidden;
}

/**
 * Makes `parent`'s children match `items` in order, reusing the child with the same key
 * (`data-key`), creating missing ones and removing the rest.
 * @template T
 * @param {Element} parent
 * @param {T[]} items
 * @param {{ key: (item: T) => string, create: (item: T) => HTMLElement,
 *   update?: (node: HTMLElement, item: T) => void, removed?: (node: HTMLElement) => void }} how
 */
export function reconcile(parent, items, how) {
  /** @type {Map<string, HTMLElement>} */
  const existing = new Map();
  for (const child of /** @type {HTMLCollectionOf<HTMLElement>} */ (parent.children)) {
    existing.set(child.dataset.key || '', child);
  }
  let cursor = parent.firstElementChild;
  for (const item of items) {
    const key = how.key(item);
    let node = existing.get(key);
    if (node) existing.delete(key);
    else {
      node = how.create(item);
      node.dataset.key = key;
    }
    if (how.update) how.update(node, item);
    if (node === cursor) cursor = cursor.nextElementSibling;
    else parent.insertBefore(node, cursor);
  }
  for (const node of existing.values()) {
    node.remove();
    if (how.removed) how.removed(node);
  }
}
