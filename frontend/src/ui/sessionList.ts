import type { Session } from '../api/types';

/** Primary first, then by creation time. */
export function sortSessions(sessions: Record<string, Session>): Session[] {
  return Object.values(sessions).sort((a, b) => {
    if (a.is_primary !== b.is_primary) return a.is_primary ? -1 : 1;
    return a.created_at.localeCompare(b.created_at) || a.name.localeCompare(b.name);
  });
}
