import { describe, expect, it } from 'vitest';
import { ApiError, describeError, NetworkError, noticeFor } from '../src/api/errors';
import { asList, secretOf } from '../src/api/normalize';
import { pairCodeText, phoneText, reasonText, secondsLeft, statusLabel, statusTone } from '../src/ui/format';
import { sortSessions } from '../src/ui/sessionList';
import { wsUrl } from '../src/ws/url';
import { pairCodeAlive, pairCodeDeadline } from '../src/state/pairCode';
import { session } from './fixtures';

describe('format', () => {
  it('puts words and a tone on every status', () => {
    expect(statusLabel('scan_qr')).toBe('Waiting for QR scan');
    expect(statusTone('connected')).toBe('ok');
    expect(statusTone('failed')).toBe('bad');
    expect(statusLabel('something_new')).toBe('Something new');
  });

  it('explains status reasons', () => {
    expect(reasonText('qr_timeout')).toContain('not scanned in time');
    expect(reasonText('brand_new_reason')).toBe('brand new reason');
    expect(reasonText(null)).toBe('');
  });

  it('counts down and never goes negative', () => {
    const t = Date.parse('2026-01-01T00:00:10Z');
    expect(secondsLeft('2026-01-01T00:00:20Z', t)).toBe(10);
    expect(secondsLeft('2026-01-01T00:00:20Z', t + 9_500)).toBe(1);
    expect(secondsLeft('2026-01-01T00:00:00Z', t)).toBe(0);
  });

  it('formats phones and pair codes', () => {
    expect(phoneText('6281234567890')).toBe('+6281234567890');
    expect(phoneText(null)).toBe('—');
    expect(pairCodeText('ABCD1234')).toBe('ABCD-1234');
    expect(pairCodeText('AB-12')).toBe('AB-12');
  });

  it('sorts the primary session first', () => {
    const list = sortSessions({
      a: session({ id: 'a', name: 'a', is_primary: false, created_at: '2026-01-01T00:00:00Z' }),
      b: session({ id: 'b', name: 'b', is_primary: true, created_at: '2026-01-02T00:00:00Z' }),
      c: session({ id: 'c', name: 'c', is_primary: false, created_at: '2025-01-01T00:00:00Z' }),
    });
    expect(list.map((s) => s.id)).toEqual(['b', 'c', 'a']);
  });
});

describe('errors', () => {
  it('says what went wrong once, in words, without HTTP titles or codes', () => {
    expect(describeError(new ApiError(422, { title: 'Unprocessable Entity', detail: 'phone must have 8 to 15 digits', code: 'invalid_phone' })))
      .toBe('That phone number is not valid: use 8 to 15 digits, like +6281234567890.');
    expect(describeError(new ApiError(409, { title: 'Conflict', detail: 'You already have a session with this name.', code: 'name_taken' })))
      .toBe('You already have a session with that name.');
    expect(describeError(new ApiError(429, { title: 'Too Many Requests', code: 'rate_limited' }, 30))).toBe(
      'Too many attempts. Please wait and try again. Try again in 30 s.',
    );
    expect(describeError(new ApiError(422, { title: 'Unprocessable Entity', detail: 'url must use http or https', code: 'validation_failed' })))
      .toBe('Url must use http or https.');
    const fiveHundred = describeError(new ApiError(500, { title: 'Internal Server Error', detail: 'boom' }));
    expect(fiveHundred).toBe('The server had a problem with that. Try again in a moment.');
    expect(describeError(new ApiError(418, { title: "I'm a teapot" }))).toBe('The server refused that request.');
    expect(describeError(new NetworkError(new TypeError('Failed to fetch')))).toBe('Cannot reach the server. Check the connection and try again.');
    expect(describeError('weird')).toBe('Weird.');
  });

  it('colours a notice by meaning', () => {
    expect(noticeFor(new ApiError(409, { code: 'name_taken' }))).toMatchObject({ tone: 'error', network: false });
    expect(noticeFor(new ApiError(429, { code: 'daily_limit_reached' })).tone).toBe('warning');
    expect(noticeFor(new NetworkError(new TypeError('x')))).toMatchObject({ tone: 'warning', network: true });
  });
});

describe('normalize', () => {
  it('accepts bare arrays and envelopes', () => {
    expect(asList([1, 2])).toEqual([1, 2]);
    expect(asList({ items: [3] })).toEqual([3]);
    expect(asList({ nothing: true })).toEqual([]);
    expect(asList(null)).toEqual([]);
  });

  it('finds the one-time API key', () => {
    expect(secretOf({ id: 'x', key: 'wh_123' })).toBe('wh_123');
    expect(secretOf({ id: 'x', api_key: 'wh_456' })).toBe('wh_456');
    expect(secretOf({ id: 'x' })).toBe('');
  });
});

describe('wsUrl', () => {
  it('follows the page scheme and adds since only when known', () => {
    expect(wsUrl({ protocol: 'https:', host: 'a.b' }, 't/k', null)).toBe('wss://a.b/api/v1/ws?token=t%2Fk');
    expect(wsUrl({ protocol: 'http:', host: 'a:1' }, 't', 0)).toBe('ws://a:1/api/v1/ws?token=t&since=0');
  });
});

describe('one phone format', () => {
  it('shows every number as + and digits', () => {
    expect(phoneText('6281234567890')).toBe('+6281234567890');
    expect(phoneText('+62 812-3456-7890')).toBe('+6281234567890');
    expect(phoneText('6281234567890@s.whatsapp.net')).toBe('+6281234567890');
    expect(phoneText('6281234567890:12@s.whatsapp.net')).toBe('+6281234567890');
    expect(phoneText('120363025246125486@g.us')).toBe('120363025246125486@g.us');
    expect(phoneText(null)).toBe('—');
  });
});

describe('pairing code deadline', () => {
  const code = { code: 'ABCD1234', expires_at: '2026-01-01T00:03:00Z' };
  const qr = (attempt: number) => ({ value: 'q', expires_at: '2026-01-01T00:02:00Z', attempt, max_attempts: 3 });
  it('is the earlier of the code expiry and the end of the last QR attempt', () => {
    expect(pairCodeDeadline(code, qr(2))).toBe(Date.parse('2026-01-01T00:03:00Z'));
    expect(pairCodeDeadline(code, qr(3))).toBe(Date.parse('2026-01-01T00:02:00Z'));
    expect(pairCodeDeadline(code, undefined)).toBe(Date.parse('2026-01-01T00:03:00Z'));
  });
  it('is not shown once expired', () => {
    expect(pairCodeAlive(code, qr(3), Date.parse('2026-01-01T00:02:01Z'))).toBe(false);
    expect(pairCodeAlive(code, qr(2), Date.parse('2026-01-01T00:02:01Z'))).toBe(true);
    expect(pairCodeAlive(undefined, undefined, 0)).toBe(false);
  });
});
