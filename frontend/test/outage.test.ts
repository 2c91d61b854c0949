import { describe, expect, it } from 'vitest';
import { OutageTracker } from '../src/ws/outage';

function harness() {
  const timers: { fn: () => void; ms: number; live: boolean }[] = [];
  const changes: (string | null)[] = [];
  let recovered = 0;
  const t = new OutageTracker({
    onChange: (s) => changes.push(s),
    onRecovered: () => {
      recovered += 1;
    },
    graceMs: 2000,
    now: () => new Date('2026-01-01T10:42:00Z'),
    setTimer: (fn, ms) => {
      const h = { fn, ms, live: true };
      timers.push(h);
      return h;
    },
    clearTimer: (h) => {
      (h as { live: boolean }).live = false;
    },
  });
  const fire = () => timers.filter((x) => x.live).forEach((x) => {
    x.live = false;
    x.fn();
  });
  return { t, changes, fire, recovered: () => recovered };
}

describe('outage tracker', () => {
  it('ignores a reconnect within the grace (token renewal)', () => {
    const h = harness();
    h.t.update('connected');
    h.t.update('reconnecting');
    h.t.update('connected');
    h.fire();
    expect(h.changes).toEqual([]);
    expect(h.recovered()).toBe(0);
  });

  it('declares an outage with the time the link was lost, and ends it on recovery', () => {
    const h = harness();
    h.t.update('connected');
    h.t.update('reconnecting');
    h.t.update('reconnecting');
    h.fire();
    expect(h.changes).toEqual(['2026-01-01T10:42:00.000Z']);
    h.t.update('connected');
    expect(h.changes).toEqual(['2026-01-01T10:42:00.000Z', null]);
    expect(h.recovered()).toBe(1);
  });

  it('a logout ends an outage without counting a recovery', () => {
    const h = harness();
    h.t.update('reconnecting');
    h.fire();
    h.t.update('idle');
    expect(h.changes.at(-1)).toBeNull();
    expect(h.recovered()).toBe(0);
  });
});
