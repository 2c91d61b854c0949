// 200 sessions: the table view, its search, filter, sort and bulk actions; render time printed.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { expectAccessible } from '../lib/a11y.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { expect } from '../lib/expect.mjs';
import { startServer } from '../lib/server.mjs';
import { apiCall, register, screenshot } from '../lib/ui.mjs';

const COUNT = 200;
let server;
let browser;

before(async () => {
  server = await startServer({ name: 'scale', env: { WAHUB_MAX_SESSIONS_PER_USER: '250' } });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

it(`lists ${COUNT} sessions in a table with search, filter, sort and bulk start/stop`, async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await register(page, server.base, 'operator@example.com', 'correct horse battery staple', 'Operator');
    for (let i = 1; i <= COUNT; i += 1) {
      const name = `load-${String(i).padStart(3, '0')}`;
      const res = await apiCall(page, server.base, 'POST', '/api/v1/sessions', { name, start: false });
      assert.equal(res.status, 201, `created ${name}: ${JSON.stringify(res.body)}`);
    }

    // Time from navigation start until all rows are on the page (recorded inside the page).
    await page.addInitScript((count) => {
      new MutationObserver((_, obs) => {
        if (document.querySelectorAll('[data-row-id]').length >= count) {
          window.__allRowsAt = performance.now();
          obs.disconnect();
        }
      }).observe(document, { childList: true, subtree: true });
    }, COUNT);
    await page.reload();
    const rows = page.locator('[data-testid="session-table"] tbody tr');
    await expect(rows).toHaveCount(COUNT, { timeout: 30_000 });
    const firstRender = await page.evaluate(() => window.__allRowsAt);
    assert.ok(firstRender > 0);
    const searchMs = await page.evaluate(async () => {
      const input = document.querySelector('input[name="session-search"]');
      const t0 = performance.now();
      input.value = 'load-19';
      input.dispatchEvent(new Event('input', { bubbles: true }));
      while (document.querySelectorAll('[data-row-id]').length !== 10) await new Promise((r) => requestAnimationFrame(r));
      return performance.now() - t0;
    });
    console.log(`render: ${COUNT} sessions in the table ${firstRender.toFixed(0)} ms after navigation start; search re-render ${searchMs.toFixed(0)} ms`);
    await expect(rows).toHaveCount(10);
    await expect(page.getByTestId('row-count')).toContainText('10 shown');

    // Status filter and sort.
    await page.getByLabel('Search').fill('');
    await page.locator('select[name="status-filter"]').selectOption('connected');
    await expect(rows).toHaveCount(0);
    await expect(page.getByText('No session matches.')).toBeVisible();
    await page.locator('select[name="status-filter"]').selectOption('stopped');
    await expect(rows).toHaveCount(COUNT);
    await page.getByRole('button', { name: /^Name/ }).click();
    await expect(rows.first()).toHaveAttribute('data-session-name', `load-${COUNT}`);
    await page.getByRole('button', { name: /^Name/ }).click();
    await expect(rows.first()).toHaveAttribute('data-session-name', 'load-001');

    // Bulk start the nine of a search, then stop them again.
    await page.locator('select[name="status-filter"]').selectOption('all');
    await page.getByLabel('Search').fill('load-00');
    await expect(rows).toHaveCount(9);
    await page.getByLabel('Select all shown sessions').check();
    await expect(page.getByTestId('row-count')).toContainText('9 selected');
    await page.getByRole('button', { name: 'Start selected' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Started 9 of 9.' })).toBeVisible({ timeout: 20_000 });
    for (let i = 0; i < 9; i += 1) await expect(rows.nth(i)).toHaveAttribute('data-status', /starting|scan_qr/);
    await page.getByLabel('Search').fill('');
    await page.getByRole('button', { name: /^Status/ }).click();
    await expect(rows.nth(8)).toHaveAttribute('data-status', /starting|scan_qr/);
    await expect(rows.nth(9)).toHaveAttribute('data-status', 'stopped');
    await expectAccessible(page, `table of ${COUNT} sessions`);
    await screenshot(page, 'sessions-table', { fullPage: false });

    await page.getByLabel('Search').fill('load-00');
    await page.getByLabel('Select all shown sessions').check();
    await page.getByRole('button', { name: 'Stop selected' }).click();
    await expect(page.getByRole('status').filter({ hasText: 'Stopped 9 of 9.' })).toBeVisible({ timeout: 20_000 });
    for (let i = 0; i < 9; i += 1) await expect(rows.nth(i)).toHaveAttribute('data-status', 'stopped');
    const listed = await apiCall(page, server.base, 'GET', '/api/v1/sessions');
    assert.equal(listed.body.filter((s) => s.status !== 'stopped').length, 0, 'the server agrees: all stopped');

    // Cards stay available, and the choice is remembered.
    const t0 = Date.now();
    await page.getByRole('button', { name: 'Cards', exact: true }).click();
    await expect(page.locator('article[data-session-id]')).toHaveCount(COUNT, { timeout: 30_000 });
    console.log(`render: ${COUNT} session cards within ${Date.now() - t0} ms of the click (measured from the test)`);
    await page.reload();
    await expect(page.locator('article[data-session-id]')).toHaveCount(COUNT, { timeout: 30_000 });
    await page.getByRole('button', { name: 'Table', exact: true }).click();
    await expect(rows).toHaveCount(COUNT);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
