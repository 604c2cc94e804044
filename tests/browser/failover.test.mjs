// Failover in a real browser: three fanout replicas on one Redis log behind nginx
// (deploy/local/run.sh).
// Killing (SIGKILL) the replica the page's WebSocket is on makes the page resume on another
// replica with no missed and no doubled update, and the dashboard ends with the server's state.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startLocalStack } from './stack.mjs';
import {
  assertSameState, domShowsClientPods, eventually, launchBrowser, screenshotPath, sleep, snapshot,
} from './support.mjs';

let browser;
let stack;
before(async () => {
  browser = await launchBrowser();
  stack = await startLocalStack({ replicas: 3, seed: 5, churn: '200ms' });
});
after(async () => {
  await browser?.close();
  await stack?.stop();
});

/**
 * Runs in the page before its own scripts. The page publishes its client as `window.kubecast`
 * before calling `start()`; a setter there attaches listeners in time to see everything the
 * client does, in order, in `window.recorded`:
 * - `{ type: 'event', epoch, seq }` per applied event (the client emits `event` once each, then
 *   one `change` per batch);
 * - `{ type: 'snapshot', epoch, seq }` when a snapshot replaced the state (a `change` with no
 *   `event` before it);
 * - `{ type: 'status', status }` per status change.
 */
function recordAppliedUpdates() {
  const applied = [];
  let eventsSinceChange = 0;
  let client;
  window.recorded = applied;
  Object.defineProperty(window, 'kubecast', {
    configurable: true,
    get: () => client,
    set(c) {
      client = c;
      c.on('event', (ev) => {
        eventsSinceChange += 1;
        applied.push({ type: 'event', epoch: ev.epoch, seq: ev.seq });
      });
      c.on('change', (self) => {
        if (eventsSinceChange === 0) applied.push({ type: 'snapshot', epoch: self.epoch, seq: self.lastSeq });
        eventsSinceChange = 0;
      });
      c.on('status', (status) => applied.push({ type: 'status', status }));
    },
  });
}

/** The page's record and its client's state, read in one go (so they agree). */
function pageRecord(page) {
  return page.evaluate(() => ({
    applied: [...window.recorded],
    epoch: window.kubecast.epoch,
    seq: window.kubecast.lastSeq,
    status: window.kubecast.status,
    keys: [...window.kubecast.objects.keys()],
    summaries: [...window.kubecast.summaries.keys()],
  }));
}

/** Waits for a record that satisfies `check` (generous: this machine may be slow). */
function recordWhen(page, what, check) {
  return eventually(what, async () => {
    const record = await pageRecord(page);
    return check(record) ? record : null;
  }, 60000);
}

/**
 * The replica holding the page's WebSocket, once exactly one replica has a session (the page is
 * the only client; each replica's /metrics counts its open sessions).
 */
function pageSocketReplica(what, accept = () => true) {
  return eventually(what, async () => {
    const holding = await stack.replicasWithSessions();
    return holding.length === 1 && accept(holding[0]) ? { replica: holding[0] } : null;
  }, 60000).then(({ replica }) => replica);
}

/** Asserts the page applied every seq after its one snapshot exactly once, up to its cursor. */
function assertNoMissedOrDoubledUpdate(record) {
  const snapshots = record.applied.filter((r) => r.type === 'snapshot');
  const first = record.applied.find((r) => r.type !== 'status');
  assert.equal(first?.type, 'snapshot', 'the page starts from a snapshot');
  assert.deepEqual(snapshots.slice(1), [], 'the page replaced its state from a new snapshot (a reset) '
    + `after the first one at seq ${snapshots[0].seq}: with one shared Redis log, resuming on another `
    + 'replica must succeed');
  const [start] = snapshots;
  const events = record.applied.filter((r) => r.type === 'event');
  assert.deepEqual(events.filter((e) => e.epoch !== start.epoch), [], 'every event is of the snapshot epoch');
  const seqs = events.map((e) => e.seq);
  const doubled = [...new Set(seqs.filter((seq, i) => seqs.indexOf(seq) !== i))];
  assert.deepEqual(doubled, [], 'no seq is applied twice');
  const expected = Array.from({ length: record.seq - start.seq }, (_, i) => start.seq + 1 + i);
  const seen = new Set(seqs);
  const missed = expected.filter((seq) => !seen.has(seq));
  assert.deepEqual(missed, [], `no seq is missed between ${start.seq} and ${record.seq}`);
  assert.deepEqual(seqs, expected, 'the applied seqs are exactly the seqs after the snapshot, in order');
}

describe('failover', () => {
  const name = 'killing the page\'s replica: it resumes on another with no missed or doubled update';
  test(name, { timeout: 300000 }, async () => {
    // Each replica's snapshot, taken before the page starts: the base of the server's state.
    const bases = await Promise.all(stack.fanouts.map(({ url }) => snapshot(url)));
    assert.equal(new Set(bases.map((b) => b.epoch)).size, 1, 'the replicas share one log');
    const page = await browser.newPage();
    try {
      await page.addInitScript(recordAppliedUpdates);
      await page.goto(`${stack.url}/`);
      const live = await recordWhen(page, 'the page to go live',
        (r) => r.status === 'live' && r.epoch === bases[0].epoch);
      const victim = await pageSocketReplica('the page\'s WebSocket on a replica');
      await recordWhen(page, 'the page to follow churn on its first replica',
        (r) => r.seq >= live.seq + 5);

      const killedAt = await pageRecord(page);
      stack.fanouts[victim].signal('SIGKILL');
      const moved = await pageSocketReplica('the page\'s WebSocket on another replica',
        (b) => b !== victim);
      const resumed = await recordWhen(page, 'the page to be live again', (r) => r.status === 'live');
      const statuses = resumed.applied.slice(killedAt.applied.length)
        .filter((r) => r.type === 'status');
      assert.ok(statuses.some((s) => s.status !== 'live'), 'the page noticed that its replica died');

      await sleep(3000); // churn goes on
      const final = await recordWhen(page, 'the page to follow churn on its new replica',
        (r) => r.status === 'live' && r.seq >= resumed.seq + 10);
      assert.deepEqual(await stack.replicasWithSessions(), [moved], 'the page stayed on the replica it moved to');
      assertNoMissedOrDoubledUpdate(final);
      assert.ok(final.seq > killedAt.seq, 'updates were applied across the failover');
      await assertSameState(stack.fanouts[moved].url, bases[moved], final);
      // Freeze the simulated cluster so the dashboard settles, then compare its DOM with the client.
      stack.sim.signal('SIGSTOP');
      await eventually('the dashboard to draw what the client holds', () => domShowsClientPods(page), 30000);
      await page.screenshot({ path: screenshotPath('dashboard-failover'), fullPage: true });
    } finally {
      stack.sim.signal('SIGCONT');
      await page.close();
    }
  });
});
