import type { SessionStatus } from '../api/types';

export const STATUS_LABEL: Record<SessionStatus, string> = {
  stopped: 'Stopped',
  starting: 'Starting…',
  scan_qr: 'Waiting for QR scan',
  pairing: 'Pairing…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  failed: 'Failed',
  logged_out: 'Logged out',
};

/** CSS tone for a status badge. */
export const STATUS_TONE: Record<SessionStatus, 'ok' | 'warn' | 'bad' | 'info' | 'muted'> = {
  stopped: 'muted',
  starting: 'info',
  scan_qr: 'info',
  pairing: 'warn',
  connected: 'ok',
  reconnecting: 'warn',
  failed: 'bad',
  logged_out: 'muted',
};

const REASONS: Record<string, string> = {
  qr_timeout: 'the QR code was not scanned in time',
  scan_failed: 'the scan failed',
  auth_failed: 'authentication failed',
  duplicate_phone: 'this phone is already linked to another session',
  max_retries: 'gave up after too many retries',
  stream_replaced: 'the connection was replaced by another client',
  temporary_ban: 'temporarily banned by WhatsApp',
  network: 'network problem',
  user_stop: 'stopped by you',
  user_logout: 'logged out by you',
  device_removed: 'the device was removed on the phone',
  inactive: 'stopped for inactivity',
  server_restart: 'the server restarted',
  start_timeout: 'no QR code or connection came in time',
  node_lost: 'the server running it stopped; another took over',
};

export function statusLabel(status: string): string {
  return STATUS_LABEL[status as SessionStatus] ?? sentenceCase(status.replace(/_/g, ' '));
}

function sentenceCase(s: string): string {
  return s ? s.charAt(0).toUpperCase() + s.slice(1) : s;
}

export function statusTone(status: string): string {
  return STATUS_TONE[status as SessionStatus] ?? 'muted';
}

export function reasonText(reason: string | null | undefined): string {
  if (!reason) return '';
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}

/**
 * The one way a phone number is shown: international, `+` and digits (+6281234567890).
 * Accepts stored E.164 digits, typed numbers and JIDs (6281234567890@s.whatsapp.net);
 * anything that is not a phone number (a group id) is shown as it is.
 */
export function phoneText(phone: string | null | undefined): string {
  if (!phone) return '—';
  const user = phone.split('@')[0].split(':')[0];
  const digits = user.replace(/[\s()+-]/g, '');
  if (/^\d{6,15}$/.test(digits) && !phone.endsWith('@g.us')) return `+${digits}`;
  return phone;
}

export function timeText(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return new Date(t).toLocaleString();
}

/** "14:05": the hour and minute, for "since" lines. */
export function hourMinute(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return '';
  return new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
}

export function clockText(iso: string | null | undefined): string {
  if (!iso) return '';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return new Date(t).toLocaleTimeString();
}

/** Seconds left until `iso`, never negative. */
export function secondsLeft(iso: string | null | undefined, now: number): number {
  if (!iso) return 0;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return 0;
  return Math.max(0, Math.ceil((t - now) / 1000));
}

/** "ABCD1234" → "ABCD-1234" for readability. */
export function pairCodeText(code: string): string {
  if (code.length === 8 && !code.includes('-')) return `${code.slice(0, 4)}-${code.slice(4)}`;
  return code;
}
