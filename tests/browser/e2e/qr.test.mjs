// QR rotation and time-out, with short QR timings.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import { expect } from '../lib/expect.mjs';
import { startServer } from '../lib/server.mjs';
import { createSession, register } from '../lib/ui.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({
    name: 'qr',
    env: { WAHUB_QR_FIRST_TIMEOUT_MS: '2500', WAHUB_QR_NEXT_TIMEOUT_MS: '1500', WAHUB_QR_MAX_ATTEMPTS: '3' },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

it('rotates the QR, counts attempts, and says why it gave up', { skip: !!process.env.E2E_BASE_URL && 'needs short QR timings' }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await register(page, server.base, 'erin@example.com', 'correct horse battery staple');
    const rot = await createSession(page, 'rotating');
    const qr = rot.getByTestId('qr');
    await expect(rot.getByTestId('qr-attempt')).toContainText('Attempt 1/3');
    const first = await qr.getAttribute('data-qr-value');
    await expect(rot.getByTestId('qr-attempt')).toContainText('Attempt 2/3');
    const second = await qr.getAttribute('data-qr-value');
    assert.notEqual(first, second, 'a new QR value on rotation');
    await expect(qr.locator('img')).toBeVisible();
    await expect(rot).toHaveAttribute('data-status', 'failed', { timeout: 15_000 });
    await expect(rot.locator('.reason')).toContainText('not scanned in time');
    await expect(rot.getByTestId('qr')).toHaveCount(0);
    await rot.getByRole('button', { name: 'Start' }).click();
    await expect(rot.getByTestId('qr-attempt')).toContainText('Attempt 1/3');
  } finally {
    await context.close();
  }
});
