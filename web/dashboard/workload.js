// One workload's card: its status line, a Job's progress bar, its groups (a Deployment's
// ReplicaSets, a CronJob's Jobs) with their pods as small squares, or, while the workload
// churns, its pod summary and a churn warning instead of the pods.

import { el, reconcile, setClass, setHidden, setText } from './dom.js';
import { cronText, jobProgress, podState, podTitle, rolloutText, summaryText } from './format.js';
import { CHURN_STALE_MS } from './cluster.js';
import { Presence } from './presence.js';

/**
 * @typedef {import('./cluster.js').Workload} Workload
 * @typedef {import('./cluster.js').Group} Group
 * @typedef {import('./cluster.js').ClusterIndex} ClusterIndex
 */

/** The card's fixed parts, kept on the element. */
function createCard() {
  const card = el('article', 'workload');
  const head = el('header');
  head.append(el('span', 'kind'), el('b', 'name'), el('span', 'status'), el('span', 'churn'));
  const progress = createProgress();
  const summary = el('div', 'summary');
  summary.append(el('div', 'stack'), el('span', 'summary-text'));
  card.append(head, progress, summary, el('div', 'groups'));
  return card;
}

function createProgress() {
  const progress = el('div', 'progress');
  const bar = el('div', 'bar');
  bar.append(el('div', 'done'));
  progress.append(bar, el('span', 'progress-text'));
  return progress;
}

/** @param {HTMLElement} node @param {{ fraction: number, text: string, failed: boolean } | null} p */
function drawProgress(node, p) {
  setHidden(node, !p);
  if (!p) return;
  const done = /** @type {HTMLElement} */ (node.querySelector('.done'));
  const width = `${(p.fraction * 100).toFixed(1)}%`;
  if (done.style.width !== width) done.style.width = width;
  setClass(node, p.failed ? 'progress failed' : 'progress');
  setText(/** @type {HTMLElement} */ (node.querySelector('.progress-text')), p.text);
}

/** The workload's own status line. @param {Workload} w */
function statusText(w) {
  const o = w.object && w.object.obj;
  if (!o) return w.kind === 'Pod' ? 'pods without a controller' : '';
  if (w.kind === 'CronJob') return cronText(o);
  if (w.kind === 'Job') return '';
  return rolloutText(o);
}

/** Stacked bar of a summary's pod counts (ready, pending, terminating, failed). */
function drawStack(stack, s) {
  const total = Math.max(1, s.total || 0);
  const parts = ['ready', 'pending', 'terminating', 'failed'];
  if (stack.children.length !== parts.length) stack.replaceChildren(...parts.map((p) => el('span', p)));
  parts.forEach((p, i) => {
    const width = `${(((s[p] || 0) / total) * 100).toFixed(1)}%`;
    const part = /** @type {HTMLElement} */ (stack.children[i]);
    if (part.style.width !== width) part.style.width = width;
  });
}

/** Draws the pods of one group through its Presence (entering pods wait, leaving ones fade). */
class GroupView {
  constructor() {
    /** @type {Presence<any>} */
    this.presence = new Presence();
  }

  /**
   * @param {HTMLElement} node
   * @param {Group} group
   * @param {number} now
   * @param {boolean} immediate
   * @returns {number | null} when to draw again
   */
  draw(node, group, now, immediate) {
    const label = /** @type {HTMLElement} */ (node.firstElementChild);
    const isJob = group.object !== null && group.object.kind === 'Job';
    const o = group.object ? group.object.obj || {} : null;
    const line = !group.name || isJob ? '' : `${group.name}${o ? ` · ${rolloutText(o)}` : ''}`;
    setText(label, line);
    setHidden(label, !line);
    drawProgress(/** @type {HTMLElement} */ (node.children[1]), isJob ? labelled(group.name, jobProgress(o)) : null);
    const { items, nextAt } = this.presence.view(group.pods, now, immediate);
    reconcile(/** @type {HTMLElement} */ (node.lastElementChild), items, {
      key: (item) => item.name,
      create: () => enteringPod(immediate),
      update: drawPod,
    });
    return nextAt;
  }
}

/** The earlier of two optional times. @param {number | null} a @param {number | null} b */
function earliest(a, b) {
  if (a === null) return b;
  return b === null ? a : Math.min(a, b);
}

/** A pod's square; one that arrives after the first load grows in (CSS animation). */
function enteringPod(immediate) {
  const node = el('span');
  if (!immediate) node.dataset.enter = '';
  return node;
}

/** A job's progress with its name in front (a CronJob lists several). */
function labelled(name, p) {
  return { ...p, text: `${name} · ${p.text}` };
}

/** @param {HTMLElement} node @param {{ name: string, pod: any, leaving: boolean }} item */
function drawPod(node, item) {
  setClass(node, `pod ${podState(item.pod)}${item.leaving ? ' leaving' : ''}`);
  const title = podTitle(item.pod);
  if (node.title !== title) node.title = title;
}

export class WorkloadCard {
  constructor() {
    this.node = createCard();
    /** @type {Map<string, GroupView>} */
    this.groups = new Map();
  }

  /**
   * @param {Workload} w
   * @param {ClusterIndex} index
   * @param {number} now
   * @param {boolean} immediate draw new pods at once
   * @returns {number | null} when to draw again (pods settling or fading)
   */
  draw(w, index, now, immediate) {
    const [head, progress, summary, groups] = /** @type {HTMLElement[]} */ ([...this.node.children]);
    const [kind, name, status, churn] = /** @type {HTMLElement[]} */ ([...head.children]);
    setText(kind, w.kind === 'Pod' ? 'Pods' : w.kind);
    setText(name, w.name);
    setText(status, statusText(w));
    drawProgress(progress, w.kind === 'Job' && w.object ? jobProgress(w.object.obj || {}) : null);
    const churning = index.isChurning(w, now);
    const warned = index.churnWarned(w, now);
    const rate = w.churn ? (w.churn.obj || {}).rate : w.summary && (w.summary.obj || {}).churn_per_min;
    setText(churn, churning ? `⚠ churning ${rate ?? '?'} pods/min` : '');
    setHidden(churn, !churning);
    setClass(this.node, churning ? 'workload churning' : 'workload');
    this._drawSummary(summary, w, churning);
    setHidden(groups, churning);
    // A warning going stale needs a redraw then.
    const staleAt = warned ? w.churnSeenAt + CHURN_STALE_MS : null;
    if (churning) {
      this.groups.clear();
      groups.replaceChildren();
      return staleAt;
    }
    return earliest(this._drawGroups(groups, w, now, immediate), staleAt);
  }

  _drawSummary(node, w, churning) {
    const s = w.summary && w.summary.obj;
    setHidden(node, !churning || !s);
    if (!churning || !s) return;
    drawStack(node.firstElementChild, s);
    setText(/** @type {HTMLElement} */ (node.lastElementChild), summaryText(s));
  }

  /**
   * A ReplicaSet scaled to zero is history, not shown once its last pod has faded.
   * @param {Group} g @param {number} now
   */
  _shows(g, now) {
    const o = g.object && g.object.obj;
    const view = this.groups.get(g.name);
    return g.pods.size > 0 || !o || o.desired !== 0 || (view !== undefined && view.presence.drawsAt(now));
  }

  _drawGroups(node, w, now, immediate) {
    let nextAt = /** @type {number | null} */ (null);
    const sorted = [...w.groups.values()].filter((g) => this._shows(g, now)).sort((a, b) => a.name.localeCompare(b.name));
    reconcile(node, sorted, {
      key: (g) => g.name,
      create: () => {
        const g = el('div', 'group');
        g.append(el('div', 'group-name'), createProgress(), el('div', 'pods'));
        return g;
      },
      update: (g, group) => {
        let view = this.groups.get(group.name);
        if (!view) this.groups.set(group.name, (view = new GroupView()));
        const at = view.draw(g, group, now, immediate);
        if (at !== null && (nextAt === null || at < nextAt)) nextAt = at;
      },
      removed: (g) => this.groups.delete(g.dataset.key || ''),
    });
    return nextAt;
  }
}
