// The dashboard page: connects the Kubecast client, feeds its changes into the ClusterIndex and
// redraws what they touched once per animation frame. The header shows the connection status,
// how fresh the page is, the log position, a namespace filter and the live-updates switch.
//
// Query parameters: `ns` and `kinds` (comma lists) narrow what the server sends; the filter's
// choice is kept in the URL fragment (`#ns=shop`). A token can come in the fragment too
// (`#token=<jwt>`, see auth.js).

import { KubecastClient } from '../client/kubecast.js';
import { initialToken, tokenForm } from './auth.js';
import { ClusterIndex } from './cluster.js';
import { setText } from './dom.js';
import { ago } from './format.js';
import { DashboardView } from './view.js';

const $ = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const params = new URLSearchParams(location.search);
const list = (/** @type {string} */ name) => (params.get(name) || '').split(',').filter(Boolean);

const index = new ClusterIndex();
const view = new DashboardView({ nodes: $('nodes'), namespaces: $('objects') }, index);
/** Figures for the console, the browser tests and the render benchmark. */
const stats = {
  draws: 0, lastDrawMs: 0, maxDrawMs: 0, lastEventAt: 0, lagMs: /** @type {number | null} */ (null),
  /** Since navigation start (performance.now()): the first state arrived, and was drawn. */
  firstStateAt: 0, firstDrawnAt: 0,
};

let frame = 0;
let dueTimer = /** @type {ReturnType<typeof setTimeout> | undefined} */ (undefined);

function scheduleDraw() {
  if (!frame) frame = requestAnimationFrame(draw);
}

function draw() {
  frame = 0;
  const started = performance.now();
  const touched = index.takeTouched();
  const next = view.draw(touched, Date.now());
  if (touched.layout) drawFilterChoices();
  drawFreshness();
  stats.draws += 1;
  stats.lastDrawMs = performance.now() - started;
  stats.maxDrawMs = Math.max(stats.maxDrawMs, stats.lastDrawMs);
  if (!stats.firstDrawnAt) stats.firstDrawnAt = performance.now();
  clearTimeout(dueTimer);
  if (next !== null) dueTimer = setTimeout(scheduleDraw, Math.max(0, next - Date.now()));
}

/** The header's freshness line; drawn with each frame and every second. */
function drawFreshness() {
  setText($('updated'), stats.lastEventAt ? ago(Date.now() - stats.lastEventAt) : 'never');
  setText($('lag'), stats.lagMs === null ? '' : `lag ${stats.lagMs} ms`);
  setText($('position'), client.epoch ? `${client.epoch}:${client.lastSeq}` : '');
}

/** The namespace filter: "all" plus every namespace; the choice is kept in the URL fragment. */
function drawFilterChoices() {
  const select = /** @type {HTMLSelectElement} */ ($('ns-filter'));
  const wanted = chosenNamespace();
  const names = ['', ...[...index.namespaces.keys()].sort()];
  if (wanted && !names.includes(wanted)) names.push(wanted);
  select.replaceChildren(...names.map((n) => new Option(n || 'all namespaces', n)));
  select.value = wanted;
}

function chosenNamespace() {
  return new URLSearchParams(location.hash.slice(1)).get('ns') || '';
}

function applyFilter() {
  const ns = chosenNamespace();
  view.filter(ns ? [ns] : []);
}

const token = initialToken();
let tokenGiven = token !== undefined;
const client = new KubecastClient({ ns: list('ns'), kinds: list('kinds'), ...(token ? { token } : {}) });
const auth = tokenForm(/** @type {HTMLFormElement} */ ($('auth')), (t) => {
  tokenGiven = true;
  client.setToken(t);
});

client.on('error', (e) => {
  if (e.code === 'unauthenticated') auth.ask(tokenGiven ? 'token refused or expired:' : 'this server needs a token:');
  else if (e.code === 'forbidden') auth.ask('the token does not grant this view:');
});

client.on('event', (ev) => {
  if (ev.op === 'churn') index.applyChurn(ev, Date.now());
  if (typeof ev.ts === 'number') stats.lagMs = Math.max(0, Date.now() - ev.ts);
});
client.on('change', (c, changes) => {
  index.applyChanges(changes);
  index.syncSummaries(c.summaries);
  stats.lastEventAt = Date.now();
  if (!stats.firstStateAt) stats.firstStateAt = performance.now();
  scheduleDraw();
});
client.on('status', (s) => {
  const el = $('status');
  el.textContent = s === 'offline' && !client.live ? 'paused' : s;
  el.className = s;
});

const liveBox = /** @type {HTMLInputElement} */ ($('live'));
liveBox.checked = client.live;
liveBox.addEventListener('change', () => client.setLive(liveBox.checked));
$('ns-filter').addEventListener('change', (e) => {
  const ns = /** @type {HTMLSelectElement} */ (e.target).value;
  history.replaceState(null, '', ns ? `#ns=${encodeURIComponent(ns)}` : location.pathname + location.search);
  applyFilter();
});
window.addEventListener('hashchange', () => {
  drawFilterChoices();
  applyFilter();
});
setInterval(drawFreshness, 1000);
drawFilterChoices();
applyFilter();

// For the console and the browser tests: the client (cursor and object store) and the dashboard.
Object.assign(window, { kubecast: client, kubecastDashboard: { index, view, stats } });
client.start();
