// On-demand figures, not a test: how long the dashboard takes to render a large cluster's
// snapshot in headless Chromium, and what a redraw costs while that cluster churns.
// Usage (after `cargo build`):
//   node render-bench.mjs [namespaces] [deployments per namespace] [max replicas] [churn interval]
// The defaults (20 × 10 × up to 100 replicas) give about 10,000 pods; churn is measured over
// 20 s at the given interval (default 100ms; "0s" skips it).

import {
  launchBrowser, pageState, screenshotPath, sleep, snapshot, startKubecast,
} from './support.mjs';

const args = process.argv.slice(2);
const [namespaces = 20, deployments = 10, replicas = 100] = args.slice(0, 3).map(Number);
const churn = args[3] || '100ms';

/** The simulated cluster, fully listed into the log: its size stops growing (churn aside). */
async function settledSnapshot(url) {
  let snap = await snapshot(url);
  for (;;) {
    await sleep(1000);
    const next = await snapshot(url);
    if (next.objects.length > 0 && Math.abs(next.objects.length - snap.objects.length) < next.objects.length / 100) return next;
    snap = next;
  }
}

/** Page load until every pod of the snapshot is a square on the page; the big draw's own time. */
async function firstRender(browser, url, pods) {
  const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
  const started = performance.now();
  await page.goto(url);
  await page.waitForFunction((n) => document.querySelectorAll('#objects .pod').length >= n, pods,
    { timeout: 120000, polling: 50 });
  const loadToDrawn = performance.now() - started;
  const stats = await page.evaluate(() => ({ ...window.kubecastDashboard.stats }));
  return { page, loadToDrawn, biggestDraw: stats.maxDrawMs, stateAt: stats.firstStateAt, drawnAt: stats.firstDrawnAt };
}

/** Draw times over `ms` while the cluster churns (the page's own per-frame measurements). */
async function drawsUnderChurn(page, ms) {
  await page.evaluate(() => {
    window.benchDraws = [];
    const { stats } = window.kubecastDashboard;
    let seen = stats.draws;
    (function sample() {
      if (stats.draws !== seen) { seen = stats.draws; window.benchDraws.push(stats.lastDrawMs); }
      requestAnimationFrame(sample);
    })();
  });
  const seq0 = (await pageState(page)).seq;
  await sleep(ms);
  const draws = await page.evaluate(() => window.benchDraws.slice().sort((a, b) => a - b));
  const seq1 = (await pageState(page)).seq;
  const pct = (p) => draws[Math.min(draws.length - 1, Math.floor(p * draws.length))] ?? 0;
  return { events: seq1 - seq0, draws: draws.length, p50: pct(0.5), p99: pct(0.99), max: draws.at(-1) ?? 0 };
}

const kubecast = await startKubecast({
  churn,
  extra: ['--sim-namespaces', String(namespaces), '--sim-deployments', String(deployments),
    '--sim-max-replicas', String(replicas)],
});
const browser = await launchBrowser();
try {
  const snap = await settledSnapshot(kubecast.url);
  const pods = snap.objects.filter((o) => o.kind === 'Pod').length;
  const { page, loadToDrawn, biggestDraw, stateAt, drawnAt } = await firstRender(browser, kubecast.url, Math.floor(pods * 0.99));
  await page.screenshot({ path: screenshotPath('dashboard-large') });
  console.log('| objects | pods | page load → pods drawn (ms) | navigation → snapshot in the client (ms) | → first frame drawn (ms) | largest single draw (ms) |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  console.log(`| ${snap.objects.length} | ${pods} | ${loadToDrawn.toFixed(0)} | ${stateAt.toFixed(0)} | ${drawnAt.toFixed(0)} | ${biggestDraw.toFixed(0)} |`);
  if (churn !== '0s') {
    const c = await drawsUnderChurn(page, 20000);
    console.log(`\nunder churn (${churn} steps, 20 s): ${c.events} events, ${c.draws} draws; draw time p50 ${c.p50.toFixed(1)} ms, p99 ${c.p99.toFixed(1)} ms, max ${c.max.toFixed(1)} ms`);
  }
} finally {
  await browser.close();
  await kubecast.stop();
}
