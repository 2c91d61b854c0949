// End to end: the real server (sim engine) and the built dashboard in Chromium.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { launchBrowser } from '../lib/browser.mjs';
import { expect } from '../lib/expect.mjs';
import { startServer } from '../lib/server.mjs';
import { expectAccessible } from '../lib/a11y.mjs';
import { card, createSession, goTo, register, screenshot, simulateScan } from '../lib/ui.mjs';

const PASSWORD = 'correct horse battery staple';
let server;
let browser;

before(async () => {
  server = await startServer({ name: 'dashboard' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Fails the test on uncaught page errors; returns them for inspection. */
function watchErrors(page) {
  const errors = [];
  page.on('pageerror', (err) => errors.push(err.message));
  return errors;
}

async function accessToken(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('wahub.tokens') || 'null')?.access ?? null);
}

describe('dashboard', () => {
  it('links a session by QR, makes another primary and sends a message', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors = watchErrors(page);
    try {
      await page.goto(`${server.base}/`);
      // A first visit opens on Register, says the first account becomes the admin, and shows the password rule.
      await expect(page.getByRole('tab', { name: 'Register' })).toHaveAttribute('aria-selected', 'true');
      await expect(page.getByTestId('auth-hint')).toContainText('first account');
      await expect(page.getByTestId('password-rule')).toContainText('At least 8 characters');
      await expectAccessible(page, 'register');
      await screenshot(page, 'register');
      await page.getByRole('tab', { name: 'Log in' }).click();
      await expect(page.getByTestId('auth-hint')).toContainText('Create an account');
      await expectAccessible(page, 'login');
      await screenshot(page, 'login');

      await register(page, server.base, 'alice@example.com', PASSWORD, 'Alice');
      // The first user of the server is its admin, and the header says so.
      await expect(page.getByTestId('role')).toContainText('Admin');
      // A marker that survives only if the page is never reloaded.
      await page.evaluate(() => {
        window.__noReload = 'still here';
      });

      const alpha = await createSession(page, 'alpha');
      const qr = alpha.getByTestId('qr');
      await expect(qr).toBeVisible();
      await expect(qr.locator('img')).toBeVisible();
      await expect(alpha.getByTestId('qr-attempt')).toContainText(/Attempt 1\/\d+/);
      await expect(alpha.getByTestId('qr-countdown')).toContainText(/Expires in \d+ s/);
      const qrValue = await qr.getAttribute('data-qr-value');
      assert.ok(qrValue, 'the QR carries its value');
      await expectAccessible(page, 'sessions with a QR');
      await screenshot(page, 'sessions-qr');

      await simulateScan(page, 'alpha', '6281234567890', 'Alice Phone');
      await expect(alpha).toHaveAttribute('data-status', 'connected');
      await expect(alpha.locator('[data-field="phone"]')).toContainText('+6281234567890');
      await expect(alpha.locator('[data-field="push_name"]')).toContainText('Alice Phone');
      await expect(alpha.getByTestId('qr')).toHaveCount(0);
      assert.equal(await page.evaluate(() => window.__noReload), 'still here', 'connected without a reload');
      await expect(page.locator('.timeline')).toContainText('Connected');
      await expectAccessible(page, 'connected session');
      // Which server this is: its version and engine, and the way to the API docs.
      const spec = await (await fetch(`${server.base}/api/openapi.json`)).json();
      const info = page.getByTestId('server-info');
      await expect(info).toContainText(`wahub ${spec.info.version}`);
      await expect(info).toContainText('Engine: sim');
      const docsHref = await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'API docs' }).getAttribute('href');
      assert.equal(docsHref, '/api/docs');
      assert.equal((await fetch(`${server.base}${docsHref}`)).status, 200, 'the docs answer');
      await screenshot(page, 'connected');

      // Second session becomes primary.
      const beta = await createSession(page, 'beta');
      await expect(alpha.getByRole('button', { name: /alpha is the primary session/ })).toBeVisible();
      await beta.getByRole('button', { name: 'Make beta the primary session' }).click();
      await expect(beta.getByRole('button', { name: /beta is the primary session/ })).toHaveAttribute('aria-pressed', 'true');
      await expect(alpha.getByRole('button', { name: 'Make alpha the primary session' })).toHaveAttribute('aria-pressed', 'false');
      await simulateScan(page, 'beta', '6289876543210', 'Beta Phone');
      await expect(beta).toHaveAttribute('data-status', 'connected');

      // Messages: the primary is preselected; a sent message shows up.
      await goTo(page, 'Messages');
      await expect(page.getByRole('heading', { name: 'Messages', level: 1 })).toBeVisible();
      const betaId = await page.evaluate(() => document.querySelector('select[name="session"]')?.value);
      const ids = await page.evaluate(() => [...document.querySelectorAll('select[name="session"] option')].map((o) => [o.value, o.textContent]));
      const betaOption = ids.find(([, label]) => label.includes('beta'));
      assert.ok(betaOption, 'beta is offered');
      assert.equal(betaId, betaOption[0], 'the primary session is preselected');

      const send = page.getByRole('form', { name: 'Send a message' });
      await send.getByLabel('To').fill('6281111111111');
      await send.getByLabel('Text').fill('hello from the e2e test');
      await send.getByRole('button', { name: 'Send' }).click();
      await expect(send.getByRole('status')).toContainText('Message');
      const list = page.getByTestId('messages');
      await expect(list).toContainText('hello from the e2e test');
      await expect(list.locator('.msg.out').first()).toContainText(/queued|sent|delivered|read/);

      // An incoming message appears live in a second tab of the same login.
      const other = await context.newPage();
      await other.goto(`${server.base}/sessions`);
      const otherBeta = card(other, 'beta');
      const sim = otherBeta.getByTestId('simulator');
      await sim.getByRole('button', { name: 'Incoming message' }).click();
      await sim.getByLabel('From').fill('6282222222222');
      await sim.getByLabel('Text').fill('hi back from the phone');
      await sim.getByRole('button', { name: 'Deliver' }).click();
      await expect(list).toContainText('hi back from the phone');
      await other.close();
      await expectAccessible(page, 'messages');
      await screenshot(page, 'messages');

      // Phone-width layout still shows the cards.
      await page.setViewportSize({ width: 390, height: 844 });
      await goTo(page, 'Sessions');
      await expect(card(page, 'alpha')).toBeVisible();
      await expectAccessible(page, 'sessions at phone width');
      await screenshot(page, 'sessions-phone');

      assert.deepEqual(errors, [], 'no uncaught errors in the page');
    } finally {
      await context.close();
    }
  });

  it('renames, stops, starts, links by code, logs out, relinks and deletes a session', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const errors = watchErrors(page);
    try {
      await register(page, server.base, 'dave@example.com', PASSWORD);
      const one = await createSession(page, 'one');
      await expect(one.getByTestId('qr').locator('img')).toBeVisible();

      // Clear errors from the server, in words.
      const form = page.getByRole('form', { name: 'New session' });
      await form.getByLabel('Name').fill('one');
      await form.getByRole('button', { name: 'Create session' }).click();
      await expect(form.getByRole('alert')).toContainText('You already have a session with that name.');
      await form.getByLabel('Name').fill('bad phone');
      await form.getByLabel('Phone').fill('123');
      await form.getByRole('button', { name: 'Create session' }).click();
      await expect(form.getByRole('alert')).toContainText('That phone number is not valid');

      // Link with a phone number instead of the QR.
      await one.getByRole('button', { name: 'Link with phone number instead' }).click();
      await one.getByLabel('Phone number').fill('+62 812-3456-0001');
      await one.getByRole('button', { name: 'Get code' }).click();
      await expect(one.getByTestId('pair-code')).toContainText(/[A-Z0-9]{4}-?[A-Z0-9]{4}/);

      await one.getByRole('button', { name: 'Stop' }).click();
      await expect(one).toHaveAttribute('data-status', 'stopped');
      await one.getByRole('button', { name: 'Start' }).click();
      await expect(one).toHaveAttribute('data-status', 'scan_qr');
      await expect(one.getByTestId('qr').locator('img')).toBeVisible();

      await one.getByRole('button', { name: 'Rename' }).click();
      await one.getByLabel('New name').fill('one-renamed');
      await one.getByRole('button', { name: 'Save' }).click();
      const renamed = card(page, 'one-renamed');
      await expect(renamed).toBeVisible();

      await simulateScan(page, 'one-renamed', '6281200000042', 'Dave');
      await expect(renamed).toHaveAttribute('data-status', 'connected');
      await renamed.getByRole('button', { name: 'Log out device' }).click();
      await expect(renamed).toHaveAttribute('data-status', 'logged_out');

      await renamed.getByRole('button', { name: 'Force relink' }).click();
      await renamed.getByRole('button', { name: 'Wipe and relink' }).click();
      await expect(renamed.getByTestId('qr').locator('img')).toBeVisible();

      await renamed.getByRole('button', { name: 'Delete', exact: true }).click();
      await renamed.getByRole('button', { name: 'Delete session' }).click();
      await expect(renamed).toHaveCount(0);
      await expect(page.getByText('No sessions yet.')).toBeVisible();
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('creates an API key, shows it once and deletes it', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await register(page, server.base, 'keys@example.com', PASSWORD);
      await goTo(page, 'API keys');
      const form = page.getByRole('form', { name: 'New API key' });
      await form.getByLabel('Name').fill('ci script');
      await form.getByRole('button', { name: 'Create key' }).click();
      const shown = page.getByTestId('new-key');
      await expect(shown).toContainText('it will not be shown again');
      const key = await shown.getByLabel('New API key').inputValue();
      assert.ok(key.length >= 16, `a key is shown (${key.length} chars)`);
      // The key works for REST.
      const res = await fetch(`${server.base}/api/v1/sessions`, { headers: { 'X-Api-Key': key } });
      assert.equal(res.status, 200);
      await expectAccessible(page, 'api keys');
      await screenshot(page, 'api-keys');
      await page.getByRole('button', { name: 'Done' }).click();
      await expect(shown).toHaveCount(0);
      await page.getByRole('button', { name: 'Delete key ci script' }).click();
      await page.getByRole('button', { name: 'Really delete' }).click();
      await expect(page.getByText('No API keys.')).toBeVisible();

      // Logging out in one tab logs out the other tabs too.
      const second = await context.newPage();
      await second.goto(`${server.base}/sessions`);
      await expect(second.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
      await page.getByRole('button', { name: 'Log out' }).click();
      await expect(page.getByRole('tab', { name: 'Register' })).toBeVisible();
      await expect(second.getByRole('tab', { name: 'Register' })).toBeVisible();
    } finally {
      await context.close();
    }
  });

  it('shows a clear message for a wrong password', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${server.base}/`);
      await page.getByRole('tab', { name: 'Log in' }).click();
      await page.getByLabel('Email').fill('alice@example.com');
      // Keyboard only: type, Tab to the next field, Enter submits.
      await page.getByLabel('Email').focus();
      await page.keyboard.press('Tab');
      await page.keyboard.type('not the password');
      await page.keyboard.press('Enter');
      await expect(page.getByRole('alert')).toContainText('Wrong email or password.');
    } finally {
      await context.close();
    }
  });

  it('keeps two users apart', async () => {
    const ctxA = await browser.newContext();
    const ctxB = await browser.newContext();
    try {
      const a = await ctxA.newPage();
      const b = await ctxB.newPage();
      await register(a, server.base, 'ann@example.com', PASSWORD);
      await register(b, server.base, 'bob@example.com', PASSWORD);
      // Only the server's first user is an admin.
      await expect(a.getByTestId('who')).toBeVisible();
      await expect(a.getByTestId('role')).toHaveCount(0);
      await expect(b.getByTestId('role')).toHaveCount(0);
      await createSession(a, 'ann-phone');
      await createSession(b, 'bob-phone');
      await simulateScan(a, 'ann-phone', '6285550000001', 'Ann');
      await expect(card(a, 'ann-phone')).toHaveAttribute('data-status', 'connected');
      // Each sees only their own, also after a reload.
      await expect(a.locator('article[data-session-id]')).toHaveCount(1);
      await expect(b.locator('article[data-session-id]')).toHaveCount(1);
      await b.reload();
      await expect(card(b, 'bob-phone')).toBeVisible();
      await expect(card(b, 'ann-phone')).toHaveCount(0);
      const timelineB = await b.locator('.timeline').innerText();
      assert.ok(!timelineB.includes('ann-phone') && !timelineB.includes('Ann'), 'no event of Ann reaches Bob');
      // Ann's session id is not found for Bob.
      const annId = await card(a, 'ann-phone').getAttribute('data-session-id');
      const tokenB = await accessToken(b);
      const res = await fetch(`${server.base}/api/v1/sessions/${annId}`, { headers: { Authorization: `Bearer ${tokenB}` } });
      assert.equal(res.status, 404);
    } finally {
      await ctxA.close();
      await ctxB.close();
    }
  });
});
