// The dashboard in a real browser (Debian's Chromium, headless) against the embedded Kubecast.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  assertSameState, dashboardState, domShowsClientPods, eventually, expectedPods, launchBrowser, pageState,
  screenshotPath, snapshot, sortedPairs, startKubecast,
} from './support.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

const WORKLOAD_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'Job']);

describe('dashboard', () => {
  test('shows exactly the simulated cluster once live: every pod in its workload, services, nodes', async () => {
    const kubecast = await startKubecast({ churn: '0s' });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      const snap = await snapshot(kubecast.url);
      assert.ok(snap.objects.length > 10, 'the simulated cluster has objects');
      await page.goto(kubecast.url);
      const state = await eventually('the page to go live with the snapshot', async () => {
        const s = await pageState(page);
        return s.status === 'live' && s.seq === snap.seq ? s : null;
      });
      assert.equal(state.epoch, snap.epoch);
      await assertSameState(kubecast.url, snap, state);
      const dom = await eventually('the DOM to show every pod', async () => {
        const d = await dashboardState(page);
        return d.pods.length === expectedPods(snap.objects).length ? d : null;
      });
      assert.deepEqual(dom.churning, [], 'nothing churns without churn');
      assert.deepEqual(sortedPairs(dom.pods), expectedPods(snap.objects), 'each pod once, in its workload');
      const workloads = snap.objects.filter((o) => WORKLOAD_KINDS.has(o.kind) && !(o.obj.owner));
      for (const w of workloads) assert.ok(dom.cards.includes(`${w.ns}/${w.kind}/${w.name}`), `a card for ${w.kind} ${w.ns}/${w.name}`);
      const byKind = (kind) => snap.objects.filter((o) => o.kind === kind);
      assert.deepEqual(dom.services.sort(), byKind('Service').map((s) => `${s.ns}/${s.name}`).sort());
      assert.deepEqual(dom.nodes.sort(), byKind('Node').map((n) => n.name).sort());
      assert.equal(await page.textContent('#position'), `${snap.epoch}:${snap.seq}`);
      assert.match(await page.textContent('#updated'), /just now|s ago/);
      await page.screenshot({ path: screenshotPath('dashboard'), fullPage: true });
    } finally {
      await page.close();
      await kubecast.stop();
    }
  });

  test('follows churn: the client holds the server state at its seq, and the DOM catches up with it', async () => {
    const kubecast = await startKubecast({ churn: '700ms', seed: 7 });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    try {
      const base = await snapshot(kubecast.url);
      await page.goto(kubecast.url);
      await eventually('the page to go live', async () => (await pageState(page)).status === 'live');
      const moved = await eventually('the page to follow 20 changes', async () => {
        const s = await pageState(page);
        return s.seq >= base.seq + 20 ? s : null;
      });
      await assertSameState(kubecast.url, base, moved);
      // New pods are drawn once settled (no flicker) and deleted ones fade, so the DOM matches
      // the client's store a moment after each change: wait for such an instant.
      await eventually('the DOM to show exactly the pods the client holds', () => domShowsClientPods(page), 30000);
      await page.screenshot({ path: screenshotPath('dashboard-churn'), fullPage: true });
    } finally {
      await page.close();
      await kubecast.stop();
    }
  });

  test('the namespace filter shows one namespace and is kept in the URL', async () => {
    const kubecast = await startKubecast({ churn: '0s' });
    const page = await browser.newPage();
    try {
      const snap = await snapshot(kubecast.url);
      const namespaces = [...new Set(snap.objects.filter((o) => o.ns).map((o) => o.ns))].sort();
      const chosen = namespaces[1];
      await page.goto(kubecast.url);
      await eventually('the namespaces to be drawn', async () => (await dashboardState(page)).namespaces.length === namespaces.length);
      await page.selectOption('#ns-filter', chosen);
      const visible = () => page.$$eval('#objects > section:not([hidden])', (s) => s.map((n) => n.dataset.key));
      assert.deepEqual(await visible(), [chosen]);
      assert.equal(new URL(page.url()).hash, `#ns=${chosen}`);
      await page.reload();
      await eventually('the filter to be restored from the URL', async () => JSON.stringify(await visible()) === JSON.stringify([chosen]));
      assert.equal(await page.inputValue('#ns-filter'), chosen);
      await page.selectOption('#ns-filter', '');
      assert.equal((await visible()).length, namespaces.length);
    } finally {
      await page.close();
      await kubecast.stop();
    }
  });

  test('the live switch pauses updates, is remembered across reloads, and resumes', async () => {
    const kubecast = await startKubecast({ churn: '200ms' });
    const page = await browser.newPage();
    try {
      await page.goto(kubecast.url);
      await eventually('live', async () => (await pageState(page)).status === 'live');
      await page.uncheck('#live');
      await eventually('paused', async () => (await pageState(page)).status === 'paused');
      await page.reload();
      await eventually('still paused after a reload', async () => (await pageState(page)).status === 'paused');
      assert.equal(await page.isChecked('#live'), false);
      const paused = (await pageState(page)).seq;
      await page.check('#live');
      await eventually('live again and moving', async () => {
        const s = await pageState(page);
        return s.status === 'live' && s.seq > (paused ?? 0);
      });
    } finally {
      await page.close();
      await kubecast.stop();
    }
  });
});
