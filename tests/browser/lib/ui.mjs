// Steps a person takes in the dashboard, written against roles and labels.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { expect } from './expect.mjs';
import { outDir } from './paths.mjs';

const shotDir = process.env.E2E_SCREENSHOT_DIR ? path.resolve(process.env.E2E_SCREENSHOT_DIR) : path.join(outDir, 'screenshots');

export async function screenshot(page, name) {
  mkdirSync(shotDir, { recursive: true });
  await page.screenshot({ path: path.join(shotDir, `${name}.png`), fullPage: true, animations: 'disabled' });
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
  await sim.getByLabel('Phone').fill(phone);
  await sim.getByLabel('Push name').fill(pushName);
  await sim.getByRole('button', { name: 'Scan', exact: true }).click();
}

export async function goTo(page, label) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: label }).click();
}
