import { describe, expect, it, vi } from 'vitest';
import { Auth } from '../src/api/auth';
import { ApiError, AuthLostError } from '../src/api/errors';
import type { TokenPair } from '../src/api/types';
import { memoryStorage } from './memstore';

function pair(n: number, expires_in = 900): TokenPair {
  return { access_token: `a${n}`, refresh_token: `r${n}`, token_type: 'Bearer', expires_in };
}

function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('Auth', () => {
  it('stores a pair with its expiry', () => {
    const storage = memoryStorage();
    const auth = new Auth({ storage, exchange: vi.fn(), now: () => 1000 });
    auth.accept(pair(1, 900));
    expect(storage.value).toEqual({ access: 'a1', refresh: 'r1', expiresAt: 901_000, lifetimeMs: 900_000 });
  });

  it('returns the access token while it is fresh', async () => {
    const exchange = vi.fn();
    const auth = new Auth({ storage: memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 100_000 }), exchange, now: () => 0 });
    expect(await auth.accessToken()).toBe('a1');
    expect(exchange).not.toHaveBeenCalled();
  });

  it('refreshes before expiry and stores the rotated refresh token', async () => {
    let now = 0;
    const storage = memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 40_000 });
    const exchange = vi.fn(async (r: string) => (r === 'r1' ? pair(2) : pair(3)));
    const auth = new Auth({ storage, exchange, now: () => now, skewMs: 30_000 });
    now = 15_000;
    expect(await auth.accessToken()).toBe('a2');
    expect(storage.value?.refresh).toBe('r2');
    now = 15_000 + 900_000;
    expect(await auth.accessToken()).toBe('a3');
    expect(exchange.mock.calls.map((c) => c[0])).toEqual(['r1', 'r2']);
  });

  it('runs a single refresh for concurrent callers', async () => {
    const d = deferred<TokenPair>();
    const exchange = vi.fn(() => d.promise);
    const auth = new Auth({ storage: memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 0 }), exchange, now: () => 10 });
    const calls = [auth.accessToken(), auth.accessToken(), auth.refresh('a1'), auth.refresh()];
    d.resolve(pair(2));
    expect(await Promise.all(calls)).toEqual(['a2', 'a2', 'a2', 'a2']);
    expect(exchange).toHaveBeenCalledTimes(1);
    // a later refresh is a new request with the rotated token
    exchange.mockImplementation(async () => pair(3));
    expect(await auth.refresh()).toBe('a3');
    expect(exchange).toHaveBeenLastCalledWith('r2');
  });

  it('adopts a pair rotated by another tab instead of reusing the old refresh token', async () => {
    const storage = memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 0 });
    const exchange = vi.fn(async () => pair(9));
    const auth = new Auth({ storage, exchange, now: () => 10 });
    storage.value = { access: 'a2', refresh: 'r2', expiresAt: 900_000 }; // the other tab
    expect(await auth.refresh('a1')).toBe('a2');
    expect(exchange).not.toHaveBeenCalled();
    expect(auth.current?.refresh).toBe('r2');
  });

  it('logs out when the refresh token is refused', async () => {
    const storage = memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 0 });
    const exchange = vi.fn(async () => {
      throw new ApiError(401, { title: 'Unauthorized', code: 'unauthorized' });
    });
    const auth = new Auth({ storage, exchange, now: () => 10 });
    const seen: unknown[] = [];
    auth.subscribe((t) => seen.push(t));
    await expect(auth.accessToken()).rejects.toBeInstanceOf(AuthLostError);
    expect(storage.value).toBeNull();
    expect(seen).toEqual([null]);
  });

  it('keeps the tokens when the refresh fails on the network', async () => {
    const storage = memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 0 });
    const auth = new Auth({ storage, exchange: async () => { throw new TypeError('offline'); }, now: () => 10 });
    await expect(auth.refresh()).rejects.toThrow('offline');
    expect(storage.value?.refresh).toBe('r1');
  });
});

describe('Auth with short-lived tokens', () => {
  it('refreshes a quarter of the lifetime early, not on every call', async () => {
    let now = 0;
    const storage = memoryStorage();
    let n = 1;
    const exchange = vi.fn(async () => pair(++n, 8));
    const auth = new Auth({ storage, exchange, now: () => now });
    auth.accept(pair(1, 8));
    now = 5_000;
    expect(await auth.accessToken()).toBe('a1');
    now = 6_500;
    expect(await auth.accessToken()).toBe('a2');
    expect(await auth.accessToken()).toBe('a2');
    expect(exchange).toHaveBeenCalledTimes(1);
  });
});

describe('Auth across tabs', () => {
  const jwt = (sub: string) => `h.${btoa(JSON.stringify({ sub })).replace(/=+$/, '')}.s`;

  it('adopts a rotation, follows a logout and spots another user', () => {
    const storage = memoryStorage({ access: jwt('u1'), refresh: 'r1', expiresAt: 1e15 });
    const auth = new Auth({ storage, exchange: vi.fn() });
    expect(auth.syncFromStorage()).toBe('unchanged');
    storage.value = { access: jwt('u1') + 'x', refresh: 'r2', expiresAt: 1e15 };
    expect(auth.syncFromStorage()).toBe('rotated');
    expect(auth.current?.refresh).toBe('r2');
    storage.value = { access: jwt('u2'), refresh: 'r9', expiresAt: 1e15 };
    expect(auth.syncFromStorage()).toBe('other_user');
    storage.value = null;
    expect(auth.syncFromStorage()).toBe('logged_out');
    expect(auth.loggedIn).toBe(false);
  });

  it('reads the subject of a JWT', async () => {
    const { jwtSubject } = await import('../src/api/auth');
    expect(jwtSubject(jwt('abc'))).toBe('abc');
    expect(jwtSubject('opaque')).toBeNull();
  });
});
