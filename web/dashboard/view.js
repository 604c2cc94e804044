// The dashboard's page: the nodes, then one section per namespace with its workload cards and
// services. `draw` redraws only what the ClusterIndex reports touched since the last frame.

import { sortedWorkloads } from './cluster.js';
import { el, reconcile, setClass, setHidden, setText } from './dom.js';
import { serviceText, summaryText } from './format.js';
import { WorkloadCard } from './workload.js';

/**
 * @typedef {import('./cluster.js').ClusterIndex} ClusterIndex
 * @typedef {import('./cluster.js').Namespace} Namespace
 * @typedef {import('./cluster.js').Touched} Touched
 */

function createSection() {
  const section = el('section', 'namespace');
  const h2 = el('h2');
  h2.append(el('span', 'ns-name'), el('span', 'ns-phase'), el('span', 'ns-summary'));
  const services = el('div', 'services');
  services.append(el('h3', undefined, 'Services'), el('ul'));
  section.append(h2, el('div', 'workloads'), services);
  return section;
}

/** @param {HTMLElement} section @param {Namespace} ns */
function drawNamespaceHead(section, ns) {
  const [name, phase, summary] = /** @type {HTMLElement[]} */ ([...section.children[0].children]);
  setText(name, ns.name);
  const p = ns.object && ns.object.obj && ns.object.obj.phase;
  setText(phase, p && p !== 'Active' ? p : '');
  setHidden(phase, !p || p === 'Active');
  setText(summary, ns.summary ? summaryText(ns.summary.obj || {}) : '');
}

/** @param {HTMLElement} li @param {any} svc */
function drawService(li, svc) {
  const o = svc.obj || {};
  const pods = o.pods || { ready: [], notReady: [] };
  const [name, detail, count, squares] = /** @type {HTMLElement[]} */ ([...li.children]);
  setText(name, svc.name);
  setText(detail, serviceText(o));
  setText(count, `${pods.ready.length}/${pods.ready.length + pods.notReady.length} ready`);
  const items = [...pods.ready.map((n) => [n, 'ready']), ...pods.notReady.map((n) => [n, 'starting'])];
  reconcile(squares, items, {
    key: ([n]) => n,
    create: ([n]) => Object.assign(el('span'), { title: n }),
    update: (node, [, state]) => setClass(node, `pod ${state}`),
  });
}

function createService() {
  const li = el('li', 'service');
  li.append(el('b'), el('span', 'detail'), el('span', 'count'), el('span', 'pods'));
  return li;
}

export class DashboardView {
  /**
   * @param {{ nodes: HTMLElement, namespaces: HTMLElement }} roots
   * @param {ClusterIndex} index
   */
  constructor(roots, index) {
    this.roots = roots;
    this.index = index;
    /** @type {Map<string, HTMLElement>} namespace sections by name */
    this.sections = new Map();
    /** @type {Map<string, WorkloadCard>} by workload key */
    this.cards = new Map();
    /** Workloads to redraw at a time (pods settling or fading). @type {Map<string, number>} */
    this.due = new Map();
    /** Namespaces shown (all when empty). @type {Set<string>} */
    this.only = new Set();
    this.drawn = false;
  }

  /**
   * Redraws what changed; returns when to draw again for pending transitions (or null).
   * @param {Touched} touched
   * @param {number} now
   */
  draw(touched, now) {
    const immediate = !this.drawn;
    this.drawn = true;
    if (touched.layout || touched.namespaces.size || touched.services.size) {
      for (const name of this._drawSections()) {
        touched.namespaces.add(name);
        touched.services.add(name);
      }
    }
    for (const name of touched.namespaces) this._drawNamespace(name);
    for (const name of touched.services) this._drawServices(name);
    for (const [key, at] of this.due) if (at <= now) touched.workloads.add(key);
    for (const key of touched.workloads) this._drawWorkload(key, now, immediate);
    if (touched.nodes) this._drawNodes();
    let next = /** @type {number | null} */ (null);
    for (const at of this.due.values()) if (next === null || at < next) next = at;
    return next;
  }

  /** Shows only `names` (all when empty). @param {string[]} names */
  filter(names) {
    this.only = new Set(names);
    for (const [name, section] of this.sections) setHidden(section, this.only.size > 0 && !this.only.has(name));
  }

  /** Adds and removes namespace sections; returns the names of new ones. */
  _drawSections() {
    const names = [...this.index.namespaces.keys()].sort();
    /** @type {string[]} */
    const created = [];
    reconcile(this.roots.namespaces, names, {
      key: (n) => n,
      create: (n) => {
        const section = createSection();
        this.sections.set(n, section);
        created.push(n);
        return section;
      },
      removed: (section) => this.sections.delete(section.dataset.key || ''),
    });
    if (created.length) this.filter([...this.only]);
    return created;
  }

  _drawNamespace(name) {
    const ns = this.index.namespaces.get(name);
    const section = this.sections.get(name);
    if (!ns || !section) return;
    drawNamespaceHead(section, ns);
    reconcile(/** @type {HTMLElement} */ (section.children[1]), sortedWorkloads(ns), {
      key: (w) => w.key,
      create: (w) => {
        const card = new WorkloadCard();
        this.cards.set(w.key, card);
        return card.node;
      },
      removed: (node) => {
        this.cards.delete(node.dataset.key || '');
        this.due.delete(node.dataset.key || '');
      },
    });
  }

  _drawWorkload(key, now, immediate) {
    const [nsName] = key.split('/', 1);
    const ns = this.index.namespaces.get(nsName);
    const workload = ns && ns.workloads.get(key);
    const card = this.cards.get(key);
    this.due.delete(key);
    if (!workload || !card) return;
    const at = card.draw(workload, this.index, now, immediate);
    if (at !== null) this.due.set(key, at);
  }

  _drawServices(name) {
    const ns = this.index.namespaces.get(name);
    const section = this.sections.get(name);
    if (!ns || !section) return;
    const box = /** @type {HTMLElement} */ (section.children[2]);
    const services = [...ns.services.values()].sort((a, b) => a.name.localeCompare(b.name));
    setHidden(box, services.length === 0);
    reconcile(/** @type {HTMLElement} */ (box.lastElementChild), services, { key: (s) => s.name, create: createService, update: drawService });
  }

  _drawNodes() {
    const nodes = [...this.index.nodes.values()].sort((a, b) => a.name.localeCompare(b.name));
    reconcile(this.roots.nodes, nodes, {
      key: (n) => n.name,
      create: () => {
        const li = el('li', 'node');
        li.append(el('b'), el('span', 'detail'));
        return li;
      },
      update: (li, n) => {
        const o = n.obj || {};
        const state = o.ready ? (o.unschedulable ? 'cordoned' : 'ready') : 'notready';
        setClass(li, `node ${state}`);
        setText(/** @type {HTMLElement} */ (li.firstElementChild), n.name);
        const pods = this.index.podsOnNode.get(n.name) || 0;
        const words = { ready: 'Ready', cordoned: 'Ready, cordoned', notready: 'NotReady' };
        setText(/** @type {HTMLElement} */ (li.lastElementChild), `${words[state]} · ${pods} pods`);
      },
    });
  }
}
