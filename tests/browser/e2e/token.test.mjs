// Short-lived access tokens: silent refresh with rotation, WebSocket close 4401 and resume.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import { expect } from '../lib/expect.mjs';
import { startServer } from '../lib/server.mjs';
import { card, createSession, register } from '../lib/ui.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ name: 'token', env: { WAHUB_ACCESS_TOKEN_TTL_SECS: '4' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const stored = (page) => page.evaluate(() => JSON.parse(localStorage.getItem('wahub.tokens') || 'null'));

it('keeps working across access token expiry without a new login', { skip: !!process.env.E2E_BASE_URL && 'needs a short token lifetime' }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const closes = [];
  let sockets = 0;
  page.on('websocket', (ws) => {
    sockets += 1;
    ws.on('close', () => closes.push(Date.now()));
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await register(page, server.base, 'frank@example.com', 'correct horse battery staple');
    const first = await stored(page);
    await createSession(page, 'tok-one');
    await expect(card(page, 'tok-one').getByTestId('qr')).toBeVisible();

    // Outlive two access tokens. A renewal is not an outage: no card may say "status unknown".
    await page.evaluate(() => {
      window.__sawUnknown = false;
      new MutationObserver(() => {
        if (document.querySelector('[data-testid="status-unknown"]')) window.__sawUnknown = true;
      }).observe(document.body, { childList: true, subtree: true });
    });
    await page.waitForTimeout(9_000);
    assert.equal(await page.evaluate(() => window.__sawUnknown), false, 'no outage shown while tokens are renewed');
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
    await createSession(page, 'tok-two');
    await expect(card(page, 'tok-two').getByTestId('qr').locator('img')).toBeVisible();

    const later = await stored(page);
    assert.notEqual(later.refresh, first.refresh, 'the refresh token was rotated');
    assert.ok(sockets >= 2, `the WebSocket reconnected after expiry (${sockets} sockets)`);
    await expect(page.getByRole('button', { name: 'Create account' })).toHaveCount(0);

    // A reload starts from the stored (rotated) refresh token.
    await page.reload();
    await expect(card(page, 'tok-two')).toBeVisible();
    await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
