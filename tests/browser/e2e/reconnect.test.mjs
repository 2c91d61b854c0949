// The connection indicator and the WebSocket resume across a server restart.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import { expect } from '../lib/expect.mjs';
import { startServer } from '../lib/server.mjs';
import { card, createSession, register, simulateScan } from '../lib/ui.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ name: 'reconnect' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

it('shows reconnecting while the server is away and catches up after', { skip: !!process.env.E2E_BASE_URL && 'needs its own server' }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await register(page, server.base, 'carol@example.com', 'correct horse battery staple');
    await createSession(page, 'gamma');
    await simulateScan(page, 'gamma', '6287770000001', 'Carol');
    await expect(card(page, 'gamma')).toHaveAttribute('data-status', 'connected');
    await page.evaluate(() => {
      window.__noReload = true;
    });

    await server.halt();
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'reconnecting');
    await server.resume();
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
    // A paired session comes back by itself, without a new QR, and the page was never reloaded.
    await expect(card(page, 'gamma')).toHaveAttribute('data-status', 'connected', { timeout: 30_000 });
    assert.equal(await page.evaluate(() => window.__noReload), true);

    // Live events still flow after the reconnect.
    await createSession(page, 'delta');
    await expect(card(page, 'delta').getByTestId('qr')).toBeVisible();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
