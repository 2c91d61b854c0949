// The contract leaves some response shapes open (list envelopes, the name of the
// one-time key field). These helpers accept the plausible shapes.

export function asList<T>(value: unknown): T[] {
  if (Array.isArray(value)) return value as T[];
  if (value && typeof value === 'object') {
    for (const k of ['items', 'data', 'messages', 'keys', 'api_keys', 'sessions', 'results']) {
      const inner = (value as Record<string, unknown>)[k];
      if (Array.isArray(inner)) return inner as T[];
    }
  }
  return [];
}

/** The secret of a freshly created API key, whatever the field is called. */
export function secretOf(value: unknown): string {
  if (value && typeof value === 'object') {
    const rec = value as Record<string, unknown>;
    for (const k of ['key', 'api_key', 'secret', 'token', 'value', 'plaintext']) {
      if (typeof rec[k] === 'string' && rec[k]) return rec[k] as string;
    }
  }
  return '';
}
