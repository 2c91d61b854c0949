import { describe, expect, it, vi } from 'vitest';
import { Auth } from '../src/api/auth';
import { ApiError, AuthLostError, describeError } from '../src/api/errors';
import { Http, queryString } from '../src/api/http';
import { memoryStorage } from './memstore';

function json(status: number, body: unknown, type = 'application/json'): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), { status, headers: { 'Content-Type': type } });
}

describe('Http', () => {
  it('sends the bearer token and parses JSON', async () => {
    const fetchFn = vi.fn(async () => json(200, { ok: 1 }));
    const auth = new Auth({ storage: memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 1e15 }), exchange: vi.fn() });
    const http = new Http(auth, fetchFn);
    expect(await http.json('POST', '/x', { body: { a: 1 }, query: { q: 'a b', empty: '' } })).toEqual({ ok: 1 });
    const [url, init] = fetchFn.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/x?q=a%20b');
    expect((init.headers as Record<string, string>).Authorization).toBe('Bearer a1');
    expect(init.body).toBe('{"a":1}');
  });

  it('turns a problem body into an ApiError with a clear message', async () => {
    const auth = new Auth({ storage: memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 1e15 }), exchange: vi.fn() });
    const http = new Http(auth, async () =>
      json(409, { type: 'about:blank', title: 'Conflict', status: 409, detail: 'name "x" is taken', code: 'name_taken' }, 'application/problem+json'),
    );
    const err = await http.json('POST', '/s').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).code).toBe('name_taken');
    expect(describeError(err)).toBe('You already have a session with that name.');
  });

  it('refreshes once on 401 and retries with the new token', async () => {
    const fetchFn = vi.fn(async (_url: string, init?: RequestInit) => {
      const authz = (init?.headers as Record<string, string>).Authorization;
      return authz === 'Bearer a2' ? json(200, [1]) : json(401, { title: 'Unauthorized', code: 'unauthorized' });
    });
    const exchange = vi.fn(async () => ({ access_token: 'a2', refresh_token: 'r2', token_type: 'Bearer', expires_in: 900 }));
    const auth = new Auth({ storage: memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 1e15 }), exchange });
    const http = new Http(auth, fetchFn);
    const results = await Promise.all([http.json('GET', '/a'), http.json('GET', '/b'), http.json('GET', '/c')]);
    expect(results).toEqual([[1], [1], [1]]);
    expect(exchange).toHaveBeenCalledTimes(1);
  });

  it('reports a lost login when the refresh is refused', async () => {
    const onLost = vi.fn();
    const exchange = vi.fn(async () => {
      throw new ApiError(401, { code: 'unauthorized' });
    });
    const auth = new Auth({ storage: memoryStorage({ access: 'a1', refresh: 'r1', expiresAt: 1e15 }), exchange });
    const http = new Http(auth, async () => json(401, { code: 'unauthorized' }), '', onLost);
    await expect(http.json('GET', '/a')).rejects.toBeInstanceOf(AuthLostError);
    expect(onLost).toHaveBeenCalled();
    expect(auth.loggedIn).toBe(false);
  });

  it('does not send a token on auth endpoints', async () => {
    const fetchFn = vi.fn(async () => json(204, undefined));
    const auth = new Auth({ storage: memoryStorage(), exchange: vi.fn() });
    await new Http(auth, fetchFn).json('POST', '/login', { auth: false, body: {} });
    const init = (fetchFn.mock.calls[0] as unknown as [string, RequestInit])[1];
    expect((init.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('builds query strings', () => {
    expect(queryString({ a: 1, b: undefined, c: null, d: 'x&y' })).toBe('?a=1&d=x%26y');
    expect(queryString({})).toBe('');
  });
});
