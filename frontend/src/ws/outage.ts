import type { ConnectionState } from './client';

export interface OutageOptions {
  /** Called with the time the link was lost once it stays lost past the grace, and with null when it is back. */
  onChange: (since: string | null) => void;
  /** Called each time the link comes back after an outage was declared. */
  onRecovered?: () => void;
  /** A reconnect this fast (token renewal, a slow-consumer close) is not an outage. */
  graceMs?: number;
  now?: () => Date;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

/** Turns the socket's states into "the server is unreachable since …", without flicker. */
export class OutageTracker {
  private lostAt: Date | null = null;
  private declared = false;
  private timer: unknown = null;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly opts: OutageOptions) {
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  update(state: ConnectionState): void {
    if (state === 'reconnecting' || (state === 'connecting' && this.lostAt)) {
      if (this.lostAt) return;
      this.lostAt = (this.opts.now ?? (() => new Date()))();
      const since = this.lostAt.toISOString();
      this.timer = this.setTimer(() => {
        this.timer = null;
        this.declared = true;
        this.opts.onChange(since);
      }, this.opts.graceMs ?? 2000);
      return;
    }
    const wasDeclared = this.declared;
    this.reset();
    if (wasDeclared) {
      this.opts.onChange(null);
      if (state === 'connected') this.opts.onRecovered?.();
    }
  }

  private reset(): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.lostAt = null;
    this.declared = false;
  }
}
