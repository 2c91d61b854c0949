import { useEffect, useState } from 'preact/hooks';
import type { Health } from '../api/types';
import { inBatches } from '../state/sessionTable';
import { api } from '../services';

// Health per session for table rows: fetched a few at a time, kept for a minute, so a
// table of hundreds of connected sessions does not fire hundreds of requests at once.
const TTL_MS = 60_000;
const cache = new Map<string, { at: number; health: Health }>();
const waiting = new Map<string, Set<(h: Health) => void>>();
let queued: string[] = [];
let draining = false;

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  while (queued.length) {
    const batch = queued;
    queued = [];
    await inBatches(batch, 4, async (id) => {
      const health = await api.health(id);
      cache.set(id, { at: Date.now(), health });
      for (const cb of waiting.get(id) ?? []) cb(health);
      waiting.delete(id);
    });
  }
  draining = false;
}

export function useHealth(id: string, enabled: boolean): Health | null {
  const [health, setHealth] = useState<Health | null>(() => cache.get(id)?.health ?? null);
  useEffect(() => {
    if (!enabled) return;
    const hit = cache.get(id);
    if (hit && Date.now() - hit.at < TTL_MS) {
      setHealth(hit.health);
      return;
    }
    const cbs = waiting.get(id) ?? new Set();
    const cb = (h: Health) => setHealth(h);
    cbs.add(cb);
    if (!waiting.has(id)) {
      waiting.set(id, cbs);
      queued.push(id);
      void drain();
    }
    return () => cbs.delete(cb);
  }, [id, enabled]);
  return health;
}
