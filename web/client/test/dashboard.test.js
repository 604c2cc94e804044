// Smoke test of the dashboard (web/index.html): its inline module runs against the real client
// with the fake server and a minimal DOM, so an API change that breaks the page fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { FakeServer, FakeClock, MemoryStorage, flush } from '../testing/fakes.js';

class Element {
  constructor(tag, id = '') {
    this.tagName = tag;
    this.id = id;
    this.children = [];
    this.textContent = '';
    this.className = '';
    this.checked = false;
    this.listeners = {};
  }
  append(...nodes) {
    this.children.push(...nodes);
  }
  replaceChildren(...nodes) {
    this.children = nodes;
  }
  addEventListener(type, fn) {
    this.listeners[type] = fn;
  }
  text() {
    return [this.textContent, ...this.children.map((c) => c.text())].join(' ');
  }
}

function installPage(server, storage, clock) {
  const ids = ['status', 'updated', 'position', 'objects', 'live'];
  const byId = new Map(ids.map((id) => [id, new Element('x', id)]));
  const saved = {};
  const globals = {
    document: {
      getElementById: (id) => byId.get(id),
      createElement: (tag) => new Element(tag),
      visibilityState: 'visible',
    },
    location: { origin: 'http://kubecast.test', search: '?ns=shop' },
    // The page exposes its client as `window.kubecast` (the browser tests read it).
    window: {},
    WebSocket: server.WebSocket,
    fetch: server.fetch,
    localStorage: storage,
    requestAnimationFrame: (fn) => (fn(), 1),
    // The page's client uses the global timers: fake ones, so nothing outlives the test.
    setTimeout: clock.setTimeout,
    clearTimeout: clock.clearTimeout,
  };
  for (const [k, v] of Object.entries(globals)) {
    saved[k] = Object.getOwnPropertyDescriptor(globalThis, k);
    Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  }
  const restore = () => {
    for (const [k, d] of Object.entries(saved)) {
      if (d) Object.defineProperty(globalThis, k, d);
      else delete globalThis[k];
    }
  };
  return { byId, restore };
}

test('the dashboard renders objects, status and position, and its live switch works', async () => {
  const html = readFileSync(new URL('../../index.html', import.meta.url), 'utf8');
  const script = html.match(/<script type="module">([\s\S]*?)<\/script>/)[1];
  const clientUrl = new URL('../kubecast.js', import.meta.url).href;
  const source = script.replace(`from './kubecast.js'`, `from '${clientUrl}'`);
  assert.notEqual(source, script, 'the page imports ./kubecast.js');

  const clock = new FakeClock();
  const server = new FakeServer(clock);
  server.append('added', 'web-1', { obj: { phase: 'Running', ready: true } });
  server.append('added', 'web', { kind: 'Deployment', obj: { desired: 3, ready: 2 } });
  const storage = new MemoryStorage();
  const page = installPage(server, storage, clock);
  try {
    await import(`data:text/javascript,${encodeURIComponent(source)}`);
    await flush();
    const ws = server.lastSocket;
    assert.equal(ws.url.searchParams.get('ns'), 'shop');
    ws.hello();
    ws.snapshot();
    const text = page.byId.get('objects').text();
    assert.match(text, /shop/);
    assert.match(text, /web-1/);
    assert.match(text, /Running/);
    assert.match(text, /2\/3 ready/);
    assert.equal(page.byId.get('status').textContent, 'live');
    assert.equal(page.byId.get('position').textContent, 'e1:2');
    assert.equal(page.byId.get('live').checked, true);
    assert.equal(globalThis.window.kubecast.lastSeq, 2, 'the page exposes its client');

    // Unticking "live" closes the socket, shows "paused" and is remembered.
    page.byId.get('live').checked = false;
    page.byId.get('live').listeners.change();
    assert.deepEqual(ws.closedByClient, { code: 1000, reason: 'live updates off' });
    assert.equal(page.byId.get('status').textContent, 'paused');
    assert.equal(storage.getItem('kubecast.live'), '0');
  } finally {
    page.restore();
  }
});
