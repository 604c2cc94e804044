import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Presence } from '../presence.js';

const pods = (...names) => new Map(names.map((n) => [n, { name: n }]));
const names = (view) => view.items.map((i) => (i.leaving ? `-${i.name}` : i.name));

test('a new pod is drawn only after it settles; the first load draws at once', () => {
  const p = new Presence({ settleMs: 800, fadeMs: 600 });
  assert.deepEqual(names(p.view(pods('a'), 0, true)), ['a']);
  let v = p.view(pods('a', 'b'), 1000);
  assert.deepEqual(names(v), ['a']);
  assert.equal(v.nextAt, 1800);
  v = p.view(pods('a', 'b'), 1799);
  assert.deepEqual(names(v), ['a']);
  v = p.view(pods('a', 'b'), 1800);
  assert.deepEqual(names(v), ['a', 'b']);
  assert.equal(v.nextAt, null);
});

test('a pod that comes and goes before it settles is never drawn', () => {
  const p = new Presence({ settleMs: 800, fadeMs: 600 });
  p.view(pods(), 0, true);
  p.view(pods('short'), 100);
  const v = p.view(pods(), 500);
  assert.deepEqual(names(v), []);
  assert.equal(v.nextAt, null);
  assert.deepEqual(names(p.view(pods('short'), 600)), [], 'back again: it waits afresh');
});

test('a deleted pod fades for fadeMs, then goes; back in time it is shown again', () => {
  const p = new Presence({ settleMs: 800, fadeMs: 600 });
  p.view(pods('a', 'b'), 0, true);
  let v = p.view(pods('a'), 100);
  assert.deepEqual(names(v), ['a', '-b']);
  assert.equal(v.nextAt, 700);
  assert.equal(p.drawsAt(650), true);
  v = p.view(pods('a'), 700);
  assert.deepEqual(names(v), ['a']);
  p.view(pods(), 800);
  assert.equal(p.drawsAt(1300), true);
  assert.equal(p.drawsAt(1400), false);
  assert.deepEqual(names(p.view(pods('a'), 900)), ['a'], 'a pod back while fading is shown at once');
});

test('the latest state of a shown pod is drawn', () => {
  const p = new Presence();
  p.view(new Map([['a', { v: 1 }]]), 0, true);
  const v = p.view(new Map([['a', { v: 2 }]]), 10);
  assert.deepEqual(v.items[0].pod, { v: 2 });
});
