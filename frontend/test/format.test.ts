import { describe, expect, it } from 'vitest';
import { ApiError, describeError, NetworkError } from '../src/api/errors';
import { asList, secretOf } from '../src/api/normalize';
import { pairCodeText, phoneText, reasonText, secondsLeft, statusLabel, statusTone } from '../src/ui/format';
import { sortSessions } from '../src/ui/sessionList';
import { wsUrl } from '../src/ws/url';
import { session } from './fixtures';

describe('format', () => {
  it('puts words and a tone on every status', () => {
    expect(statusLabel('scan_qr')).toBe('Waiting for QR scan');
    expect(statusTone('connected')).toBe('ok');
    expect(statusTone('failed')).toBe('bad');
    expect(statusLabel('something_new')).toBe('something_new');
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
  it('says what went wrong for every kind of failure', () => {
    expect(describeError(new ApiError(422, { title: 'Unprocessable', detail: 'phone must have 8 to 15 digits', code: 'invalid_phone' })))
      .toBe('That phone number is not valid (8 to 15 digits). phone must have 8 to 15 digits');
    expect(describeError(new ApiError(429, { title: 'Too Many Requests', code: 'rate_limited' }, 30))).toBe(
      'Too many attempts. Please wait and try again. (retry in 30s)',
    );
    expect(describeError(new ApiError(500, { title: 'Internal Server Error', detail: 'boom' }))).toBe('Internal Server Error: boom');
    expect(describeError(new NetworkError(new TypeError('Failed to fetch')))).toContain('Cannot reach the server');
    expect(describeError('weird')).toBe('weird');
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
