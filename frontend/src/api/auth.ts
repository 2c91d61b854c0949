import type { TokenPair } from './types';
import { ApiError, AuthLostError } from './errors';

export interface Tokens {
  access: string;
  refresh: string;
  /** Epoch milliseconds at which the access token expires. */
  expiresAt: number;
  /** How long the access token was valid when issued. */
  lifetimeMs?: number;
}

export interface TokenStorage {
  load(): Tokens | null;
  save(tokens: Tokens | null): void;
}

/** Runs `fn` while holding a lock shared by every tab (Web Locks API), or just runs it. */
export type LockRunner = <T>(fn: () => Promise<T>) => Promise<T>;

export interface AuthOptions {
  storage: TokenStorage;
  /** Exchanges a refresh token for a new pair (POST /auth/refresh). */
  exchange: (refreshToken: string) => Promise<TokenPair>;
  now?: () => number;
  withLock?: LockRunner;
  /** Refresh this long before the access token actually expires. */
  skewMs?: number;
}

type Listener = (tokens: Tokens | null) => void;

/**
 * Holds the token pair and renews it. Refresh tokens rotate on every use, so two
 * refreshes racing with the same refresh token would revoke the whole family: all
 * callers share one in-flight refresh, and tabs coordinate through a lock.
 */
export class Auth {
  private tokens: Tokens | null;
  private inflight: Promise<string> | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly storage: TokenStorage;
  private readonly exchange: (refreshToken: string) => Promise<TokenPair>;
  private readonly now: () => number;
  private readonly withLock: LockRunner;
  private readonly skewMs: number;

  constructor(opts: AuthOptions) {
    this.storage = opts.storage;
    this.exchange = opts.exchange;
    this.now = opts.now ?? Date.now;
    this.withLock = opts.withLock ?? ((fn) => fn());
    this.skewMs = opts.skewMs ?? 30_000;
    this.tokens = this.storage.load();
  }

  get current(): Tokens | null {
    return this.tokens;
  }

  get loggedIn(): boolean {
    return this.tokens !== null;
  }

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stores a pair answered by register, login or refresh. */
  accept(pair: TokenPair): Tokens {
    const tokens: Tokens = {
      access: pair.access_token,
      refresh: pair.refresh_token,
      expiresAt: this.now() + Math.max(0, pair.expires_in) * 1000,
      lifetimeMs: Math.max(0, pair.expires_in) * 1000,
    };
    this.set(tokens);
    return tokens;
  }

  clear(): void {
    this.set(null);
  }

  /**
   * Another tab changed the stored pair (rotation, login or logout): take it over
   * without writing it back. Returns what happened.
   */
  syncFromStorage(): 'unchanged' | 'rotated' | 'logged_out' | 'other_user' {
    const stored = this.storage.load();
    const mine = this.tokens;
    if (!stored) {
      if (!mine) return 'unchanged';
      this.set(null, false);
      return 'logged_out';
    }
    if (mine && stored.refresh === mine.refresh && stored.access === mine.access) return 'unchanged';
    const sameUser = !mine || jwtSubject(stored.access) === jwtSubject(mine.access);
    this.set(stored, false);
    return sameUser ? 'rotated' : 'other_user';
  }

  /** A usable access token, refreshed first when it is about to expire; null when logged out. */
  async accessToken(): Promise<string | null> {
    if (!this.tokens) return null;
    if (this.fresh(this.tokens)) return this.tokens.access;
    return this.refresh();
  }

  /** Still usable for a while: the margin is a quarter of a short lifetime, at most skewMs. */
  private fresh(t: Tokens): boolean {
    const margin = t.lifetimeMs ? Math.min(this.skewMs, t.lifetimeMs / 4) : this.skewMs;
    return t.expiresAt - margin > this.now();
  }

  /**
   * Renews the pair. Concurrent callers share one request. `staleAccess` is the
   * access token the caller saw rejected: if another tab already replaced it,
   * the stored pair is adopted instead of spending the refresh token again.
   */
  refresh(staleAccess?: string): Promise<string> {
    if (!this.inflight) {
      this.inflight = this.withLock(() => this.doRefresh(staleAccess)).finally(() => {
        this.inflight = null;
      });
    }
    return this.inflight;
  }

  private async doRefresh(staleAccess?: string): Promise<string> {
    const stored = this.storage.load();
    const mine = this.tokens;
    if (!stored) {
      // Logged out elsewhere.
      this.set(null);
      throw new AuthLostError();
    }
    if (mine && stored.refresh !== mine.refresh && this.fresh(stored)) {
      // Another tab rotated the pair while we waited for the lock.
      this.set(stored, false);
      return stored.access;
    }
    if (staleAccess && stored.access !== staleAccess && this.fresh(stored)) {
      this.set(stored, false);
      return stored.access;
    }
    try {
      const pair = await this.exchange(stored.refresh);
      return this.accept(pair).access;
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 403 || err.status === 400)) {
        this.set(null);
        throw new AuthLostError();
      }
      throw err;
    }
  }

  private set(tokens: Tokens | null, persist = true): void {
    this.tokens = tokens;
    if (persist) this.storage.save(tokens);
    for (const l of this.listeners) l(tokens);
  }
}

/** TokenStorage on top of window.localStorage (or any Storage). */
export function webStorage(store: Storage, key = 'wahub.tokens'): TokenStorage {
  return {
    load() {
      const raw = store.getItem(key);
      if (!raw) return null;
      try {
        const v: unknown = JSON.parse(raw);
        if (
          v && typeof v === 'object' &&
          typeof (v as Tokens).access === 'string' &&
          typeof (v as Tokens).refresh === 'string' &&
          typeof (v as Tokens).expiresAt === 'number'
        ) {
          return v as Tokens;
        }
      } catch {
        /* fall through */
      }
      return null;
    },
    save(tokens) {
      if (tokens) store.setItem(key, JSON.stringify(tokens));
      else store.removeItem(key);
    },
  };
}

/** Cross-tab lock through the Web Locks API where the browser has it. */
export function browserLock(name = 'wahub-refresh'): LockRunner {
  return <T,>(fn: () => Promise<T>): Promise<T> => {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks) return fn();
    return locks.request(name, () => fn()) as Promise<T>;
  };
}

/** The `sub` claim of a JWT, without verifying it (only to tell users apart). */
export function jwtSubject(token: string): string | null {
  const part = token.split('.')[1];
  if (!part) return null;
  try {
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
    const payload: unknown = JSON.parse(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)));
    if (payload && typeof payload === 'object' && typeof (payload as { sub?: unknown }).sub === 'string') {
      return (payload as { sub: string }).sub;
    }
  } catch {
    /* not a JWT */
  }
  return null;
}
