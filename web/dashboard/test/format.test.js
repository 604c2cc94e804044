import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ago, jobProgress, podState, podTitle, rolloutText, serviceText, summaryText } from '../format.js';

const pod = (obj) => ({ name: 'p', obj });

test('pod states come from phase, readiness, deletion and waiting reasons', () => {
  assert.equal(podState(pod({ phase: 'Running', ready: true })), 'ready');
  assert.equal(podState(pod({ phase: 'Running', ready: false })), 'starting');
  assert.equal(podState(pod({ phase: 'Pending', containers: [{ state: 'waiting', reason: 'ContainerCreating' }] })), 'pending');
  assert.equal(podState(pod({ phase: 'Running', containers: [{ state: 'waiting', reason: 'CrashLoopBackOff' }] })), 'crashing');
  assert.equal(podState(pod({ phase: 'Failed' })), 'failed');
  assert.equal(podState(pod({ phase: 'Succeeded' })), 'succeeded');
  assert.equal(podState(pod({ phase: 'Running', ready: true, deleting: true })), 'terminating');
  assert.equal(podTitle({ name: 'web-1', obj: { phase: 'Running', ready: false, node: 'n1', restarts: 2 } }), 'web-1 · Running · not ready · on n1 · 2 restarts');
});

test('workload, job, summary and service lines', () => {
  assert.equal(rolloutText({ desired: 3, ready: 2, updated: 3, available: 2 }), '2/3 ready');
  assert.equal(rolloutText({ desired: 3, ready: 2, updated: 1, available: 1 }), '2/3 ready · 1 updated · 1 available');
  assert.deepEqual(jobProgress({ completions: 4, succeeded: 1, active: 2, failed: 1, state: 'Running' }), { fraction: 0.25, text: '1/4 done · 2 active · 1 failed · Running', failed: false });
  assert.equal(jobProgress({ completions: 2, succeeded: 5 }).fraction, 1, 'capped');
  assert.equal(jobProgress({ succeeded: 0, state: 'Failed' }).failed, true);
  assert.equal(summaryText({ total: 5, ready: 3, pending: 1, terminating: 0, failed: 1 }), '5 pods · 3 ready · 1 pending · 1 failed');
  assert.equal(serviceText({ type: 'ClusterIP', clusterIP: '10.0.0.1', ports: [{ port: 80, targetPort: 8080 }, { port: 9090, targetPort: 9090 }] }), 'ClusterIP 10.0.0.1 :80→8080,9090');
  assert.deepEqual([ago(200), ago(12_400), ago(185_000), ago(7_300_000)], ['just now', '12 s ago', '3 min ago', '2 h ago']);
});
