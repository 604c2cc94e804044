// Shared pieces of the browser tests: a Kubecast process on a free port, Debian's Chromium, and
// the server's own view of the state (snapshot + events) to compare a page against.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repo = path.resolve(here, '../..');
/** Where screenshots go (kept by CI as test artifacts). */
export const artifacts = path.join(repo, 'target', 'browser-artifacts');
const binary = process.env.KUBECAST_BIN || path.join(repo, 'target', 'debug', 'kubecast');

export async function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** The embedded `kubecast` (simulated cluster, in-memory log) on a free port; ready when it returns. */
export async function startKubecast({ churn = '0s', seed = 1, port, extra = [] } = {}) {
  port ??= await freePort();
  const child = spawn(binary, [
    '--listen', `127.0.0.1:${port}`, '--source', 'sim',
    '--sim-churn', churn, '--sim-seed', String(seed), '--log', 'warn', ...extra,
  ], { stdio: ['ignore', 'inherit', 'inherit'] });
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`kubecast exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) break;
    } catch { /* not listening yet */ }
    await sleep(50);
  }
  return {
    url,
    port,
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export function screenshotPath(name) {
  mkdirSync(artifacts, { recursive: true });
  return path.join(artifacts, `${name}.png`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns a truthy value (returned), or fails after `ms`. */
export async function eventually(what, check, ms = 15000) {
  const deadline = Date.now() + ms;
  let last;
  while (Date.now() < deadline) {
    last = await check();
    if (last) return last;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

const key = (ev) => `${ev.kind}/${ev.ns}/${ev.name}`;

/**
 * The server's state at exactly `seq` as object keys and summary keys: its snapshot at `base`
 * (taken earlier, at or below `seq`) with every logged event up to `seq` applied the way the
 * server's own view applies them (`added`/`updated` keep an object, `summary` keeps a summary,
 * `deleted` and `churn` remove the key).
 */
export async function serverStateAt(url, base, seq) {
  const state = new Map([
    ...base.objects.map((o) => [key(o), 'object']),
    ...base.summaries.map((o) => [key(o), 'summary']),
  ]);
  let since = base.seq;
  while (since < seq) {
    const page = await (await fetch(`${url}/events?since=${since}&epoch=${base.epoch}&limit=1000`)).json();
    if (page.epoch !== base.epoch) throw new Error('the epoch changed under the test');
    for (const ev of page.events) {
      if (ev.seq > seq) break;
      if (ev.op === 'added' || ev.op === 'updated') state.set(key(ev), 'object');
      else if (ev.op === 'summary') state.set(key(ev), 'summary');
      else state.delete(key(ev));
    }
    if (page.next === since) break;
    since = page.next;
  }
  const of = (what) => new Set([...state].filter(([, v]) => v === what).map(([k]) => k));
  return { objects: of('object'), summaries: of('summary') };
}

/** Asserts that the page's client holds exactly the server's state at the page's seq. */
export async function assertSameState(url, base, pageState) {
  const server = await serverStateAt(url, base, pageState.seq);
  assert.deepEqual(new Set(pageState.keys), server.objects, 'objects');
  assert.deepEqual(new Set(pageState.summaries), server.summaries, 'summaries');
}

export async function snapshot(url) {
  return (await fetch(`${url}/snapshot`)).json();
}

/** What the page's client holds: its cursor and object keys (the page exposes `window.kubecast`). */
export function pageState(page) {
  return page.evaluate(() => ({
    epoch: window.kubecast.epoch,
    seq: window.kubecast.lastSeq,
    keys: [...window.kubecast.objects.keys()],
    summaries: [...window.kubecast.summaries.keys()],
    status: document.getElementById('status').textContent,
  }));
}

/**
 * What the dashboard's DOM shows: pods as `Pod/ns/name` with the card (`ns/Kind/name`) they sit
 * in (pods fading out are left out, and so are churning cards, which show a summary instead),
 * the cards, churning cards, services (`ns/name`), nodes and namespace sections.
 */
export function dashboardState(page) {
  return page.evaluate(() => {
    const keys = (selector) => [...document.querySelectorAll(selector)].map((n) => n.dataset.key);
    const pods = [];
    for (const card of document.querySelectorAll('#objects .workload:not(.churning)')) {
      const ns = card.closest('section').dataset.key;
      for (const pod of card.querySelectorAll('.pod:not(.leaving)')) pods.push([`Pod/${ns}/${pod.dataset.key}`, card.dataset.key]);
    }
    const services = [...document.querySelectorAll('#objects .service')]
      .map((li) => `${li.closest('section').dataset.key}/${li.dataset.key}`);
    return {
      pods,
      cards: keys('#objects .workload'),
      churning: keys('#objects .workload.churning'),
      services,
      nodes: keys('#nodes .node'),
      namespaces: keys('#objects > section'),
    };
  });
}

/** The card a pod belongs in: its top-level controller, or the namespace's bare pods. */
export function cardOf(pod) {
  const owner = pod.obj && pod.obj.owner;
  return owner ? `${pod.ns}/${owner.kind}/${owner.name}` : `${pod.ns}/Pod/`;
}

/** Pods of `objects` (events) as [`Pod/ns/name`, card] pairs, sorted, outside `churning` cards. */
export function expectedPods(objects, churning = []) {
  const skip = new Set(churning);
  return objects
    .filter((o) => o.kind === 'Pod' && !skip.has(cardOf(o)))
    .map((o) => [`Pod/${o.ns}/${o.name}`, cardOf(o)])
    .sort(([a], [b]) => a.localeCompare(b));
}

/**
 * The DOM shows exactly the pods the page's client holds, each in its workload's card (churning
 * cards aside). New pods are drawn once settled and deleted ones fade, so this holds a moment
 * after the last change: poll it with `eventually`.
 */
export async function domShowsClientPods(page) {
  const [dom, objects] = await Promise.all([
    dashboardState(page),
    page.evaluate(() => [...window.kubecast.objects.values()]),
  ]);
  const want = expectedPods(objects, dom.churning);
  return want.length > 0 && JSON.stringify(sortedPairs(dom.pods)) === JSON.stringify(want);
}

export const sortedPairs = (pairs) => [...pairs].sort(([a], [b]) => a.localeCompare(b));
