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
  inactive: 'stopped for inactivity',
};

export function statusLabel(status: string): string {
  return STATUS_LABEL[status as SessionStatus] ?? status;
}

export function statusTone(status: string): string {
  return STATUS_TONE[status as SessionStatus] ?? 'muted';
}

export function reasonText(reason: string | null | undefined): string {
  if (!reason) return '';
  return REASONS[reason] ?? reason.replace(/_/g, ' ');
}

export function phoneText(phone: string | null | undefined): string {
  return phone ? `+${phone}` : '—';
}

export function timeText(iso: string | null | undefined): string {
  if (!iso) return 'never';
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return iso;
  return new Date(t).toLocaleString();
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
