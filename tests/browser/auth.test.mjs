// The dashboard against a replica that requires tokens: it asks for one, takes one from the URL
// fragment (and removes it from the address bar), keeps it for the tab, and asks again when the
// server refuses it.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { dashboardState, eventually, launchBrowser, pageState, startKubecast } from './support.mjs';

const SECRET = 'browser-test-secret-of-at-least-32-bytes!';
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An HS256 JWT for `claims`, as an identity provider would sign it. */
function hs256(claims, secret = SECRET) {
  const signed = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}`;
  return `${signed}.${createHmac('sha256', secret).update(signed).digest('base64url')}`;
}
const inAnHour = () => Math.floor(Date.now() / 1000) + 3600;
const shopToken = () => hs256({ sub: 'test', exp: inAnHour(), namespaces: ['shop'] });

let browser;
let kubecast;
before(async () => {
  browser = await launchBrowser();
  kubecast = await startKubecast({ extra: ['--jwt-secret-file', await secretFile()] });
});
after(async () => {
  await browser?.close();
  await kubecast?.stop();
});

async function secretFile() {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const file = `${mkdtempSync(`${tmpdir()}/kubecast-auth-`)}/secret`;
  writeFileSync(file, SECRET);
  return file;
}

const formShown = (page) => page.isVisible('#auth');
const visibleNamespaces = async (page) => (await dashboardState(page)).namespaces;

describe('dashboard with tokens', () => {
  test('asks for a token, shows what it grants, and keeps it for the tab', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(kubecast.url);
      await eventually('the token form', () => formShown(page));
      assert.match(await page.textContent('#auth .auth-message'), /needs a token/);
      assert.notEqual((await pageState(page)).status, 'live');
      await page.fill('#auth input', shopToken());
      await page.click('#auth button');
      await eventually('live with the token', async () => (await pageState(page)).status === 'live');
      await eventually('only the granted namespace', async () => JSON.stringify(await visibleNamespaces(page)) === '["shop"]');
      assert.equal(await formShown(page), false);
      await page.reload();
      await eventually('live again after a reload, without asking', async () => (await pageState(page)).status === 'live');
      assert.equal(await formShown(page), false);
    } finally {
      await page.close();
    }
  });

  test('takes a token from the URL fragment and removes it from the address bar', async () => {
    const page = await browser.newPage();
    try {
      await page.goto(`${kubecast.url}/#token=${shopToken()}&ns=shop`);
      await eventually('live', async () => (await pageState(page)).status === 'live');
      assert.equal(new URL(page.url()).hash, '#ns=shop', 'the token left the URL, the filter stayed');
      assert.equal(await formShown(page), false);
    } finally {
      await page.close();
    }
  });

  test('asks again when the server refuses the token', async () => {
    const page = await browser.newPage();
    try {
      const expired = hs256({ exp: Math.floor(Date.now() / 1000) - 3600, namespaces: ['shop'] });
      await page.goto(`${kubecast.url}/#token=${expired}`);
      await eventually('the token form', () => formShown(page));
      assert.match(await page.textContent('#auth .auth-message'), /refused or expired/);
      await page.fill('#auth input', shopToken());
      await page.click('#auth button');
      await eventually('live with the new token', async () => (await pageState(page)).status === 'live');
    } finally {
      await page.close();
    }
  });
});
