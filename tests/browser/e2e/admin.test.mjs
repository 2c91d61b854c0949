// The admin path: users (limits, disable), all sessions (stop, log out), the audit log with
// paging, key scopes in the API-keys screen, and a non-admin who gets no admin navigation.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { expectAccessible } from '../lib/a11y.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { expect } from '../lib/expect.mjs';
import { startServer } from '../lib/server.mjs';
import { apiCall, card, createSession, goTo, register, screenshot, simulateScan } from '../lib/ui.mjs';

const PASSWORD = 'correct horse battery staple';
let server;
let browser;

before(async () => {
  server = await startServer({ name: 'admin' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const nav = (page) => page.getByRole('navigation', { name: 'Main' });

it('an admin manages users, every session and reads the audit log; a user sees none of it', async () => {
  const adminCtx = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const userCtx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const admin = await adminCtx.newPage();
  const bob = await userCtx.newPage();
  const errors = [];
  for (const p of [admin, bob]) p.on('pageerror', (e) => errors.push(e.message));
  try {
    // The server says it is new: the first visit offers Register.
    const fresh = await (await fetch(`${server.base}/api/v1/server`)).json();
    assert.equal(fresh.has_users, false);
    await register(admin, server.base, 'root@example.com', PASSWORD, 'Root');
    await expect(nav(admin).getByRole('link', { name: 'Users' })).toBeVisible();
    await expect(nav(admin).getByRole('link', { name: 'All sessions' })).toBeVisible();
    await expect(nav(admin).getByRole('link', { name: 'Audit log' })).toBeVisible();
    await expect(admin.getByTestId('server-info')).toContainText(`wahub ${fresh.version}`);
    await expect(admin.getByTestId('server-info')).toContainText('Engine: sim');

    // A second user: no admin navigation, and the admin address shows nothing.
    await register(bob, server.base, 'bob@example.com', PASSWORD, 'Bob');
    await expect(bob.getByTestId('role')).toHaveCount(0);
    await expect(nav(bob).getByRole('link', { name: 'Users' })).toHaveCount(0);
    await expect(nav(bob).getByRole('link', { name: 'Audit log' })).toHaveCount(0);
    assert.equal((await apiCall(bob, server.base, 'GET', '/api/v1/admin/users')).status, 404);
    await bob.goto(`${server.base}/admin/users`);
    await expect(bob.getByRole('heading', { name: 'Not found', level: 1 })).toBeVisible();
    await expect(bob.getByTestId('users-table')).toHaveCount(0);
    await expectAccessible(bob, 'admin address as a user');
    await goTo(bob, 'Sessions');

    // Bob's API key with only the read scope; the list shows it.
    await goTo(bob, 'API keys');
    const form = bob.getByRole('form', { name: 'New API key' });
    await expect(form.getByLabel('Admin')).toHaveCount(0);
    assert.ok(await form.getByLabel('Read').isChecked(), 'read is ticked by default');
    await form.getByLabel('Send').uncheck();
    await form.getByLabel('Control').uncheck();
    await form.getByLabel('Name').fill('dashboard-reader');
    await form.getByRole('button', { name: 'Create key' }).click();
    const key = await bob.getByTestId('new-key').locator('input').inputValue();
    await expect(bob.getByTestId('key-scopes')).toContainText('read');
    assert.equal((await bob.getByTestId('key-scopes').textContent()).trim(), 'Scopes: read');
    await expectAccessible(bob, 'api keys with scopes');
    await screenshot(bob, 'api-keys-scopes');
    const asKey = await fetch(`${server.base}/api/v1/sessions`, { method: 'POST', headers: { 'X-Api-Key': key, 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'nope', start: false }) });
    assert.equal(asKey.status, 403);
    assert.equal((await asKey.json()).code, 'insufficient_scope');

    // Bob links two sessions.
    await goTo(bob, 'Sessions');
    await createSession(bob, 'bob-one');
    await simulateScan(bob, 'bob-one', '6281211110001', 'Bob One');
    await expect(card(bob, 'bob-one')).toHaveAttribute('data-status', 'connected');
    await createSession(bob, 'bob-two');
    await simulateScan(bob, 'bob-two', '6281211110002', 'Bob Two');
    await expect(card(bob, 'bob-two')).toHaveAttribute('data-status', 'connected');

    // Users: counts, limits, then disable.
    await goTo(admin, 'Users');
    const bobRow = admin.locator('tr[data-user-email="bob@example.com"]');
    await expect(bobRow.locator('[data-field="session_count"]')).toContainText('2');
    await expectAccessible(admin, 'admin users');
    const limits = bobRow.getByRole('form', { name: 'Limits of bob@example.com' });
    await limits.getByLabel('Sessions').fill('two');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await expect(limits.getByRole('alert')).toContainText('whole number');
    await limits.getByLabel('Sessions').fill('2');
    await limits.getByRole('button', { name: 'Save limits' }).click();
    await expect(admin.getByRole('status').filter({ hasText: 'Limits of bob@example.com saved.' })).toBeVisible();
    const third = await apiCall(bob, server.base, 'POST', '/api/v1/sessions', { name: 'bob-three', start: false });
    assert.equal(third.status, 409);
    assert.equal(third.body.code, 'instance_limit_reached');
    await screenshot(admin, 'admin-users');

    // All sessions: Bob's are listed with their owner; stop one, log the other out.
    await goTo(admin, 'All sessions');
    const one = admin.locator('tr[data-session-name="bob-one"]');
    const two = admin.locator('tr[data-session-name="bob-two"]');
    await expect(one).toHaveAttribute('data-owner', 'bob@example.com');
    await expect(one).toHaveAttribute('data-status', 'connected');
    await expect(one).toContainText('this server');
    await expectAccessible(admin, 'admin all sessions');
    await one.getByRole('button', { name: 'Stop bob-one of bob@example.com' }).click();
    await expect(one).toHaveAttribute('data-status', 'stopped');
    await two.getByRole('button', { name: 'Log out bob-two of bob@example.com' }).click();
    await two.getByRole('button', { name: 'Really log out' }).click();
    await expect(two).toHaveAttribute('data-status', 'logged_out');
    // Bob's own dashboard follows live.
    await expect(card(bob, 'bob-one')).toHaveAttribute('data-status', 'stopped');
    await expect(card(bob, 'bob-two')).toHaveAttribute('data-status', 'logged_out');
    await screenshot(admin, 'admin-sessions');

    // Disabling Bob ends his login at once: his open dashboard falls back to the login screen.
    await goTo(admin, 'Users');
    await bobRow.getByRole('button', { name: 'Disable bob@example.com' }).click();
    await bobRow.getByRole('button', { name: 'Really disable' }).click();
    await expect(bobRow.getByTestId('disabled-badge')).toBeVisible();
    await expect(bobRow).toHaveAttribute('data-disabled', 'true');
    await expect(bob.getByRole('button', { name: 'Log in', exact: true })).toBeVisible({ timeout: 15_000 });
    const relogin = await fetch(`${server.base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: 'bob@example.com', password: PASSWORD }) });
    assert.equal(relogin.status, 403);

    // Enough failed logins for two audit pages.
    for (let i = 0; i < 30; i += 1) {
      await fetch(`${server.base}/api/v1/auth/login`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email: `mallory${i}@example.com`, password: 'not it at all' }) });
    }
    await goTo(admin, 'Audit log');
    const table = admin.getByTestId('audit-table');
    await expect(table.locator('tr[data-action="auth.login_failed"]').first()).toContainText('mallory29@example.com');
    await expect(admin.getByTestId('audit-page')).toContainText('Page 1');
    await expectAccessible(admin, 'audit log');
    await screenshot(admin, 'admin-audit', { fullPage: false });
    await admin.getByRole('button', { name: 'Older' }).click();
    await expect(admin.getByTestId('audit-page')).toContainText('Page 2');
    for (const action of ['admin.user_disabled', 'admin.session_logged_out', 'admin.session_stopped', 'admin.user_limits_changed', 'api_key.created']) {
      await expect(table.locator(`tr[data-action="${action}"]`)).toHaveCount(1);
    }
    await expect(table.locator('tr[data-action="admin.user_disabled"]')).toContainText('root@example.com');
    await expect(table.locator('tr[data-action="admin.user_disabled"]')).toContainText('127.0.0.1');
    await expect(table.locator('tr[data-action="auth.login_failed"]').first()).toContainText('mallory');
    assert.ok(await admin.getByRole('button', { name: 'Older' }).isDisabled(), 'no page after the last');
    await expectAccessible(admin, 'audit log, page 2');
    await admin.getByRole('button', { name: 'Newer' }).click();
    await expect(admin.getByTestId('audit-page')).toContainText('Page 1');
    await expect(table.locator('tr[data-action="auth.login_failed"]').first()).toContainText('mallory29@example.com');
    assert.deepEqual(errors, []);
  } finally {
    await adminCtx.close();
    await userCtx.close();
  }
});
