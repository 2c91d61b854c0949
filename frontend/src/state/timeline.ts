import type { ServerEvent } from '../api/types';
import { phoneText, reasonText, statusLabel } from '../ui/format';
import type { TimelineEntry } from './state';

/** A short human line for the event timeline. */
export function summarize(ev: ServerEvent): string {
  switch (ev.event) {
    case 'session.created':
      return `created “${ev.data.name}”`;
    case 'session.updated':
      return `updated “${ev.data.name}”`;
    case 'session.deleted':
      return 'deleted';
    case 'session.status': {
      const d = ev.data;
      const reason = d.reason ? `: ${reasonText(d.reason)}` : '';
      if (d.previous === d.status) {
        // Same status, a link detail changed.
        const link = d.auth_paired ? 'linked to the phone' : d.socket_open ? 'connected, waiting for the phone' : 'connection closed';
        return `${statusLabel(d.status)} — ${link}${reason}`;
      }
      const from = d.previous ? `${statusLabel(d.previous)} → ` : '';
      return `${from}${statusLabel(d.status)}${reason}`;
    }
    case 'session.qr':
      return `new QR code, attempt ${ev.data.attempt} of ${ev.data.max_attempts}`;
    case 'session.pair_code':
      return 'new pairing code';
    case 'session.primary':
      return 'became primary';
    case 'message.received': {
      const m = ev.data;
      const who = phoneText(m.peer ?? m.from ?? m.chat ?? '');
      const text = typeof m.text === 'string' ? m.text : '';
      return `message ${m.direction === 'out' ? 'to' : 'from'} ${who}: ${text.slice(0, 60)}`.trim();
    }
    case 'message.updated':
      return `message ${ev.data.status}${ev.data.error ? `: ${ev.data.error}` : ''}`;
    default:
      return (ev as { event: string }).event;
  }
}

export function timelineEntry(ev: ServerEvent): TimelineEntry {
  const sessionId =
    ev.session_id ?? (ev.event === 'session.primary' ? ev.data.session_id : null);
  const entry: TimelineEntry = { seq: ev.seq, at: ev.at, event: ev.event, sessionId, summary: summarize(ev) };
  if (ev.event === 'session.status') {
    entry.status = ev.data.status;
    entry.previous = ev.data.previous ?? null;
    entry.reason = ev.data.reason ?? null;
  }
  return entry;
}
