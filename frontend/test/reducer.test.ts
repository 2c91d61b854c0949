import { describe, expect, it } from 'vitest';
import { reducer } from '../src/state/reducer';
import { type Action, type State, initialState } from '../src/state/state';
import { ev, hello, session } from './fixtures';

function run(actions: Action[], from: State = initialState): State {
  return actions.reduce(reducer, from);
}

const qr = { value: 'QR-1', expires_at: '2026-01-01T00:01:00Z', attempt: 1, max_attempts: 6 };

describe('hello', () => {
  it('takes the snapshot on the first connection', () => {
    const s = run([{ type: 'hello', frame: hello({ seq: 7, qr: { s1: qr } }) }]);
    expect(s.lastSeq).toBe(7);
    expect(Object.keys(s.sessions)).toEqual(['s1']);
    expect(s.qr.s1).toEqual(qr);
    expect(s.epoch).toBe(1);
  });

  it('replaces the whole state when the stream was not resumed', () => {
    const before = run([
      { type: 'hello', frame: hello({ seq: 1, sessions: [session(), session({ id: 's2', name: 'two', is_primary: false })], qr: { s2: qr } }) },
      { type: 'messages/loaded', sessionId: 's1', messages: [{ id: 'm1', session_id: 's1', direction: 'in', status: 'received' }] },
    ]);
    const after = reducer(before, { type: 'hello', frame: hello({ seq: 50, resumed: false, sessions: [session({ status: 'connected' })] }) });
    expect(after.lastSeq).toBe(50);
    expect(Object.keys(after.sessions)).toEqual(['s1']);
    expect(after.sessions.s1.status).toBe('connected');
    expect(after.qr).toEqual({});
    expect(after.messages).toEqual({});
    expect(after.epoch).toBe(before.epoch + 1);
  });

  it('keeps the state and seq when the stream was resumed', () => {
    const before = run([{ type: 'hello', frame: hello({ seq: 5 }) }, { type: 'event', event: ev(6, 'session.qr', qr) }]);
    const after = reducer(before, { type: 'hello', frame: hello({ seq: 9, resumed: true, sessions: [] }) });
    expect(after).toBe(before);
    // the replayed events 7..9 still apply
    const replayed = reducer(after, { type: 'event', event: ev(7, 'session.status', { status: 'pairing', previous: 'scan_qr', reason: null, auth_paired: false, socket_open: true, phone: '628111' }) });
    expect(replayed.lastSeq).toBe(7);
    expect(replayed.sessions.s1.status).toBe('pairing');
  });
});

describe('events', () => {
  const base = run([{ type: 'hello', frame: hello({ seq: 10 }) }]);

  it('ignores duplicates and stale seqs', () => {
    const e = ev(11, 'session.qr', qr);
    const once = reducer(base, { type: 'event', event: e });
    const twice = reducer(once, { type: 'event', event: e });
    expect(twice).toBe(once);
    const old = reducer(once, { type: 'event', event: ev(9, 'session.deleted', { id: 's1' }) });
    expect(old).toBe(once);
    expect(once.timeline).toHaveLength(1);
  });

  it('ignores an out-of-order lower seq after a higher one', () => {
    const s = run([
      { type: 'event', event: ev(12, 'session.status', { status: 'connected', previous: 'pairing', reason: null, auth_paired: true, socket_open: true, phone: '628111' }) },
      { type: 'event', event: ev(11, 'session.status', { status: 'pairing', previous: 'scan_qr', reason: null, auth_paired: false, socket_open: true, phone: null }) },
    ], base);
    expect(s.sessions.s1.status).toBe('connected');
    expect(s.lastSeq).toBe(12);
  });

  it('shows the QR, then drops it when pairing starts', () => {
    const withQr = reducer(base, { type: 'event', event: ev(11, 'session.qr', qr) });
    expect(withQr.qr.s1.value).toBe('QR-1');
    const rotated = reducer(withQr, { type: 'event', event: ev(12, 'session.qr', { ...qr, value: 'QR-2', attempt: 2 }) });
    expect(rotated.qr.s1).toMatchObject({ value: 'QR-2', attempt: 2 });
    const pairing = reducer(rotated, { type: 'event', event: ev(13, 'session.status', { status: 'pairing', previous: 'scan_qr', reason: null, auth_paired: false, socket_open: true, phone: '628111' }) });
    expect(pairing.qr.s1).toBeUndefined();
    expect(pairing.sessions.s1).toMatchObject({ status: 'pairing', phone: '628111', socket_open: true });
    const connected = reducer(pairing, { type: 'event', event: ev(14, 'session.status', { status: 'connected', previous: 'pairing', reason: null, auth_paired: true, socket_open: true, phone: '628111' }) });
    expect(connected.sessions.s1.status).toBe('connected');
    expect(connected.sessions.s1.last_connected_at).toBe(connected.timeline[0].at);
  });

  it('records status reasons', () => {
    const s = reducer(base, { type: 'event', event: ev(11, 'session.status', { status: 'failed', previous: 'scan_qr', reason: 'qr_timeout', auth_paired: false, socket_open: false, phone: null }) });
    expect(s.sessions.s1).toMatchObject({ status: 'failed', status_reason: 'qr_timeout' });
    expect(s.timeline[0].summary).toBe('Waiting for QR scan → Failed: the QR code was not scanned in time');
  });

  it('creates, updates and deletes sessions', () => {
    const s2 = session({ id: 's2', name: 'two', is_primary: false });
    let s = reducer(base, { type: 'event', event: ev(11, 'session.created', s2, 's2') });
    expect(s.sessions.s2.name).toBe('two');
    s = reducer(s, { type: 'event', event: ev(12, 'session.updated', { ...s2, name: 'renamed' }, 's2') });
    expect(s.sessions.s2.name).toBe('renamed');
    s = reducer(s, { type: 'event', event: ev(13, 'session.deleted', { id: 's2' }, 's2') });
    expect(s.sessions.s2).toBeUndefined();
  });

  it('moves the primary star atomically', () => {
    let s = reducer(base, { type: 'event', event: ev(11, 'session.created', session({ id: 's2', is_primary: false }), 's2') });
    s = reducer(s, { type: 'event', event: ev(12, 'session.primary', { session_id: 's2', previous_session_id: 's1' }, 's2') });
    expect(s.sessions.s1.is_primary).toBe(false);
    expect(s.sessions.s2.is_primary).toBe(true);
  });

  it('adds received messages once and applies updates', () => {
    const m = { id: 'm1', session_id: 's1', direction: 'out' as const, status: 'queued', to: '628', text: 'hi' };
    let s = reducer(base, { type: 'message/sent', message: m });
    s = reducer(s, { type: 'event', event: ev(11, 'message.received', { id: 'm2', session_id: 's1', direction: 'in', status: 'received', from: '628', text: 'yo' }) });
    s = reducer(s, { type: 'event', event: ev(12, 'message.updated', { id: 'm1', status: 'sent' }) });
    expect(s.messages.s1.map((x) => [x.id, x.status])).toEqual([['m2', 'received'], ['m1', 'sent']]);
    // a replayed duplicate (same seq) changes nothing
    const again = reducer(s, { type: 'event', event: ev(11, 'message.received', { id: 'm2', session_id: 's1', direction: 'in', status: 'received' }) });
    expect(again).toBe(s);
  });

  it('keeps the timeline newest first and bounded', () => {
    let s = base;
    for (let i = 11; i < 11 + 250; i++) s = reducer(s, { type: 'event', event: ev(i, 'session.qr', { ...qr, attempt: i }) });
    expect(s.timeline).toHaveLength(200);
    expect(s.timeline[0].seq).toBe(260);
  });
});

describe('REST answers', () => {
  it('do not roll back a newer status that came by event', () => {
    let s = run([{ type: 'hello', frame: hello({ seq: 1, sessions: [session({ status: 'starting' })] }) }]);
    s = reducer(s, { type: 'event', event: ev(2, 'session.status', { status: 'scan_qr', previous: 'starting', reason: null, auth_paired: false, socket_open: false, phone: null }) });
    s = reducer(s, { type: 'session/upsert', session: session({ status: 'starting', updated_at: '2026-01-01T00:00:01Z' }) });
    expect(s.sessions.s1.status).toBe('scan_qr');
    s = reducer(s, { type: 'session/upsert', session: session({ status: 'stopped', name: 'later', updated_at: '2026-01-01T00:05:00Z' }) });
    expect(s.sessions.s1).toMatchObject({ status: 'stopped', name: 'later' });
  });

  it('merge a loaded message list with live arrivals', () => {
    let s = reducer(initialState, { type: 'event', event: ev(1, 'message.received', { id: 'live', session_id: 's1', direction: 'in', status: 'received', created_at: '2026-01-01T00:02:00Z' }) });
    s = reducer(s, { type: 'messages/loaded', sessionId: 's1', messages: [{ id: 'old', session_id: 's1', direction: 'in', status: 'received', created_at: '2026-01-01T00:01:00Z' }] });
    expect(s.messages.s1.map((m) => m.id)).toEqual(['live', 'old']);
  });
});

describe('sessions/loaded', () => {
  it('replaces the list before the first hello and merges after it', () => {
    const a = reducer(initialState, { type: 'sessions/loaded', sessions: [session({ id: 'x' })] });
    const b = reducer(a, { type: 'sessions/loaded', sessions: [session({ id: 'y' })] });
    expect(Object.keys(b.sessions)).toEqual(['y']);
    const live = run([{ type: 'hello', frame: hello({ seq: 1 }) }, { type: 'sessions/loaded', sessions: [session({ id: 'y' })] }]);
    expect(Object.keys(live.sessions).sort()).toEqual(['s1', 'y']);
  });
});

describe('hello without prior state', () => {
  it('uses the snapshot even when the server claims a resume', () => {
    const s = reducer(initialState, { type: 'hello', frame: hello({ seq: 3, resumed: true }) });
    expect(s.lastSeq).toBe(3);
    expect(Object.keys(s.sessions)).toEqual(['s1']);
  });
});

describe('session/details', () => {
  it('takes names and times but keeps the live status', () => {
    let s = run([{ type: 'hello', frame: hello({ seq: 1, sessions: [session({ status: 'connected' })] }) }]);
    s = reducer(s, { type: 'session/details', session: session({ status: 'pairing', push_name: 'Ann', phone: '628111' }) });
    expect(s.sessions.s1).toMatchObject({ status: 'connected', push_name: 'Ann', phone: '628111' });
    expect(reducer(s, { type: 'session/details', session: session({ id: 'unknown' }) })).toBe(s);
  });
});

describe('timeline summaries', () => {
  it('describe a status change and a same-status link change', () => {
    let s = run([{ type: 'hello', frame: hello({ seq: 1 }) }]);
    s = reducer(s, { type: 'event', event: ev(2, 'session.status', { status: 'pairing', previous: 'scan_qr', reason: null, auth_paired: false, socket_open: true, phone: null }) });
    s = reducer(s, { type: 'event', event: ev(3, 'session.status', { status: 'pairing', previous: 'pairing', reason: null, auth_paired: true, socket_open: true, phone: null }) });
    expect(s.timeline.map((t) => t.summary)).toEqual(['Pairing… — linked to the phone', 'Waiting for QR scan → Pairing…']);
  });
});

describe('sent messages reconcile by id', () => {
  const base = run([{ type: 'hello', frame: hello({ seq: 10 }) }]);
  const sent = { id: 'm9', session_id: 's1', direction: 'out' as const, status: 'queued', text: 'hi', peer: '628111' };

  it('applies a status event that beat the POST answer', () => {
    let s = reducer(base, { type: 'event', event: ev(11, 'message.updated', { id: 'm9', status: 'sent' }) });
    expect(s.pendingUpdates.m9).toEqual({ status: 'sent', error: null });
    s = reducer(s, { type: 'message/sent', message: sent });
    expect(s.messages.s1).toHaveLength(1);
    expect(s.messages.s1[0].status).toBe('sent');
    expect(s.pendingUpdates).toEqual({});
  });

  it('never moves a status backwards when the answer comes last', () => {
    let s = reducer(base, { type: 'message/sent', message: sent });
    s = reducer(s, { type: 'event', event: ev(11, 'message.updated', { id: 'm9', status: 'delivered' }) });
    s = reducer(s, { type: 'message/sent', message: sent });
    expect(s.messages.s1.map((m) => [m.id, m.status])).toEqual([['m9', 'delivered']]);
  });

  it('applies a held update to a REST list too', () => {
    let s = reducer(base, { type: 'event', event: ev(11, 'message.updated', { id: 'm9', status: 'failed', error: 'no ack' }) });
    s = reducer(s, { type: 'messages/loaded', sessionId: 's1', messages: [{ ...sent, created_at: '2026-01-01T00:00:00Z' }] });
    expect(s.messages.s1[0]).toMatchObject({ status: 'failed', error: 'no ack' });
  });
});

describe('pairing codes', () => {
  const code = { code: 'ABCD1234', expires_at: '2026-01-01T00:03:00Z' };
  const offering = run([
    { type: 'hello', frame: hello({ seq: 10, sessions: [session({ status: 'scan_qr' })] }) },
    { type: 'event', event: ev(11, 'session.pair_code', code) },
  ]);

  it('drops the code when the linking run ends', () => {
    expect(offering.pairCodes.s1).toEqual(code);
    const failed = reducer(offering, { type: 'event', event: ev(12, 'session.status', { status: 'failed', previous: 'scan_qr', reason: 'qr_timeout', auth_paired: false, socket_open: false, phone: null }) });
    expect(failed.pairCodes).toEqual({});
  });

  it('drops the code on a new run and on a snapshot', () => {
    const rerun = reducer(offering, { type: 'event', event: ev(12, 'session.qr', { value: 'Q', expires_at: '2026-01-01T00:01:00Z', attempt: 1, max_attempts: 6 }) });
    expect(rerun.pairCodes).toEqual({});
    const rotated = reducer(offering, { type: 'event', event: ev(12, 'session.qr', { value: 'Q', expires_at: '2026-01-01T00:01:00Z', attempt: 2, max_attempts: 6 }) });
    expect(rotated.pairCodes.s1).toEqual(code);
    const snap = reducer(offering, { type: 'hello', frame: hello({ seq: 40, resumed: false, sessions: [session({ status: 'scan_qr' })] }) });
    expect(snap.pairCodes).toEqual({});
  });
});
