import type { ServerFrame } from '../api/types';
import { Backoff } from './backoff';

export type ConnectionState = 'idle' | 'connecting' | 'connected' | 'reconnecting';

/** The part of the browser WebSocket that the client uses. */
export interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason?: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}

export interface WsClientOptions {
  /** A valid access token (refreshed if near expiry); null when logged out. */
  token: () => Promise<string | null>;
  /** Forces a token refresh (after close 4401 or a refused upgrade). */
  forceRefresh: (stale: string) => Promise<string | null>;
  /** Highest seq applied so far; null before the first hello. */
  lastSeq: () => number | null;
  url: (token: string, since: number | null) => string;
  open: (url: string) => SocketLike;
  onFrame: (frame: ServerFrame) => void;
  onState?: (state: ConnectionState) => void;
  /** Called when the token cannot be renewed. */
  onAuthLost?: (err: unknown) => void;
  backoff?: Backoff;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
  /** Client ping period; a missing pong within the same time drops the socket. */
  pingMs?: number;
}

export const CLOSE_TOKEN_EXPIRED = 4401;
export const CLOSE_TOO_SLOW = 4008;

/**
 * Keeps one WebSocket open: reconnects with backoff, resumes with `since`,
 * refreshes the token on 4401, and reconnects at once on 4008.
 */
export class WsClient {
  private socket: SocketLike | null = null;
  private running = false;
  private retryTimer: unknown = null;
  private pingTimer: unknown = null;
  private awaitingPong = false;
  private gotHello = false;
  private usedToken = '';
  private failuresBeforeHello = 0;
  private state: ConnectionState = 'idle';
  private readonly backoff: Backoff;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;

  constructor(private readonly opts: WsClientOptions) {
    this.backoff = opts.backoff ?? new Backoff();
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.backoff.reset();
    void this.connect();
  }

  stop(): void {
    this.running = false;
    this.clearTimers();
    const s = this.socket;
    this.socket = null;
    if (s) {
      detach(s);
      s.close(1000, 'bye');
    }
    this.setState('idle');
  }

  /** Reconnect now (e.g. the browser came back online). */
  kick(): void {
    if (!this.running || this.state === 'connected' || this.state === 'connecting') return;
    this.clearTimers();
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (!this.running) return;
    this.setState(this.state === 'idle' ? 'connecting' : 'reconnecting');
    let token: string | null;
    try {
      token = await this.opts.token();
    } catch (err) {
      if (isAuthLost(err)) return this.authLost(err);
      return this.scheduleRetry();
    }
    if (!this.running) return;
    if (!token) return this.authLost(new Error('logged out'));
    this.usedToken = token;
    this.gotHello = false;
    let socket: SocketLike;
    try {
      socket = this.opts.open(this.opts.url(token, this.opts.lastSeq()));
    } catch {
      return this.scheduleRetry();
    }
    this.socket = socket;
    socket.onmessage = (ev) => this.handleMessage(ev.data);
    socket.onclose = (ev) => this.handleClose(socket, ev.code);
    socket.onerror = () => {
      /* a close follows */
    };
  }

  private handleMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: ServerFrame;
    try {
      frame = JSON.parse(data) as ServerFrame;
    } catch {
      return;
    }
    if (frame.type === 'pong') {
      this.awaitingPong = false;
      return;
    }
    if (frame.type === 'hello') {
      this.gotHello = true;
      this.failuresBeforeHello = 0;
      this.backoff.reset();
      this.opts.onFrame(frame);
      this.setState('connected');
      this.schedulePing();
      return;
    }
    this.opts.onFrame(frame);
  }

  private handleClose(socket: SocketLike, code: number): void {
    if (socket !== this.socket) return;
    detach(socket);
    this.socket = null;
    this.clearTimers();
    if (!this.running) return;
    this.setState('reconnecting');
    if (code === CLOSE_TOKEN_EXPIRED) {
      void this.refreshThenConnect();
      return;
    }
    if (code === CLOSE_TOO_SLOW) {
      void this.connect();
      return;
    }
    if (!this.gotHello) {
      // The upgrade may have been refused with 401: renew the token every other failure.
      this.failuresBeforeHello += 1;
      if (this.failuresBeforeHello % 2 === 0) {
        void this.refreshThenConnect(true);
        return;
      }
    }
    this.scheduleRetry();
  }

  private async refreshThenConnect(withBackoff = false): Promise<void> {
    try {
      await this.opts.forceRefresh(this.usedToken);
    } catch (err) {
      if (isAuthLost(err)) return this.authLost(err);
      return this.scheduleRetry();
    }
    if (withBackoff) this.scheduleRetry();
    else void this.connect();
  }

  private scheduleRetry(): void {
    if (!this.running) return;
    this.setState('reconnecting');
    const delay = this.backoff.next();
    this.retryTimer = this.setTimer(() => {
      this.retryTimer = null;
      void this.connect();
    }, delay);
  }

  private schedulePing(): void {
    const ms = this.opts.pingMs ?? 25_000;
    if (ms <= 0) return;
    this.pingTimer = this.setTimer(() => {
      const s = this.socket;
      if (!s) return;
      if (this.awaitingPong) {
        // No answer to the last ping: the link is dead without a close frame.
        this.handleClose(s, 4000);
        s.close(4000, 'ping timeout');
        return;
      }
      this.awaitingPong = true;
      try {
        s.send(JSON.stringify({ type: 'ping' }));
      } catch {
        /* close follows */
      }
      this.schedulePing();
    }, ms);
  }

  private authLost(err: unknown): void {
    this.stop();
    this.opts.onAuthLost?.(err);
  }

  private clearTimers(): void {
    if (this.retryTimer !== null) this.clearTimer(this.retryTimer);
    if (this.pingTimer !== null) this.clearTimer(this.pingTimer);
    this.retryTimer = null;
    this.pingTimer = null;
    this.awaitingPong = false;
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.opts.onState?.(state);
  }
}

function detach(s: SocketLike): void {
  s.onopen = null;
  s.onmessage = null;
  s.onclose = null;
  s.onerror = null;
}

function isAuthLost(err: unknown): boolean {
  return err instanceof Error && err.name === 'AuthLostError';
}
