// Client logic of the admin screens and key scopes, kept pure so Vitest covers it.
import type { AuditEntry, Scope } from '../api/types';

export const SCOPES: { scope: Scope; label: string; help: string }[] = [
  { scope: 'read', label: 'Read', help: 'list sessions, messages, events; open the live stream' },
  { scope: 'send', label: 'Send', help: 'send messages' },
  { scope: 'control', label: 'Control', help: 'create, start, stop, log out, relink, delete sessions; webhooks; keys' },
  { scope: 'admin', label: 'Admin', help: 'the admin routes (admins only)' },
];

/** The scopes a user may tick: all but `admin` for non-admins. */
export function grantable(role: string | undefined): Scope[] {
  return SCOPES.map((s) => s.scope).filter((s) => s !== 'admin' || role === 'admin');
}

/** Ticks or unticks one scope, keeping the contract's order. */
export function toggleScope(chosen: Scope[], scope: Scope): Scope[] {
  const set = new Set(chosen);
  if (set.has(scope)) set.delete(scope);
  else set.add(scope);
  return SCOPES.map((s) => s.scope).filter((s) => set.has(s));
}

export function scopeText(scopes: Scope[] | undefined): string {
  if (!scopes || scopes.length === 0) return 'no scopes';
  return scopes.join(', ');
}

/**
 * A limit field: empty means "server default" (`null`), otherwise a whole number from 0 up
 * to `max`. Returns the value to send, or an error in plain words.
 */
export function parseLimit(raw: string, max: number): { ok: true; value: number | null } | { ok: false; error: string } {
  const text = raw.trim();
  if (text === '') return { ok: true, value: null };
  if (!/^\d+$/.test(text)) return { ok: false, error: 'Enter a whole number, or leave it empty for the server default.' };
  const n = Number(text);
  if (n > max) return { ok: false, error: `At most ${max}.` };
  return { ok: true, value: n };
}

const ACTIONS: Record<string, string> = {
  'auth.register': 'Account created',
  'auth.login': 'Logged in',
  'auth.login_failed': 'Failed login',
  'api_key.created': 'API key created',
  'api_key.deleted': 'API key deleted',
  'session.deleted': 'Session deleted',
  'admin.user_role_changed': 'Role changed',
  'admin.user_disabled': 'User disabled',
  'admin.user_enabled': 'User enabled',
  'admin.user_limits_changed': 'Limits changed',
  'admin.session_stopped': 'Session stopped by an admin',
  'admin.session_logged_out': 'Session logged out by an admin',
};

export function actionLabel(action: string): string {
  return ACTIONS[action] ?? action;
}

/** Failed logins and disables stand out. */
export function actionTone(action: string): 'warning' | 'normal' {
  return action === 'auth.login_failed' || action === 'admin.user_disabled' ? 'warning' : 'normal';
}

/** A short, readable line for an entry's detail. */
export function detailText(e: AuditEntry): string {
  const d = e.detail;
  if (!d) return '';
  if (e.action === 'admin.user_role_changed') return `${String(d.from)} → ${String(d.to)}`;
  if (e.action === 'api_key.created') return `“${String(d.name ?? '')}”, scopes ${String(d.scopes ?? '')}`;
  if (e.action === 'admin.user_limits_changed') {
    const v = (x: unknown) => (x === null || x === undefined ? 'default' : String(x));
    return `sessions ${v(d.max_sessions)}, messages per day ${v(d.daily_message_limit)}`;
  }
  if (e.action === 'auth.login_failed' && d.code === 'rate_limited') return 'rate limited';
  if (typeof d.name === 'string') return `“${d.name}”`;
  return '';
}

/**
 * Where the audit screen is in the log: the cursors of the pages seen so far, so "Newer"
 * goes back exactly and "Older" continues from the server's `next_before`.
 */
export interface AuditCursor {
  /** `before` of each page shown so far; the last is the current page (undefined: newest). */
  stack: (number | undefined)[];
  next: number | null;
}

export const FIRST_PAGE: AuditCursor = { stack: [undefined], next: null };

export function current(c: AuditCursor): number | undefined {
  return c.stack[c.stack.length - 1];
}

export function loaded(c: AuditCursor, next: number | null): AuditCursor {
  return { ...c, next };
}

export function older(c: AuditCursor): AuditCursor {
  return c.next === null ? c : { stack: [...c.stack, c.next], next: null };
}

export function newer(c: AuditCursor): AuditCursor {
  return c.stack.length <= 1 ? c : { stack: c.stack.slice(0, -1), next: null };
}

export function pageNumber(c: AuditCursor): number {
  return c.stack.length;
}
