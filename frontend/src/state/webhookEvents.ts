// The events a webhook can subscribe to (CONTRACT.md §5), and how a choice is sent.
export const WEBHOOK_EVENTS = [
  'session.created',
  'session.updated',
  'session.deleted',
  'session.status',
  'session.qr',
  'session.pair_code',
  'session.primary',
  'message.received',
  'message.updated',
] as const;

/** Everything chosen is sent as `*`, so events added later are included too. */
export function eventsToSend(chosen: Set<string>): string[] {
  if (WEBHOOK_EVENTS.every((e) => chosen.has(e))) return ['*'];
  return WEBHOOK_EVENTS.filter((e) => chosen.has(e));
}

/** The server's patterns (`*`, `session.*`, names) as the set of names they cover. */
export function eventsChosen(patterns: string[]): Set<string> {
  const out = new Set<string>();
  for (const p of patterns) {
    for (const e of WEBHOOK_EVENTS) {
      if (p === '*' || p === e || (p.endsWith('.*') && e.startsWith(p.slice(0, -1)))) out.add(e);
    }
  }
  return out;
}

/** A signing secret made in the browser: 32 random bytes as hex (the server wants 16 to 256 characters). */
export function newSecret(fill: (a: Uint8Array<ArrayBuffer>) => void = (a) => crypto.getRandomValues(a)): string {
  const bytes = new Uint8Array(32);
  fill(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join('');
}
