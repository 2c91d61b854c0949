// The webhooks screen against a receiver on loopback: create, deliveries, failures and
// redelivery, edit events, pause, rotate the secret, delete.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import http from 'node:http';
import { after, before, it } from 'node:test';
import { expectAccessible } from '../lib/a11y.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { expect } from '../lib/expect.mjs';
import { startServer } from '../lib/server.mjs';
import { apiCall, goTo, register, screenshot } from '../lib/ui.mjs';

let server;
let browser;
let receiver;
const received = [];
let answer = 200;

before(async () => {
  receiver = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.writeHead(answer).end();
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  server = await startServer({
    name: 'webhooks',
    env: { WAHUB_WEBHOOK_MAX_ATTEMPTS: '2', WAHUB_WEBHOOK_RETRY_BASE_MS: '200', WAHUB_WEBHOOK_POLL_MS: '100' },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await new Promise((r) => receiver?.close(r));
});

const signed = (r, secret) =>
  r.headers['x-wahub-signature'] === `sha256=${createHmac('sha256', secret).update(`${r.headers['x-wahub-timestamp']}.${r.body}`).digest('hex')}`;

async function waitFor(what, check, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const got = check();
    if (got) return got;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('manages a webhook end to end', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const url = `http://127.0.0.1:${receiver.address().port}/hook`;
  try {
    await register(page, server.base, 'hooks@example.com', 'correct horse battery staple');
    await goTo(page, 'Webhooks');
    await expect(page.getByText('No webhooks yet.')).toBeVisible();
    await expectAccessible(page, 'webhooks, empty');

    const form = page.getByRole('form', { name: 'New webhook' });
    await form.getByLabel('URL').fill(url);
    await form.getByLabel('All events').uncheck();
    await form.getByRole('button', { name: 'Create webhook' }).click();
    await expect(form.getByRole('alert')).toContainText('Choose at least one event.');
    await form.getByLabel('session.created').check();
    await form.getByRole('button', { name: 'Create webhook' }).click();
    const once = page.getByTestId('one-time-secret');
    await expect(once).toContainText('it will not be shown again');
    const secret = await once.locator('input').inputValue();
    assert.match(secret, /.{16,}/);
    await once.getByRole('button', { name: 'Done' }).click();
    const item = page.locator('article[data-webhook-id]');
    await expect(item).toContainText('session.created');

    // A delivery arrives, signed with that secret, and shows in the log.
    await apiCall(page, server.base, 'POST', '/api/v1/sessions', { name: 'hooked-1', start: false });
    const first = await waitFor('the first delivery', () => received.find((r) => r.headers['x-wahub-event'] === 'session.created'));
    assert.ok(signed(first, secret), 'signed with the secret shown once');
    await item.getByRole('button', { name: 'Show deliveries' }).click();
    const log = item.getByTestId('deliveries');
    await expect(log.locator('tr[data-status="delivered"]')).toHaveCount(1);
    await expect(log.locator('tr[data-status="delivered"] [data-field="attempts"]')).toContainText('1');

    // The receiver fails: two attempts, then failed with the answer shown; redeliver once it works again.
    answer = 500;
    await apiCall(page, server.base, 'POST', '/api/v1/sessions', { name: 'hooked-2', start: false });
    await waitFor('two failed attempts', () => received.filter((r) => r.body.includes('hooked-2')).length >= 2);
    let failedRow;
    for (let i = 0; i < 50; i += 1) {
      await log.getByRole('button', { name: 'Refresh' }).click();
      failedRow = log.locator('tr[data-status="failed"]');
      if (await failedRow.count()) break;
      await page.waitForTimeout(200);
    }
    await expect(failedRow).toHaveCount(1);
    await expect(failedRow).toContainText('HTTP 500');
    await expect(failedRow.locator('[data-field="attempts"]')).toContainText('2');
    answer = 200;
    const before = received.length;
    await failedRow.getByRole('button', { name: /^Redeliver/ }).click();
    await waitFor('the redelivery', () => received.length > before && received.at(-1).body.includes('hooked-2') && received.at(-1));
    await expect(log.getByRole('status')).toContainText('Queued again');
    for (let i = 0; i < 50; i += 1) {
      await log.getByRole('button', { name: 'Refresh' }).click();
      if ((await log.locator('tr[data-status="delivered"]').count()) === 2) break;
      await page.waitForTimeout(200);
    }
    await expect(log.locator('tr[data-status="delivered"]')).toHaveCount(2);
    await expectAccessible(page, 'webhooks with a delivery log');
    await screenshot(page, 'webhooks');

    // Edit the events.
    await item.getByRole('button', { name: 'Edit events' }).click();
    await item.getByRole('form').getByLabel('session.deleted').check();
    await item.getByRole('button', { name: 'Save events' }).click();
    await expect(item.locator('.chip')).toHaveCount(2);
    const hooks = await apiCall(page, server.base, 'GET', '/api/v1/webhooks');
    assert.deepEqual(hooks.body[0].events.sort(), ['session.created', 'session.deleted']);

    // Pause: nothing is sent; resume.
    await item.getByRole('button', { name: 'Pause' }).click();
    await expect(item).toHaveAttribute('data-active', 'false');
    await expect(item).toContainText('Paused');
    const quiet = received.length;
    await apiCall(page, server.base, 'POST', '/api/v1/sessions', { name: 'hooked-3', start: false });
    await page.waitForTimeout(1500);
    assert.equal(received.length, quiet, 'a paused webhook sends nothing');
    await item.getByRole('button', { name: 'Resume' }).click();
    await expect(item).toHaveAttribute('data-active', 'true');

    // Rotate the secret: the new one signs, the old one no longer does.
    await item.getByRole('button', { name: 'Rotate secret' }).click();
    await item.getByRole('alertdialog').getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = item.getByTestId('one-time-secret');
    const fresh = await (async () => {
      await expect(rotated).toBeVisible();
      return rotated.locator('input').inputValue();
    })();
    assert.notEqual(fresh, secret);
    await apiCall(page, server.base, 'POST', '/api/v1/sessions', { name: 'hooked-4', start: false });
    const fourth = await waitFor('a delivery after rotation', () => received.find((r) => r.body.includes('hooked-4')));
    assert.ok(signed(fourth, fresh), 'signed with the new secret');
    assert.ok(!signed(fourth, secret), 'not with the old one');
    await rotated.getByRole('button', { name: 'Done' }).click();

    // Delete.
    await item.getByRole('button', { name: 'Delete', exact: true }).click();
    await item.getByRole('button', { name: 'Delete webhook' }).click();
    await expect(page.getByText('No webhooks yet.')).toBeVisible();
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
