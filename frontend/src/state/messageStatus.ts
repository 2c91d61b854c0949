// Outgoing messages move queued → sent → delivered → read, or end failed. Events are
// ordered, but the POST answer and REST lists can be older than what we already know.

const RANK: Record<string, number> = {
  pending: 0,
  queued: 0,
  sent: 1,
  delivered: 2,
  read: 3,
  received: 3,
  failed: 4,
};

function rank(status: string): number {
  return RANK[status] ?? 0;
}

/** The later of two statuses of the same message; an unknown status counts as early. */
export function laterStatus(current: string, incoming: string): string {
  return rank(incoming) >= rank(current) ? incoming : current;
}
