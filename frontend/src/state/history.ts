import type { ServerEvent, StatusData } from '../api/types';

export interface StatusEntry {
  seq: number;
  at: string;
  status: string;
  previous: string | null;
  reason: string | null;
}

/** How many events of the user's log one page reads. */
export const HISTORY_PAGE = 500;

/**
 * `/api/v1/events` pages forward from `since`; to read backwards from `end` we ask for
 * the `size` events before it. Returns null once the start of the log is reached.
 */
export function pageBefore(end: number, size = HISTORY_PAGE): { since: number; limit: number } | null {
  if (end <= 0) return null;
  const since = Math.max(0, end - size);
  return { since, limit: end - since };
}

/** The status changes of one session among a page of events, newest first. */
export function statusEntries(events: ServerEvent[], sessionId: string): StatusEntry[] {
  const out: StatusEntry[] = [];
  for (const e of events) {
    if (e.event !== 'session.status' || e.session_id !== sessionId) continue;
    const d = e.data as StatusData;
    out.push({ seq: e.seq, at: e.at, status: d.status, previous: d.previous ?? null, reason: d.reason ?? null });
  }
  return out.sort((a, b) => b.seq - a.seq);
}

/** Both lists newest first; one entry per seq. */
export function mergeEntries(a: StatusEntry[], b: StatusEntry[]): StatusEntry[] {
  const bySeq = new Map<number, StatusEntry>();
  for (const e of [...a, ...b]) bySeq.set(e.seq, e);
  return [...bySeq.values()].sort((x, y) => y.seq - x.seq);
}
