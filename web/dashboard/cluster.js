// The dashboard's model of the cluster: the client's flat object store regrouped as
// namespaces → workloads → groups (a Deployment's ReplicaSets, a CronJob's Jobs) → pods, plus
// services and nodes. It is updated incrementally from the client's change lists and records
// what each update touched, so the view redraws only those parts (10,000 pods stay cheap).

/** Workload kinds in display order; a pod's owner is already resolved to the top-level one. */
export const WORKLOAD_KINDS = Object.freeze(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job', 'ReplicaSet', 'Pod']);

/** Pods churning faster than this (adds + deletes per minute) are summarised when no churn event said otherwise. */
export const DEFAULT_CHURN_THRESHOLD = 30;

/**
 * An active churn warning is repeated every summary interval (2 s); one not repeated for this long
 * is stale (its `active: false` may have been lost to a snapshot, which does not carry warnings).
 */
export const CHURN_STALE_MS = 10_000;

/** Summaries of a whole namespace carry this name. */
const NAMESPACE_SUMMARY = '_namespace';

/** @param {string} ns @param {string} kind @param {string} name */
export const workloadKey = (ns, kind, name) => `${ns}/${kind}/${name}`;

/**
 * @typedef {import('../client/kubecast.js').KubecastEvent} KubecastEvent
 * @typedef {{ name: string, object: KubecastEvent | null, pods: Map<string, KubecastEvent> }} Group
 * @typedef {{ key: string, ns: string, kind: string, name: string, object: KubecastEvent | null,
 *   summary: KubecastEvent | null, churn: KubecastEvent | null, churnSeenAt: number,
 *   groups: Map<string, Group> }} Workload
 * @typedef {{ name: string, object: KubecastEvent | null, summary: KubecastEvent | null,
 *   workloads: Map<string, Workload>, services: Map<string, KubecastEvent> }} Namespace
 * @typedef {{ namespaces: Set<string>, workloads: Set<string>, services: Set<string>, nodes: boolean, layout: boolean }} Touched
 */

/** Where an object sits in the tree: its workload and group (or null for kinds shown elsewhere). */
function placement(ev) {
  const o = ev.obj || {};
  const owner = o.owner && o.owner.kind && o.owner.name ? o.owner : null;
  switch (ev.kind) {
    case 'Pod':
      if (!owner) return { kind: 'Pod', name: '', group: '' };
      return { kind: owner.kind, name: owner.name, group: o.rs || (owner.kind === 'CronJob' ? o.job || '' : '') };
    case 'ReplicaSet':
    case 'Job':
      return owner ? { kind: owner.kind, name: owner.name, group: ev.name } : { kind: ev.kind, name: ev.name, group: null };
    case 'Deployment':
    case 'StatefulSet':
    case 'DaemonSet':
    case 'CronJob':
      return { kind: ev.kind, name: ev.name, group: null };
    default:
      return null;
  }
}

export class ClusterIndex {
  constructor() {
    /** @type {Map<string, Namespace>} */
    this.namespaces = new Map();
    /** @type {Map<string, KubecastEvent>} */
    this.nodes = new Map();
    /** Pods per node name. @type {Map<string, number>} */
    this.podsOnNode = new Map();
    /** @type {Map<string, KubecastEvent>} summaries by `ns/name`, as last synced */
    this._summaries = new Map();
    this.churnThreshold = DEFAULT_CHURN_THRESHOLD;
    this.touched = emptyTouched();
  }

  /** What changed since the last call (and forget it). @returns {Touched} */
  takeTouched() {
    const t = this.touched;
    this.touched = emptyTouched();
    return t;
  }

  /** Applies the client's object changes (`added` / `modified` / `deleted`). */
  applyChanges(changes) {
    for (const c of changes) {
      if (c.previous) this._remove(c.previous);
      if (c.type !== 'deleted') this._add(c.object);
    }
  }

  /** Makes the summaries equal to the client's (a Map by `Summary/ns/name`); cheap when few changed. */
  syncSummaries(summaries) {
    const next = new Map();
    for (const ev of summaries.values()) next.set(`${ev.ns}/${ev.name}`, ev);
    for (const [key, ev] of this._summaries) if (next.get(key) !== ev) this._setSummary(ev, null);
    for (const [key, ev] of next) if (this._summaries.get(key) !== ev) this._setSummary(ev, ev);
    this._summaries = next;
  }

  /** A churn warning (`op: "churn"`) received at `now`: kept on its workload while active and fresh. */
  applyChurn(ev, now) {
    const o = ev.obj || {};
    if (Number.isFinite(o.threshold) && o.threshold > 0) this.churnThreshold = o.threshold;
    const [kind, ...rest] = String(ev.name).split('/');
    if (!rest.length) return;
    const workload = o.active ? this._workload(ev.ns, kind, rest.join('/')) : this._existingWorkload(ev.ns, kind, rest.join('/'));
    if (!workload) return;
    workload.churn = o.active ? ev : null;
    workload.churnSeenAt = now;
    this._touchWorkload(workload);
    this._prune(workload);
  }

  /** The workload is churning at `now`: show its pod summary instead of its pods. */
  isChurning(workload, now) {
    if (this.churnWarned(workload, now)) return true;
    const rate = workload.summary && workload.summary.obj ? workload.summary.obj.churn_per_min : 0;
    return Number.isFinite(rate) && rate >= this.churnThreshold;
  }

  /** An active churn warning, received less than CHURN_STALE_MS before `now`. */
  churnWarned(workload, now) {
    return workload.churn !== null && now - workload.churnSeenAt < CHURN_STALE_MS;
  }

  /** All pods of a workload, across its groups. */
  podCount(workload) {
    let n = 0;
    for (const g of workload.groups.values()) n += g.pods.size;
    return n;
  }

  _add(ev) {
    if (ev.kind === 'Node') return this._setNode(ev.name, ev);
    if (ev.kind === 'Namespace') return this._namespaceObject(ev.name, ev);
    if (ev.kind === 'Service') return this._setService(ev, ev);
    const at = placement(ev);
    if (!at) return;
    const workload = this._workload(ev.ns, at.kind, at.name);
    if (at.group === null) workload.object = ev;
    else if (ev.kind === 'Pod') {
      this._group(workload, at.group).pods.set(ev.name, ev);
      this._countOnNode(ev, 1);
    } else this._group(workload, at.group).object = ev;
    this._touchWorkload(workload);
  }

  _remove(ev) {
    if (ev.kind === 'Node') return this._setNode(ev.name, null);
    if (ev.kind === 'Namespace') return this._namespaceObject(ev.name, null);
    if (ev.kind === 'Service') return this._setService(ev, null);
    const at = placement(ev);
    if (!at) return;
    const workload = this._existingWorkload(ev.ns, at.kind, at.name);
    if (!workload) return;
    if (at.group === null) workload.object = null;
    else {
      const group = workload.groups.get(at.group);
      if (group && ev.kind === 'Pod' && group.pods.delete(ev.name)) this._countOnNode(ev, -1);
      else if (group && ev.kind !== 'Pod') group.object = null;
      if (group && !group.object && !group.pods.size) workload.groups.delete(at.group);
    }
    this._touchWorkload(workload);
    this._prune(workload);
  }

  _setSummary(ev, value) {
    if (ev.name === NAMESPACE_SUMMARY) {
      const ns = value ? this._namespace(ev.ns) : this.namespaces.get(ev.ns);
      if (!ns) return;
      ns.summary = value;
      this.touched.namespaces.add(ns.name);
      this._pruneNamespace(ns);
      return;
    }
    const [kind, ...rest] = String(ev.name).split('/');
    if (!rest.length) return;
    const workload = value ? this._workload(ev.ns, kind, rest.join('/')) : this._existingWorkload(ev.ns, kind, rest.join('/'));
    if (!workload) return;
    workload.summary = value;
    this._touchWorkload(workload);
    this._prune(workload);
  }

  _setNode(name, ev) {
    if (ev) this.nodes.set(name, ev);
    else this.nodes.delete(name);
    this.touched.nodes = true;
  }

  _countOnNode(pod, delta) {
    const node = pod.obj && pod.obj.node;
    if (!node) return;
    const n = (this.podsOnNode.get(node) || 0) + delta;
    if (n > 0) this.podsOnNode.set(node, n);
    else this.podsOnNode.delete(node);
    this.touched.nodes = true;
  }

  _namespaceObject(name, ev) {
    const ns = ev ? this._namespace(name) : this.namespaces.get(name);
    if (!ns) return;
    ns.object = ev;
    this.touched.namespaces.add(name);
    this._pruneNamespace(ns);
  }

  _setService(ev, value) {
    const ns = value ? this._namespace(ev.ns) : this.namespaces.get(ev.ns);
    if (!ns) return;
    if (value) ns.services.set(ev.name, value);
    else ns.services.delete(ev.name);
    this.touched.services.add(ns.name);
    this._pruneNamespace(ns);
  }

  /** @returns {Namespace} */
  _namespace(name) {
    let ns = this.namespaces.get(name);
    if (!ns) {
      ns = { name, object: null, summary: null, workloads: new Map(), services: new Map() };
      this.namespaces.set(name, ns);
      this.touched.layout = true;
    }
    return ns;
  }

  /** @returns {Workload} */
  _workload(nsName, kind, name) {
    const ns = this._namespace(nsName);
    const key = workloadKey(nsName, kind, name);
    let workload = ns.workloads.get(key);
    if (!workload) {
      workload = { key, ns: nsName, kind, name, object: null, summary: null, churn: null, churnSeenAt: 0, groups: new Map() };
      ns.workloads.set(key, workload);
      this.touched.namespaces.add(nsName);
    }
    return workload;
  }

  _existingWorkload(nsName, kind, name) {
    const ns = this.namespaces.get(nsName);
    return ns ? ns.workloads.get(workloadKey(nsName, kind, name)) : undefined;
  }

  /** @returns {Group} */
  _group(workload, name) {
    let group = workload.groups.get(name);
    if (!group) {
      group = { name, object: null, pods: new Map() };
      workload.groups.set(name, group);
    }
    return group;
  }

  _touchWorkload(workload) {
    this.touched.workloads.add(workload.key);
  }

  /** Drops a workload nothing refers to any more. */
  _prune(workload) {
    if (workload.object || workload.summary || workload.churn || workload.groups.size) return;
    const ns = this.namespaces.get(workload.ns);
    if (!ns) return;
    ns.workloads.delete(workload.key);
    this.touched.namespaces.add(ns.name);
    this._pruneNamespace(ns);
  }

  _pruneNamespace(ns) {
    if (ns.object || ns.summary || ns.workloads.size || ns.services.size) return;
    this.namespaces.delete(ns.name);
    this.touched.layout = true;
  }
}

/** @returns {Touched} */
function emptyTouched() {
  return { namespaces: new Set(), workloads: new Set(), services: new Set(), nodes: false, layout: false };
}

/**
 * A namespace's workloads in display order: by kind (WORKLOAD_KINDS), then name.
 * @param {Namespace} ns
 * @returns {Workload[]}
 */
export function sortedWorkloads(ns) {
  const rank = (kind) => {
    const i = WORKLOAD_KINDS.indexOf(kind);
    return i < 0 ? WORKLOAD_KINDS.length : i;
  };
  return [...ns.workloads.values()].sort((a, b) => rank(a.kind) - rank(b.kind) || a.name.localeCompare(b.name));
}
