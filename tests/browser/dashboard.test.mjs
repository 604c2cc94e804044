// The dashboard in a real browser (Debian's Chromium, headless) against the embedded Kubecast.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  assertSameState, eventually, launchBrowser, pageState, screenshotPath, snapshot, startKubecast,
} from './support.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

describe('dashboard', () => {
  test('shows exactly the simulated cluster once live', async () => {
    const kubecast = await startKubecast({ churn: '0s' });
    const page = await browser.newPage();
    try {
      const snap = await snapshot(kubecast.url);
      assert.ok(snap.objects.length > 10, 'the simulated cluster has objects');
      await page.goto(kubecast.url);
      const state = await eventually('the page to render the whole snapshot', async () => {
        const s = await pageState(page);
        return s.status === 'live' && s.rendered === snap.objects.length ? s : null;
      });
      assert.equal(state.epoch, snap.epoch);
      assert.equal(state.seq, snap.seq);
      await assertSameState(kubecast.url, snap, state);
      assert.equal(await page.textContent('#position'), `${snap.epoch}:${snap.seq}`);
      await page.screenshot({ path: screenshotPath('dashboard'), fullPage: true });
    } finally {
      await page.close();
      await kubecast.stop();
    }
  });

  test('follows churn: at any seq it holds exactly the server state at that seq', async () => {
    const kubecast = await startKubecast({ churn: '50ms', seed: 7 });
    const page = await browser.newPage();
    try {
      const base = await snapshot(kubecast.url);
      await page.goto(kubecast.url);
      await eventually('the page to go live', async () => (await pageState(page)).status === 'live');
      // Let the cluster churn, then compare the page with the log at the page's own seq.
      const moved = await eventually('the page to follow 20 changes', async () => {
        const s = await pageState(page);
        return s.seq >= base.seq + 20 ? s : null;
      });
      await assertSameState(kubecast.url, base, moved);
      await eventually('the DOM to show what the client holds', async () => {
        const s = await pageState(page);
        return s.rendered === s.keys.length;
      });
      await page.screenshot({ path: screenshotPath('dashboard-churn'), fullPage: true });
    } finally {
      await page.close();
      await kubecast.stop();
    }
  });
});
