// Losing the network, hidden tabs and a restarted server, in a real browser: the page always ends
// with exactly the server's state, or reports that it cannot.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  assertSameState, eventually, launchBrowser, pageState, screenshotPath, sleep, snapshot,
  startKubecast,
} from './support.mjs';

let browser;
before(async () => { browser = await launchBrowser(); });
after(async () => { await browser?.close(); });

/**
 * Waits until the page is live at or past `atLeast` (the base snapshot's seq by default) and
 * checks it holds exactly the server's state at its own seq. (`live` comes with the server's
 * hello; the replay of what the page missed follows it.)
 */
async function converged(page, url, base, atLeast = base.seq) {
  const state = await eventually(`the page to be live at seq ${atLeast} or later`, async () => {
    const s = await pageState(page);
    return s.status === 'live' && s.epoch === base.epoch && s.seq >= atLeast ? s : null;
  });
  await assertSameState(url, base, state);
  return state;
}

/** Makes the page report itself hidden or visible (as a background tab would). */
function setHidden(page, hidden) {
  return page.evaluate((h) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
    document.dispatchEvent(new Event('visibilitychange'));
  }, hidden);
}

describe('connectivity', () => {
  test('offline: the page says so, and back online it catches up exactly', async () => {
    const kubecast = await startKubecast({ churn: '50ms', seed: 3 });
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const base = await snapshot(kubecast.url);
      await page.goto(kubecast.url);
      await converged(page, kubecast.url, base);
      await context.setOffline(true);
      const offline = await eventually('the offline status', async () => {
        const s = await pageState(page);
        return s.status === 'offline' ? s : null;
      });
      await sleep(1000); // the cluster keeps changing meanwhile
      const missed = await snapshot(kubecast.url);
      assert.ok(missed.seq > offline.seq, 'changes happened while the page was offline');
      await context.setOffline(false);
      const back = await converged(page, kubecast.url, base, missed.seq);
      assert.ok(back.seq >= missed.seq, 'the page caught up with what it missed');
    } finally {
      await context.close();
      await kubecast.stop();
    }
  });

  test('a hidden tab whose server restarted catches up when it is visible again', async () => {
    const first = await startKubecast({ churn: '0s', seed: 1 });
    const page = await browser.newPage();
    let second;
    try {
      const original = await snapshot(first.url);
      await page.goto(first.url);
      await converged(page, first.url, original);
      await setHidden(page, true);
      await first.stop();
      // The same address, a new in-memory log: a new epoch and another cluster.
      second = await startKubecast({ churn: '0s', seed: 2, port: first.port });
      const restarted = await snapshot(second.url);
      assert.notEqual(restarted.epoch, original.epoch);
      await sleep(1500);
      const hidden = await pageState(page);
      assert.equal(hidden.epoch, original.epoch, 'a hidden tab does not reconnect');
      await setHidden(page, false);
      const visible = await converged(page, second.url, restarted);
      assert.equal(visible.epoch, restarted.epoch);
      await page.screenshot({ path: screenshotPath('dashboard-after-restart'), fullPage: true });
    } finally {
      await page.close();
      await second?.stop();
    }
  });
});
