// Exercises kubecast.d.ts under `tsc --strict` (npm run typecheck); never run.
import {
  KubecastClient,
  backoffDelay,
  browserEnvironment,
  objectKey,
  type KubecastEvent,
  type KubecastStatus,
  type ObjectChange,
  type KubecastEnvironment,
} from './kubecast.js';

const statusText: Record<KubecastStatus, string> = {
  live: 'Live',
  polling: 'Polling',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

const env: KubecastEnvironment = browserEnvironment();

const client = new KubecastClient({
  baseUrl: 'https://kubecast.example',
  ns: ['shop'],
  kinds: ['Pod', 'Deployment'],
  token: async () => 'jwt',
  environment: env,
  storage: null,
  timing: { quietMs: 4000, requestTimeoutMs: 5000, maxHeldEvents: 1000 },
  random: Math.random,
  now: () => Date.now(),
  onStatus: (status) => console.log(statusText[status]),
  onChange: (c, changes: ObjectChange[]) => console.log(c.objects.size, changes.length),
  onObject: (change) => {
    if (change.type === 'deleted') console.log('gone', change.key, change.previous?.obj);
  },
  onEvent: (ev: KubecastEvent) => {
    if (ev.op === 'churn') console.warn('churn', ev.name, ev.obj?.['rate']);
  },
  onError: (err) => {
    if (err.code === 'forbidden') console.error(err.message);
    else if (err.code === 'no_progress') console.warn(err.message);
  },
});

client.start();
const off: () => void = client.on('status', (s: KubecastStatus) => console.log(s));
off();
client.on('change', (c) => {
  for (const [key, ev] of c.objects) console.log(key, ev.seq, ev.obj);
  const pos: string = c.epoch === null ? '' : `${c.epoch}:${c.lastSeq ?? 0}`;
  console.log(pos, c.lastUpdate?.toISOString(), c.summaries.size, c.live);
});
client.setToken('fresh.jwt');
client.setToken(() => Promise.resolve(null));
client.setLive(!client.live);
client.stop();

const ms: number = backoffDelay(3, Math.random, 500, 30000) + client.timing.pollMaxMs;
const key: string = objectKey({ kind: 'Pod', ns: 'shop', name: 'web-1' });
console.log(ms, key);

// A test double fits the injected constructor and fetch types.
class Fake {
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  constructor(readonly url: string, readonly protocols?: string | string[]) {}
  send(_data: string): void {}
  close(_code?: number, _reason?: string): void {}
}
new KubecastClient({
  baseUrl: 'http://localhost:8080',
  WebSocket: Fake,
  fetch: async () => ({ status: 200, ok: true, json: async () => ({}) }),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
});

// The browser's own implementations fit the injected types, bound or not (they are called unbound).
new KubecastClient({
  WebSocket,
  fetch: window.fetch.bind(window),
  setTimeout: window.setTimeout.bind(window),
  clearTimeout: window.clearTimeout.bind(window),
  storage: window.localStorage,
});
new KubecastClient({
  fetch: window.fetch,
  setTimeout: window.setTimeout,
  clearTimeout: window.clearTimeout,
  now: performance.now,
});

// Mistakes the types must catch.
// @ts-expect-error: not a status
const bad: KubecastStatus = 'connecting';
// @ts-expect-error: unknown listener type
client.on('message', () => {});
// @ts-expect-error: the store is read-only
client.objects = new Map();
console.log(bad);
