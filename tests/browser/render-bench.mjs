// On-demand figure, not a test: how long the dashboard takes to render a large cluster's snapshot
// in headless Chromium. Usage (after `cargo build`):
//   node render-bench.mjs [namespaces] [deployments per namespace] [max replicas]
// The defaults (20 × 10 × up to 100 replicas) give about 10,000 pods.

import {
  launchBrowser, pageState, screenshotPath, sleep, snapshot, startKubecast,
} from './support.mjs';

const [namespaces = 20, deployments = 10, replicas = 100] = process.argv.slice(2).map(Number);
const kubecast = await startKubecast({
  churn: '0s',
  extra: ['--sim-namespaces', String(namespaces), '--sim-deployments', String(deployments),
    '--sim-max-replicas', String(replicas)],
});
const browser = await launchBrowser();
try {
  // The producer lists the simulated cluster after start-up: wait until the log holds all of it.
  let snap = await snapshot(kubecast.url);
  for (;;) {
    await sleep(1000);
    const next = await snapshot(kubecast.url);
    if (next.objects.length > 0 && next.seq === snap.seq) break;
    snap = next;
  }
  const pods = snap.objects.filter((o) => o.kind === 'Pod').length;
  const page = await browser.newPage();
  const started = performance.now();
  await page.goto(kubecast.url);
  await page.waitForFunction(
    (n) => document.querySelectorAll('#objects li').length === n,
    snap.objects.length,
    { timeout: 120000, polling: 50 },
  );
  const rendered = performance.now() - started;
  const state = await pageState(page);
  await page.screenshot({ path: screenshotPath('dashboard-large') });
  console.log(`| objects | pods | status | page load → all rendered (ms) |`);
  console.log(`|---:|---:|---|---:|`);
  console.log(`| ${snap.objects.length} | ${pods} | ${state.status} | ${rendered.toFixed(0)} |`);
} finally {
  await browser.close();
  await kubecast.stop();
}
