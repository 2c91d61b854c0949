// A few polling assertions on playwright-core locators (playwright-core has no `expect`).
import assert from 'node:assert/strict';

const TIMEOUT = Number(process.env.E2E_TIMEOUT_MS || 10_000);

async function poll(describe, check, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const r = await check();
      if (r.ok) return;
      last = r.got;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) assert.fail(`${describe} (timed out after ${timeout} ms; last: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function expect(locator) {
  const name = locator.toString();
  return {
    toBeVisible: (o = {}) => poll(`${name} visible`, async () => ({ ok: await locator.first().isVisible(), got: 'hidden' }), o.timeout),
    toBeHidden: (o = {}) => poll(`${name} hidden`, async () => ({ ok: !(await locator.first().isVisible()), got: 'visible' }), o.timeout),
    toHaveCount: (n, o = {}) => poll(`${name} count ${n}`, async () => {
      const c = await locator.count();
      return { ok: c === n, got: c };
    }, o.timeout),
    toHaveAttribute: (attr, value, o = {}) => poll(`${name} [${attr}=${value}]`, async () => {
      const v = await locator.first().getAttribute(attr, { timeout: 500 });
      return { ok: value instanceof RegExp ? value.test(v ?? '') : v === value, got: v };
    }, o.timeout),
    toContainText: (text, o = {}) => poll(`${name} contains ${text}`, async () => {
      const v = await locator.first().innerText({ timeout: 500 });
      return { ok: text instanceof RegExp ? text.test(v) : v.includes(text), got: v.slice(0, 300) };
    }, o.timeout),
    toHaveValue: (value, o = {}) => poll(`${name} value ${value}`, async () => {
      const v = await locator.first().inputValue({ timeout: 500 });
      return { ok: v === value, got: v };
    }, o.timeout),
  };
}
