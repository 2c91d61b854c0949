// The defects of issue 15, each seen the way a person meets it, in Chromium against the real server.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectAccessible } from '../lib/a11y.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { expect } from '../lib/expect.mjs';
import { startServer } from '../lib/server.mjs';
import { apiCall, card, createSession, focused, goTo, register, screenshot, simulateScan } from '../lib/ui.mjs';

const PASSWORD = 'correct horse battery staple';
let server;
let browser;
let n = 0;
const email = (what) => `${what}-${++n}@example.com`;

before(async () => {
  // Short QR timings so a linking run ends within the test.
  server = await startServer({
    name: 'defects',
    env: { WAHUB_QR_FIRST_TIMEOUT_MS: '4000', WAHUB_QR_NEXT_TIMEOUT_MS: '3000', WAHUB_QR_MAX_ATTEMPTS: '2' },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

async function fresh(viewport) {
  const context = await browser.newContext(viewport ? { viewport } : {});
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return { context, page, errors };
}

describe('issue 15 defects', () => {
  it('1: a sent message ends sent, whether its event or the POST answer comes first', async () => {
    const { context, page, errors } = await fresh();
    try {
      await register(page, server.base, email('msg'), PASSWORD);
      await createSession(page, 'sender');
      await simulateScan(page, 'sender', '6281230000001', 'Sender');
      await expect(card(page, 'sender')).toHaveAttribute('data-status', 'connected');
      await goTo(page, 'Messages');
      const send = page.getByRole('form', { name: 'Send a message' });
      for (const text of ['first', 'second', 'third']) {
        await send.getByLabel('To (phone)').fill('6289990000001');
        await send.getByLabel('Text').fill(`reconcile ${text}`);
        await send.getByRole('button', { name: 'Send' }).click();
        await expect(page.getByTestId('messages')).toContainText(`reconcile ${text}`);
      }
      const rows = page.getByTestId('messages').locator('.msg.out');
      await expect(rows).toHaveCount(3);
      // The simulator acknowledges at once: every row must leave "queued" without a reload.
      for (let i = 0; i < 3; i += 1) {
        await expect(rows.nth(i).locator('.msg-status')).toContainText(/^(sent|delivered|read)$/);
      }
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('2: an outage shows on every card and its stale notices go away on recovery', { skip: !!process.env.E2E_BASE_URL && 'needs its own server' }, async () => {
    const { context, page, errors } = await fresh();
    try {
      await register(page, server.base, email('outage'), PASSWORD);
      await createSession(page, 'up-one');
      await simulateScan(page, 'up-one', '6281230000002', 'One');
      await createSession(page, 'up-two');
      await expect(card(page, 'up-one')).toHaveAttribute('data-status', 'connected');

      await server.halt();
      await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'reconnecting');
      const unknown = page.locator('article[data-session-id] [data-testid="status-unknown"]');
      await expect(unknown).toHaveCount(2);
      await expect(unknown.first()).toContainText(/Status unknown since \d{2}:\d{2}/);
      await expect(page.getByTestId('outage')).toContainText('cannot be reached');
      assert.equal(await card(page, 'up-one').getByText('Connected', { exact: true }).count(), 0, 'no stale green Connected');
      // An action during the outage fails with a plain warning.
      await card(page, 'up-one').getByRole('button', { name: 'Stop' }).click();
      const warn = card(page, 'up-one').locator('[data-tone="warning"]');
      await expect(warn).toContainText('Cannot reach the server');
      await expectAccessible(page, 'outage');
      await screenshot(page, 'outage');

      await server.resume();
      await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected', { timeout: 30_000 });
      await expect(unknown).toHaveCount(0);
      await expect(page.getByTestId('outage')).toHaveCount(0);
      await expect(warn).toHaveCount(0);
      await expect(card(page, 'up-one')).toHaveAttribute('data-status', 'connected', { timeout: 30_000 });
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('3: a pairing code shows its real deadline, can be renewed, and never outlives its run', async () => {
    const { context, page, errors } = await fresh();
    try {
      await register(page, server.base, email('code'), PASSWORD);
      const c = await createSession(page, 'by-code');
      await expect(c.getByTestId('qr-attempt')).toContainText('Attempt 1/2');
      await c.getByRole('button', { name: 'Link with phone number instead' }).click();
      await c.getByLabel('Phone number').fill('+62 812-3000-0003');
      await c.getByRole('button', { name: 'Get code' }).click();
      const code = c.getByTestId('pair-code');
      await expect(code).toContainText(/[A-Z0-9]{4}-[A-Z0-9]{4}/);
      const first = await code.locator('.code').innerText();
      // The server's code would live 180 s; the run ends after two QR attempts (≤ 7 s).
      await expect(c.getByTestId('qr-attempt')).toContainText('Attempt 2/2', { timeout: 8000 });
      const seconds = Number((await c.getByTestId('pair-code-expiry').innerText()).match(/(\d+) s/)[1]);
      assert.ok(seconds <= 4, `the deadline is the end of the last QR attempt, not the code's own 180 s (got ${seconds} s)`);
      // A new code may be asked for while one is shown.
      await c.getByRole('button', { name: 'Get a new code' }).click();
      await c.getByRole('form', { name: 'Pairing code for by-code' }).getByRole('button', { name: 'Get a new code' }).click();
      await expect(c.getByTestId('pair-code')).toBeVisible();
      const renewed = new RegExp(`^(?!${first}$)[A-Z0-9]{4}-[A-Z0-9]{4}$`);
      await expect(code.locator('.code')).toContainText(renewed);
      await expectAccessible(page, 'pairing code');
      await expect(c).toHaveAttribute('data-status', 'failed', { timeout: 10_000 });
      await expect(c.getByTestId('pair-code')).toHaveCount(0);
      await c.getByRole('button', { name: 'Start' }).click();
      await expect(c.getByTestId('qr-attempt')).toContainText('Attempt 1/2');
      await expect(c.getByTestId('pair-code')).toHaveCount(0);
      assert.ok(first, 'a code was shown');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('4: one plain message per error, coloured by meaning, dismissible, gone when stale', async () => {
    const { context, page, errors } = await fresh();
    try {
      await register(page, server.base, email('errors'), PASSWORD);
      const one = await createSession(page, 'twice');
      const form = page.getByRole('form', { name: 'New session' });
      await form.getByLabel('Name').fill('twice');
      await form.getByRole('button', { name: 'Create session' }).click();
      const alert = form.getByRole('alert');
      await expect(alert).toContainText('You already have a session with that name.');
      const said = await alert.innerText();
      assert.equal(said.match(/session with/g).length, 1, `said once: ${said}`);
      assert.equal(await alert.getAttribute('data-tone'), 'error');
      // Editing what the error was about makes it stale.
      await form.getByLabel('Name').fill('twice-b');
      await expect(form.getByRole('alert')).toHaveCount(0);
      // Dismissible.
      await form.getByLabel('Name').fill('twice');
      await form.getByRole('button', { name: 'Create session' }).click();
      await expect(form.getByRole('alert')).toBeVisible();
      await form.getByRole('button', { name: 'Dismiss message' }).click();
      await expect(form.getByRole('alert')).toHaveCount(0);
      // Bad phone: plain words, no HTTP title.
      await form.getByLabel('Name').fill('bad phone');
      await form.getByLabel('Phone').fill('123');
      await form.getByRole('button', { name: 'Create session' }).click();
      await expect(form.getByRole('alert')).toContainText('That phone number is not valid');
      // "Fail scan" is not good news: never green.
      await one.getByTestId('simulator').getByRole('button', { name: 'Fail scan' }).click();
      await expect(one).toHaveAttribute('data-status', 'failed');
      const note = one.getByTestId('simulator').locator('.notice');
      await expect(note).toContainText('failed the scan');
      assert.notEqual(await note.getAttribute('data-tone'), 'success');
      const text = await page.locator('body').innerText();
      for (const leak of ['Unprocessable', 'Conflict:', '(qr_timeout)', '(scan_qr)', 'scan_failed', 'socket open', 'not paired']) {
        assert.ok(!text.includes(leak), `no raw "${leak}" on the page`);
      }
      await expectAccessible(page, 'errors');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('5: focus follows rename, delete, scan, login, tabs and a new card', async () => {
    const { context, page, errors } = await fresh();
    try {
      const who = email('focus');
      await page.goto(`${server.base}/`);
      // Tabs: one tab stop, arrow keys switch.
      const registerTab = page.getByRole('tab', { name: 'Register' });
      await registerTab.focus();
      await page.keyboard.press('ArrowLeft');
      await expect(page.getByRole('tab', { name: 'Log in' })).toHaveAttribute('aria-selected', 'true');
      assert.equal((await focused(page)).text, 'Log in');
      await page.keyboard.press('ArrowRight');
      await expect(registerTab).toHaveAttribute('aria-selected', 'true');
      await page.keyboard.press('End');
      assert.equal((await focused(page)).text, 'Register');
      await page.getByLabel('Email').fill(who);
      await page.getByLabel('Password').fill(PASSWORD);
      await page.getByRole('button', { name: 'Create account' }).click();
      await expect(page.getByRole('heading', { name: /Sessions/, level: 1 })).toBeVisible();
      await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
      // Login lands on the page heading, not the body.
      await waitFocus(page, (f) => f?.tag === 'h1', 'the heading after login');

      // A new card: focus moves to it and its first action is a few Tabs away.
      const form = page.getByRole('form', { name: 'New session' });
      await form.getByLabel('Name').fill('focus-a');
      await form.getByRole('button', { name: 'Create session' }).click();
      await expect(card(page, 'focus-a')).toBeVisible();
      await waitFocus(page, (f) => f?.tag === 'h3' && f.text === 'focus-a', 'the new card heading');
      let tabs = 0;
      for (; tabs < 8; tabs += 1) {
        await page.keyboard.press('Tab');
        const f = await focused(page);
        if (f.tag === 'button' && f.text === 'Stop') break;
      }
      assert.ok(tabs < 8, `the new card's Stop is ${tabs + 1} Tabs away`);

      // Rename: focus goes to the field, typing lands there, Save returns it to Rename.
      const c = card(page, 'focus-a');
      await c.getByRole('button', { name: 'Rename' }).click();
      await waitFocus(page, (f) => f?.tag === 'input', 'the new-name field');
      await expectAccessible(page, 'rename form');
      await page.keyboard.press('Control+A');
      await page.keyboard.type('focus-b');
      await page.keyboard.press('Enter');
      await expect(card(page, 'focus-b')).toBeVisible();
      await waitFocus(page, (f) => f?.text === 'Rename', 'the Rename button');

      // Scan: focus returns to the card.
      await simulateScan(page, 'focus-b', '6281230000005', 'Focus');
      await expect(card(page, 'focus-b')).toHaveAttribute('data-status', 'connected');
      await waitFocus(page, (f) => f?.tag === 'h3', 'the card heading after the scan');

      // Delete: the confirm button takes focus; afterwards the page heading has it.
      await card(page, 'focus-b').getByRole('button', { name: 'Delete', exact: true }).click();
      await waitFocus(page, (f) => f?.text === 'Delete session', 'the delete confirmation');
      await expectAccessible(page, 'delete confirmation');
      await page.keyboard.press('Enter');
      await expect(card(page, 'focus-b')).toHaveCount(0);
      await waitFocus(page, (f) => f?.tag === 'h1', 'the page heading after delete');
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });

  it('6: one phone format, relink only when ever linked and styled as danger, a favicon, compressed assets', async () => {
    const { context, page, errors } = await fresh();
    const missing = [];
    const encodings = {};
    page.on('response', (res) => {
      if (res.status() === 404 && !res.url().includes('/api/')) missing.push(res.url());
      if (/\/assets\/.+\.(js|css)$/.test(res.url())) encodings[res.url().split('.').pop()] = res.headers()['content-encoding'];
    });
    try {
      await register(page, server.base, email('phone'), PASSWORD);
      const c = await createSession(page, 'fmt', '+62 812-3000-0006');
      await expect(c.getByRole('button', { name: 'Force relink' })).toHaveCount(0);
      await simulateScan(page, 'fmt', '6281230000006', 'Fmt');
      await expect(c).toHaveAttribute('data-status', 'connected');
      await expect(c.locator('[data-field="phone"]')).toContainText('+6281230000006');
      const sim = c.getByTestId('simulator');
      await sim.getByRole('button', { name: 'Incoming message' }).click();
      await sim.getByLabel('From', { exact: true }).fill('6281230000099');
      await sim.getByLabel('Text', { exact: true }).fill('format check');
      await sim.getByRole('button', { name: 'Deliver' }).click();
      await expect(page.locator('.timeline')).toContainText('from +6281230000099');
      await c.getByRole('button', { name: 'Force relink' }).click();
      const wipe = c.getByRole('button', { name: 'Wipe and relink' });
      assert.match(await wipe.getAttribute('class'), /danger-solid/);
      const bg = await wipe.evaluate((el) => getComputedStyle(el).backgroundColor);
      assert.equal(bg, 'rgb(163, 22, 15)', 'the wipe button is red');
      await expectAccessible(page, 'relink confirmation');
      await c.getByRole('button', { name: 'Cancel' }).click();
      await goTo(page, 'Messages');
      await expect(page.getByTestId('messages')).toContainText('+6281230000099');
      const body = await page.locator('main').innerText();
      assert.ok(!/(^|[^+\d])6281230000099/.test(body), 'the number is never shown without +');
      assert.deepEqual(missing, [], 'no 404 for the page or its favicon');
      const icon = await fetch(`${server.base}/favicon.svg`);
      assert.equal(icon.status, 200);
      assert.deepEqual(encodings, { js: 'br', css: 'br' }, 'Chromium gets brotli');
      // A client without brotli gets gzip; one without either gets the plain file; all vary.
      const js = (await page.evaluate(() => document.querySelector('script[type=module]').getAttribute('src')));
      const gz = await fetch(`${server.base}${js}`, { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(gz.headers.get('content-encoding'), 'gzip');
      assert.equal(gz.headers.get('vary'), 'Accept-Encoding');
      const plain = await fetch(`${server.base}${js}`, { headers: { 'Accept-Encoding': 'identity' } });
      assert.equal(plain.headers.get('content-encoding'), null);
      assert.ok((await plain.text()).length > 20_000);
      assert.deepEqual(errors, []);
    } finally {
      await context.close();
    }
  });
});

async function waitFocus(page, ok, what) {
  const deadline = Date.now() + 5000;
  let f;
  while (Date.now() < deadline) {
    f = await focused(page);
    if (ok(f)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.fail(`focus is on ${what} (got ${JSON.stringify(f)})`);
}
