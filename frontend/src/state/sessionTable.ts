import type { Session, SessionStatus } from '../api/types';

export type SortKey = 'name' | 'status' | 'last_activity' | 'created';
export type SortDir = 'asc' | 'desc';

export interface TableQuery {
  search: string;
  status: SessionStatus | 'all';
  sort: SortKey;
  dir: SortDir;
}

export const DEFAULT_QUERY: TableQuery = { search: '', status: 'all', sort: 'name', dir: 'asc' };

/** Statuses in the order an operator cares about: trouble first. */
const STATUS_ORDER: SessionStatus[] = ['failed', 'logged_out', 'reconnecting', 'pairing', 'scan_qr', 'starting', 'stopped', 'connected'];

function lastActivity(s: Session): string {
  return s.last_activity_at ?? s.last_connected_at ?? s.updated_at ?? '';
}

function matches(s: Session, words: string[]): boolean {
  if (words.length === 0) return true;
  const hay = `${s.name} ${s.phone ?? ''} ${s.push_name ?? ''}`.toLowerCase();
  return words.every((w) => hay.includes(w.replace(/^\+/, '')));
}

const collator = new Intl.Collator(undefined, { numeric: true, sensitivity: 'base' });

/** The rows a table shows for a query: searched (name, phone, push name), filtered, sorted. */
export function tableRows(sessions: Session[], q: TableQuery): Session[] {
  const words = q.search.toLowerCase().split(/\s+/).filter(Boolean);
  const rows = sessions.filter((s) => (q.status === 'all' || s.status === q.status) && matches(s, words));
  const sign = q.dir === 'asc' ? 1 : -1;
  const cmp = (a: Session, b: Session): number => {
    switch (q.sort) {
      case 'status':
        return STATUS_ORDER.indexOf(a.status) - STATUS_ORDER.indexOf(b.status);
      case 'last_activity':
        return lastActivity(a).localeCompare(lastActivity(b));
      case 'created':
        return a.created_at.localeCompare(b.created_at);
      default:
        return collator.compare(a.name, b.name);
    }
  };
  return rows.sort((a, b) => sign * cmp(a, b) || collator.compare(a.name, b.name));
}

export function lastActivityOf(s: Session): string | null {
  return lastActivity(s) || null;
}

/** Cards suit a handful of sessions; beyond this a table is easier to scan. */
export const CARD_LIMIT = 12;

/** Run `fn` over `items` with at most `limit` at a time; resolves to the failures. */
export async function inBatches<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>): Promise<{ item: T; error: unknown }[]> {
  const failures: { item: T; error: unknown }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failures.push({ item, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return failures;
}
