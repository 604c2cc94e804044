import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHURN_STALE_MS, ClusterIndex, sortedWorkloads, workloadKey } from '../cluster.js';

let seq = 0;
const ev = (kind, ns, name, obj = {}, op = 'added') => ({ seq: ++seq, epoch: 'e', ts: 0, op, kind, ns, name, uid: '', obj });
const pod = (ns, name, owner, extra = {}) => ev('Pod', ns, name, { owner, phase: 'Running', ready: true, ...extra });
const added = (...objects) => objects.map((object) => ({ type: 'added', key: `${object.kind}/${object.ns}/${object.name}`, object }));
const deleted = (previous) => [{ type: 'deleted', key: '', object: previous, previous }];
const modified = (previous, object) => [{ type: 'modified', key: '', object, previous }];
const summaries = (...list) => new Map(list.map((s) => [`Summary/${s.ns}/${s.name}`, s]));
const summary = (ns, name, obj) => ev('Summary', ns, name, obj, 'summary');

function workload(index, ns, kind, name) {
  return index.namespaces.get(ns)?.workloads.get(workloadKey(ns, kind, name));
}

test('pods group under their top-level workload and ReplicaSet; jobs of a CronJob are its groups', () => {
  const index = new ClusterIndex();
  const deploy = { kind: 'Deployment', name: 'web' };
  const cron = { kind: 'CronJob', name: 'report' };
  index.applyChanges(added(
    ev('Deployment', 'shop', 'web', { desired: 2, ready: 2 }),
    ev('ReplicaSet', 'shop', 'web-1', { owner: deploy, desired: 2 }),
    pod('shop', 'web-1-a', deploy, { rs: 'web-1', node: 'n1' }),
    pod('shop', 'web-1-b', deploy, { rs: 'web-1', node: 'n1' }),
    ev('StatefulSet', 'shop', 'db', { desired: 1 }),
    pod('shop', 'db-0', { kind: 'StatefulSet', name: 'db' }, { node: 'n2' }),
    ev('Job', 'shop', 'report-7', { owner: cron, completions: 1 }),
    pod('shop', 'report-7-x', cron, { job: 'report-7' }),
    pod('shop', 'bare', undefined),
  ));
  const web = workload(index, 'shop', 'Deployment', 'web');
  assert.equal(web.object.obj.desired, 2);
  assert.deepEqual([...web.groups.get('web-1').pods.keys()], ['web-1-a', 'web-1-b']);
  assert.equal(web.groups.get('web-1').object.name, 'web-1');
  assert.deepEqual([...workload(index, 'shop', 'StatefulSet', 'db').groups.get('').pods.keys()], ['db-0']);
  const report = workload(index, 'shop', 'CronJob', 'report');
  assert.equal(report.object, null, 'the CronJob object itself is not in view yet');
  assert.deepEqual([...report.groups.get('report-7').pods.keys()], ['report-7-x']);
  assert.equal(report.groups.get('report-7').object.kind, 'Job');
  assert.equal(index.podCount(workload(index, 'shop', 'Pod', '')), 1);
  assert.deepEqual(Object.fromEntries(index.podsOnNode), { n1: 2, n2: 1 });
  assert.deepEqual(sortedWorkloads(index.namespaces.get('shop')).map((w) => w.kind), ['Deployment', 'StatefulSet', 'CronJob', 'Pod']);
});

test('deleting the last thing a workload and a namespace hold removes them', () => {
  const index = new ClusterIndex();
  const owner = { kind: 'Deployment', name: 'api' };
  const p = pod('tmp', 'api-1-a', owner, { rs: 'api-1', node: 'n1' });
  const d = ev('Deployment', 'tmp', 'api', {});
  index.applyChanges(added(d, p));
  index.takeTouched();
  index.applyChanges(deleted(p));
  assert.equal(workload(index, 'tmp', 'Deployment', 'api').groups.size, 0, 'the empty group is gone');
  assert.equal(index.podsOnNode.size, 0);
  let touched = index.takeTouched();
  assert.deepEqual([...touched.workloads], ['tmp/Deployment/api']);
  index.applyChanges(deleted(d));
  assert.equal(index.namespaces.has('tmp'), false);
  touched = index.takeTouched();
  assert.equal(touched.layout, true, 'the namespace section goes');
});

test('a pod that moves node or ReplicaSet is moved, not duplicated', () => {
  const index = new ClusterIndex();
  const owner = { kind: 'Deployment', name: 'web' };
  const before = pod('shop', 'web-x', owner, { rs: 'web-1', node: 'n1' });
  const after = { ...pod('shop', 'web-x', owner, { rs: 'web-2', node: 'n2' }), op: 'updated' };
  index.applyChanges(added(before));
  index.applyChanges(modified(before, after));
  const web = workload(index, 'shop', 'Deployment', 'web');
  assert.deepEqual([...web.groups.keys()], ['web-2']);
  assert.deepEqual(Object.fromEntries(index.podsOnNode), { n2: 1 });
});

test('summaries sync by identity, and a removed summary lets an empty workload go', () => {
  const index = new ClusterIndex();
  const s1 = summary('shop', 'Deployment/web', { total: 3, ready: 3, churn_per_min: 0 });
  const ns = summary('shop', '_namespace', { total: 3, ready: 3 });
  index.syncSummaries(summaries(s1, ns));
  assert.equal(workload(index, 'shop', 'Deployment', 'web').summary, s1);
  assert.equal(index.namespaces.get('shop').summary, ns);
  index.takeTouched();
  index.syncSummaries(summaries(s1, ns));
  assert.equal(index.takeTouched().workloads.size, 0, 'unchanged summaries touch nothing');
  index.syncSummaries(summaries(ns));
  assert.equal(workload(index, 'shop', 'Deployment', 'web'), undefined);
});

test('a workload churns on an active churn event or when its summary rate reaches the threshold', () => {
  const index = new ClusterIndex();
  index.syncSummaries(summaries(summary('shop', 'Deployment/web', { total: 9, churn_per_min: 12 })));
  const web = workload(index, 'shop', 'Deployment', 'web');
  assert.equal(index.isChurning(web, 0), false);
  index.applyChurn(ev('Churn', 'shop', 'Deployment/web', { rate: 42, threshold: 10, active: true }, 'churn'), 1000);
  assert.equal(index.isChurning(web, 1000), true);
  index.applyChurn(ev('Churn', 'shop', 'Deployment/web', { rate: 5, threshold: 10, active: false }, 'churn'), 2000);
  assert.equal(web.churn, null);
  assert.equal(index.isChurning(web, 2000), true, 'the summary rate 12 is over the learnt threshold 10');
  index.applyChurn(ev('Churn', 'shop', 'Deployment/other', { active: false }, 'churn'), 2000);
  assert.equal(workload(index, 'shop', 'Deployment', 'other'), undefined, 'an inactive warning creates nothing');
});

test('an active churn warning not repeated within CHURN_STALE_MS goes stale', () => {
  const index = new ClusterIndex();
  index.applyChurn(ev('Churn', 'shop', 'Deployment/web', { rate: 42, active: true }, 'churn'), 1000);
  const web = workload(index, 'shop', 'Deployment', 'web');
  assert.equal(index.isChurning(web, 1000 + CHURN_STALE_MS - 1), true);
  assert.equal(index.isChurning(web, 1000 + CHURN_STALE_MS), false, 'no summary says it churns either');
  index.applyChurn(ev('Churn', 'shop', 'Deployment/web', { rate: 40, active: true }, 'churn'), 1000 + CHURN_STALE_MS);
  assert.equal(index.isChurning(web, 1000 + CHURN_STALE_MS + 5000), true, 'a repeat refreshes it');
});

test('services and nodes are kept apart from workloads', () => {
  const index = new ClusterIndex();
  const svc = ev('Service', 'shop', 'web', { pods: { ready: ['a'], notReady: [] } });
  index.applyChanges(added(svc, ev('Node', '', 'n1', { ready: true })));
  assert.equal(index.namespaces.get('shop').services.get('web'), svc);
  assert.equal(index.nodes.size, 1);
  const touched = index.takeTouched();
  assert.deepEqual([...touched.services], ['shop']);
  assert.equal(touched.nodes, true);
  index.applyChanges(deleted(svc));
  assert.equal(index.namespaces.has('shop'), false);
});
