import type { Session } from '../api/types';

/** The distinct engines and cluster nodes the sessions run on, sorted. */
export function engineSummary(sessions: Session[]): { engines: string[]; nodes: string[] } {
  const engines = new Set<string>();
  const nodes = new Set<string>();
  for (const s of sessions) {
    if (s.engine) engines.add(s.engine);
    if (s.node) nodes.add(s.node);
  }
  return { engines: [...engines].sort(), nodes: [...nodes].sort() };
}

