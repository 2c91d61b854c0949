// Steps a person takes in the dashboard, written against roles and labels.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from './expect.mjs';
import { outDir } from './paths.mjs';

const shotDir = process.env.E2E_SCREENSHOT_DIR ? path.resolve(process.env.E2E_SCREENSHOT_DIR) : path.join(outDir, 'screenshots');

/** A picture of the page; `fullPage: false` keeps long lists to the first screenful. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(shotDir, { recursive: true });
  await page.screenshot({ path: path.join(shotDir, `${name}.png`), fullPage, animations: 'disabled' });
}

export async function register(page, base, email, password, displayName) {
  await page.goto(`${base}/`);
  await page.getByRole('tab', { name: 'Register' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  if (displayName) await page.getByLabel('Display name').fill(displayName);
  await page.getByRole('button', { name: 'Create account' }).click();
  await expect(page.getByRole('heading', { name: 'Sessions', level: 1 })).toBeVisible();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
}

export function card(page, name) {
  return page.locator(`article[data-session-name="${name}"]`);
}

export async function createSession(page, name, phone) {
  const form = page.getByRole('form', { name: 'New session' });
  await form.getByLabel('Name').fill(name);
  if (phone) await form.getByLabel('Phone').fill(phone);
  await form.getByRole('button', { name: 'Create session' }).click();
  await expect(card(page, name)).toBeVisible();
  return card(page, name);
}

export async function simulateScan(page, name, phone, pushName) {
  const c = card(page, name);
  const sim = c.getByTestId('simulator');
  await sim.getByRole('button', { name: 'Scan QR' }).click();
  await sim.getByLabel('Phone', { exact: true }).fill(phone);
  await sim.getByLabel('Push name', { exact: true }).fill(pushName);
  await sim.getByRole('button', { name: 'Scan', exact: true }).click();
}

export async function goTo(page, label) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label, exact: true }).click();
}

export async function login(page, base, email, password) {
  await page.goto(`${base}/`);
  await page.getByRole('tab', { name: 'Log in' }).click();
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 }).first()).toBeVisible();
  await expect(page.getByTestId('connection')).toHaveAttribute('data-state', 'connected');
}

/** The access token the page holds, for REST calls from the test. */
export function accessToken(page) {
  return page.evaluate(() => JSON.parse(localStorage.getItem('wahub.tokens') || 'null')?.access ?? null);
}

/** A REST call as the page's user. */
export async function apiCall(page, base, method, path, body) {
  const token = await accessToken(page);
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

/** What has the keyboard focus: tag, accessible-ish label and text. */
export function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el) return null;
    return { tag: el.tagName.toLowerCase(), label: el.getAttribute('aria-label') || '', text: (el.textContent || '').trim().slice(0, 80), name: el.getAttribute('name') || '', id: el.id };
  });
}
