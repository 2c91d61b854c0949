// The session detail page: status history from the event log (paged), health, chats with
// paging and search, sending text and a file.
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { expectAccessible } from '../lib/a11y.mjs';
import { launchBrowser } from '../lib/browser.mjs';
import { expect } from '../lib/expect.mjs';
import { startServer } from '../lib/server.mjs';
import { apiCall, card, createSession, register, screenshot, simulateScan } from '../lib/ui.mjs';

let server;
let browser;

before(async () => {
  server = await startServer({ name: 'detail' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

it('shows history, health and chats of one session and sends text and a file', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await register(page, server.base, 'deep@example.com', 'correct horse battery staple');
    const c = await createSession(page, 'deep');
    await simulateScan(page, 'deep', '6281240000001', 'Deep');
    await expect(c).toHaveAttribute('data-status', 'connected');
    const id = await c.getAttribute('data-session-id');

    // Enough events that the first status changes fall outside the newest page of 500.
    const A = '6281240000111';
    const B = '6281240000222';
    for (let i = 0; i < 520; i += 1) {
      const from = i % 10 === 0 ? B : A;
      const text = i === 7 ? 'the needle message' : `hello ${i}`;
      const res = await apiCall(page, server.base, 'POST', `/api/v1/sessions/${id}/sim/incoming`, { from, text });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    await c.getByTestId('simulator').getByRole('button', { name: 'Drop network' }).click();
    await expect(c).toHaveAttribute('data-status', 'reconnecting');
    await expect(c).toHaveAttribute('data-status', 'connected', { timeout: 20_000 });

    await c.getByRole('link', { name: 'deep' }).click();
    await expect(page.getByRole('heading', { name: 'deep', level: 1 })).toBeVisible();
    const history = page.getByTestId('status-history');
    await expect(history).toContainText('Reconnecting…');
    // The pairing happened more than 500 events ago: it is one page back.
    assert.ok(!(await history.innerText()).includes('Pairing…'), 'the first page holds the newest events only');
    await history.getByRole('button', { name: /Show older/ }).click();
    await expect(history).toContainText('Pairing…');
    // From the server's log, not memory: a reload shows the same.
    await page.reload();
    await expect(history).toContainText('Reconnecting…');
    await expect(page.getByTestId('health')).toContainText('limit');

    // Chats: grouped by the other party, paged, searchable.
    const chats = page.getByTestId('chats');
    const chatA = chats.locator(`button[data-peer="${A}"]`);
    await expect(chatA).toContainText('+6281240000111');
    await expect(chats.locator(`button[data-peer="${B}"]`)).toBeVisible();
    const countOf = async (peer) => Number((await chats.locator(`button[data-peer="${peer}"]`).innerText()).match(/(\d+) message/)[1]);
    const before = (await countOf(A)) + (await countOf(B));
    assert.equal(before, 50, 'the first page is 50 messages');
    await chats.getByRole('button', { name: 'Load older messages' }).click();
    await expect(chats.locator(`button[data-peer="${A}"]`)).toContainText(/(?:[6-9]\d) messages/);
    assert.equal((await countOf(A)) + (await countOf(B)), 100);
    while (await chats.getByRole('button', { name: 'Load older messages' }).count()) {
      await chats.getByRole('button', { name: 'Load older messages' }).click();
      await page.waitForTimeout(100);
    }
    await expect(chats).toContainText('All 520 messages are loaded.');
    await chats.getByLabel('Search messages').fill('needle');
    await expect(chats.locator('button[data-peer]')).toHaveCount(1);
    await chats.locator(`button[data-peer="${A}"]`).click();
    await expect(chats.getByTestId('chat-messages').locator('li')).toHaveCount(1);
    await expect(chats.getByTestId('chat-messages')).toContainText('the needle message');
    await chats.getByLabel('Search messages').fill('');

    // Send text into the chosen chat, then a file.
    const send = chats.getByRole('form', { name: 'Send a message' });
    await send.getByLabel('Text').fill('reply from the detail page');
    await send.getByRole('button', { name: 'Send' }).click();
    const thread = chats.getByTestId('chat-messages');
    await expect(thread.locator('li').first()).toContainText('reply from the detail page');
    await expect(thread.locator('li').first().locator('.msg-status')).toContainText(/sent|delivered|read/);
    await send.locator('input[type=file]').setInputFiles({ name: 'report.txt', mimeType: 'text/plain', buffer: Buffer.from('quarterly numbers\n') });
    await expect(send.getByText('Caption (optional)')).toBeVisible();
    await send.getByLabel('Caption (optional)').fill('the report');
    await send.getByRole('button', { name: 'Send' }).click();
    await expect(thread.locator('li').first()).toContainText('the report');
    const sent = await apiCall(page, server.base, 'GET', `/api/v1/messages?session_id=${id}&direction=out&limit=5`);
    const file = sent.body.find((m) => m.media);
    assert.ok(file, 'the server stored a media message');
    assert.equal(file.media.filename, 'report.txt');
    assert.equal(file.media.mimetype, 'text/plain');
    assert.equal(file.peer, A);
    await expectAccessible(page, 'session detail');
    await screenshot(page, 'session-detail');

    // Deleting from here goes back to the list.
    await page.getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByRole('button', { name: 'Delete session' }).click();
    await expect(page.getByRole('heading', { name: /Sessions/, level: 1 })).toBeVisible();
    await expect(card(page, 'deep')).toHaveCount(0);
    assert.deepEqual(errors, []);
  } finally {
    await context.close();
  }
});
