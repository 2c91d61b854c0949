import { describe, expect, it } from 'vitest';
import type { Message, ServerEvent } from '../src/api/types';
import { groupByChat, mergePages, messageBody, searchMessages } from '../src/state/chats';
import { mergeEntries, pageBefore, statusEntries } from '../src/state/history';
import { laterStatus } from '../src/state/messageStatus';
import { DEFAULT_QUERY, inBatches, tableRows } from '../src/state/sessionTable';
import { eventsChosen, eventsToSend, newSecret, WEBHOOK_EVENTS } from '../src/state/webhookEvents';
import { engineSummary } from '../src/ui/serverInfo';
import { parse, pathOf } from '../src/ui/router';
import { session } from './fixtures';

const msg = (id: string, peer: string, at: string, over: Partial<Message> = {}): Message =>
  ({ id, session_id: 's1', direction: 'in', status: 'received', peer, text: `text ${id}`, created_at: at, ...over });

describe('message status order', () => {
  it('never goes back', () => {
    expect(laterStatus('sent', 'queued')).toBe('sent');
    expect(laterStatus('queued', 'sent')).toBe('sent');
    expect(laterStatus('delivered', 'read')).toBe('read');
    expect(laterStatus('sent', 'failed')).toBe('failed');
    expect(laterStatus('read', 'mystery')).toBe('read');
  });
});

describe('session table', () => {
  const list = [
    session({ id: 'a', name: 'alpha 10', status: 'connected', phone: '6281111', push_name: 'Ann', last_activity_at: '2026-01-03T00:00:00Z' }),
    session({ id: 'b', name: 'alpha 9', status: 'failed', phone: '6282222', push_name: 'Bob', last_activity_at: '2026-01-01T00:00:00Z' }),
    session({ id: 'c', name: 'beta', status: 'stopped', phone: null, push_name: null, last_activity_at: null, updated_at: '2026-01-02T00:00:00Z' }),
  ];
  it('searches name, phone and push name', () => {
    expect(tableRows(list, { ...DEFAULT_QUERY, search: 'bob' }).map((s) => s.id)).toEqual(['b']);
    expect(tableRows(list, { ...DEFAULT_QUERY, search: '+62811' }).map((s) => s.id)).toEqual(['a']);
    expect(tableRows(list, { ...DEFAULT_QUERY, search: 'alpha 9' }).map((s) => s.id)).toEqual(['b']);
  });
  it('filters by status', () => {
    expect(tableRows(list, { ...DEFAULT_QUERY, status: 'stopped' }).map((s) => s.id)).toEqual(['c']);
  });
  it('sorts names naturally, statuses trouble first, activity either way', () => {
    expect(tableRows(list, DEFAULT_QUERY).map((s) => s.name)).toEqual(['alpha 9', 'alpha 10', 'beta']);
    expect(tableRows(list, { ...DEFAULT_QUERY, sort: 'status' }).map((s) => s.status)).toEqual(['failed', 'stopped', 'connected']);
    expect(tableRows(list, { ...DEFAULT_QUERY, sort: 'last_activity', dir: 'desc' }).map((s) => s.id)).toEqual(['a', 'c', 'b']);
  });
  it('runs bulk work a few at a time and reports failures', async () => {
    let running = 0;
    let peak = 0;
    const failures = await inBatches([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running += 1;
      peak = Math.max(peak, running);
      await new Promise((r) => setTimeout(r, 5));
      running -= 1;
      if (n % 3 === 0) throw new Error(`no ${n}`);
    });
    expect(peak).toBe(3);
    expect(failures.map((f) => f.item)).toEqual([3, 6]);
  });
});

describe('chats', () => {
  const messages = [
    msg('1', '6281', '2026-01-01T00:00:01Z'),
    msg('2', '6282', '2026-01-01T00:00:03Z', { text: 'invoice ready' }),
    msg('3', '6281', '2026-01-01T00:00:05Z', { direction: 'out', status: 'sent', text: null, media: { mimetype: 'image/png', filename: 'cat.png' } }),
  ];
  it('groups by the other party, newest chat first', () => {
    const chats = groupByChat(messages);
    expect(chats.map((c) => [c.peer, c.messages.map((m) => m.id)])).toEqual([['6281', ['3', '1']], ['6282', ['2']]]);
    expect(messageBody(chats[0].last)).toBe('[cat.png]');
  });
  it('searches text, files and numbers', () => {
    expect(searchMessages(messages, 'INVOICE').map((m) => m.id)).toEqual(['2']);
    expect(searchMessages(messages, 'cat.png').map((m) => m.id)).toEqual(['3']);
    expect(searchMessages(messages, '+6282').map((m) => m.id)).toEqual(['2']);
    expect(searchMessages(messages, '  ')).toHaveLength(3);
  });
  it('adds older pages without duplicates', () => {
    const merged = mergePages([messages[2]], [messages[2], messages[0], messages[1]]);
    expect(merged.map((m) => m.id)).toEqual(['3', '2', '1']);
  });
});

describe('status history paging', () => {
  it('reads the log backwards in pages', () => {
    expect(pageBefore(1201, 500)).toEqual({ since: 701, limit: 500 });
    expect(pageBefore(300, 500)).toEqual({ since: 0, limit: 300 });
    expect(pageBefore(0)).toBeNull();
  });
  it('keeps one session’s status changes, newest first', () => {
    const ev = (seq: number, sid: string, event: string, status = 'connected') =>
      ({ type: 'event', seq, event, session_id: sid, at: 'x', data: { status, previous: 'pairing', reason: null } }) as unknown as ServerEvent;
    const got = statusEntries([ev(1, 's1', 'session.status', 'pairing'), ev(2, 's2', 'session.status'), ev(3, 's1', 'session.qr'), ev(4, 's1', 'session.status')], 's1');
    expect(got.map((e) => [e.seq, e.status])).toEqual([[4, 'connected'], [1, 'pairing']]);
    expect(mergeEntries(got, [got[0]]).map((e) => e.seq)).toEqual([4, 1]);
  });
});

describe('webhook events', () => {
  it('sends everything as *, a part by name', () => {
    expect(eventsToSend(new Set(WEBHOOK_EVENTS))).toEqual(['*']);
    expect(eventsToSend(new Set(['message.received', 'session.status']))).toEqual(['session.status', 'message.received']);
  });
  it('reads patterns back into names', () => {
    expect(eventsChosen(['*']).size).toBe(WEBHOOK_EVENTS.length);
    expect([...eventsChosen(['message.*'])]).toEqual(['message.received', 'message.updated']);
    expect([...eventsChosen(['session.qr'])]).toEqual(['session.qr']);
  });
  it('makes 64-character hex secrets', () => {
    const s = newSecret((a) => a.fill(171));
    expect(s).toBe('ab'.repeat(32));
    expect(newSecret()).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('server info and routes', () => {
  it('lists engines and nodes once', () => {
    expect(engineSummary([session({ engine: 'sim' }), session({ id: 's2', engine: 'whatsapp', node: 'n1' }), session({ id: 's3', engine: 'sim' })]))
      .toEqual({ engines: ['sim', 'whatsapp'], nodes: ['n1'] });
  });
  it('parses detail routes and falls back to the session list', () => {
    const id = '0b6f7a3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b';
    expect(parse(`/sessions/${id}`)).toEqual({ page: 'session', id });
    expect(pathOf({ page: 'session', id })).toBe(`/sessions/${id}`);
    expect(parse('/webhooks/')).toEqual({ page: 'webhooks' });
    expect(parse('/nowhere')).toEqual({ page: 'sessions' });
  });
});
