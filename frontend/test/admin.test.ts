import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../src/api/types';
import {
  FIRST_PAGE, actionLabel, actionTone, current, detailText, grantable, loaded, newer, older, pageNumber, parseLimit,
  scopeText, toggleScope,
} from '../src/state/admin';

const entry = (action: string, detail: Record<string, unknown> | null): AuditEntry => ({
  id: 1, at: '2026-12-01T10:00:00Z', action, actor_id: null, actor_email: null, target_type: null, target_id: null,
  ip: '127.0.0.1', detail,
});

describe('key scopes', () => {
  it('offers admin only to admins', () => {
    expect(grantable('user')).toEqual(['read', 'send', 'control']);
    expect(grantable('admin')).toEqual(['read', 'send', 'control', 'admin']);
    expect(grantable(undefined)).toEqual(['read', 'send', 'control']);
  });

  it('toggles in the contract order', () => {
    expect(toggleScope(['control'], 'read')).toEqual(['read', 'control']);
    expect(toggleScope(['read', 'send'], 'read')).toEqual(['send']);
    expect(toggleScope([], 'admin')).toEqual(['admin']);
  });

  it('describes a key without scopes (an old server) plainly', () => {
    expect(scopeText(undefined)).toBe('no scopes');
    expect(scopeText(['read', 'send'])).toBe('read, send');
  });
});

describe('limit fields', () => {
  it('empty is the server default, digits are the limit', () => {
    expect(parseLimit('', 100)).toEqual({ ok: true, value: null });
    expect(parseLimit('  7 ', 100)).toEqual({ ok: true, value: 7 });
    expect(parseLimit('0', 100)).toEqual({ ok: true, value: 0 });
  });

  it('refuses anything else in plain words', () => {
    for (const bad of ['-1', '1.5', 'ten', '1e3']) {
      const r = parseLimit(bad, 100);
      expect(r.ok, bad).toBe(false);
    }
    expect(parseLimit('101', 100)).toEqual({ ok: false, error: 'At most 100.' });
  });
});

describe('audit entries', () => {
  it('says what happened in words', () => {
    expect(actionLabel('auth.login_failed')).toBe('Failed login');
    expect(actionLabel('admin.session_logged_out')).toBe('Session logged out by an admin');
    expect(actionLabel('something.new')).toBe('something.new');
    expect(actionTone('auth.login_failed')).toBe('warning');
    expect(actionTone('auth.login')).toBe('normal');
  });

  it('summarises details', () => {
    expect(detailText(entry('admin.user_role_changed', { from: 'user', to: 'admin' }))).toBe('user → admin');
    expect(detailText(entry('api_key.created', { name: 'ci', scopes: 'read' }))).toBe('“ci”, scopes read');
    expect(detailText(entry('admin.user_limits_changed', { max_sessions: 2, daily_message_limit: null })))
      .toBe('sessions 2, messages per day default');
    expect(detailText(entry('session.deleted', { name: 'alpha' }))).toBe('“alpha”');
    expect(detailText(entry('auth.login', null))).toBe('');
  });
});

describe('audit paging', () => {
  it('goes older by the server cursor and back newer exactly', () => {
    let c = loaded(FIRST_PAGE, 41);
    expect(current(c)).toBeUndefined();
    c = older(c);
    expect(current(c)).toBe(41);
    expect(pageNumber(c)).toBe(2);
    c = older(loaded(c, 21));
    expect(current(c)).toBe(21);
    c = newer(c);
    expect(current(c)).toBe(41);
    c = newer(newer(c));
    expect(current(c)).toBeUndefined();
    expect(pageNumber(c)).toBe(1);
  });

  it('stays put at the end of the log', () => {
    const end = loaded(FIRST_PAGE, null);
    expect(older(end)).toBe(end);
  });
});
