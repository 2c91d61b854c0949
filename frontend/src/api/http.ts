import type { Auth } from './auth';
import { AuthLostError, NetworkError, errorFromResponse } from './errors';

export type FetchFn = (input: string, init?: RequestInit) => Promise<Response>;

export interface RequestOptions {
  body?: unknown;
  /** Send the bearer token (default true). */
  auth?: boolean;
  /** Extra query parameters; undefined/null/'' values are left out. */
  query?: Record<string, string | number | undefined | null>;
  accept?: string;
}

/** fetch + JSON + problem bodies + one silent token refresh on 401. */
export class Http {
  constructor(
    private readonly auth: Auth,
    private readonly fetchFn: FetchFn,
    private readonly base = '',
    private readonly onAuthLost: () => void = () => {},
  ) {}

  async json<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const res = await this.send(method, path, opts);
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  async blob(path: string, opts: RequestOptions = {}): Promise<Blob> {
    const res = await this.send('GET', path, opts);
    return res.blob();
  }

  async send(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const useAuth = opts.auth !== false;
    let token = useAuth ? await this.tokenOrLost() : null;
    let res = await this.once(method, path, opts, token);
    if (res.status === 401 && useAuth && token) {
      token = await this.refreshOrLost(token);
      res = await this.once(method, path, opts, token);
      if (res.status === 401) {
        this.auth.clear();
        this.onAuthLost();
        throw new AuthLostError();
      }
    }
    if (!res.ok) throw await errorFromResponse(res);
    return res;
  }

  private async tokenOrLost(): Promise<string> {
    try {
      const t = await this.auth.accessToken();
      if (t) return t;
    } catch (err) {
      if (!(err instanceof AuthLostError)) throw err;
    }
    this.onAuthLost();
    throw new AuthLostError();
  }

  private async refreshOrLost(stale: string): Promise<string> {
    try {
      return await this.auth.refresh(stale);
    } catch (err) {
      if (err instanceof AuthLostError) this.onAuthLost();
      throw err;
    }
  }

  private async once(
    method: string,
    path: string,
    opts: RequestOptions,
    token: string | null,
  ): Promise<Response> {
    const headers: Record<string, string> = { Accept: opts.accept ?? 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    try {
      return await this.fetchFn(this.base + path + queryString(opts.query), { method, headers, body });
    } catch (err) {
      throw new NetworkError(err);
    }
  }
}

export function queryString(q?: RequestOptions['query']): string {
  if (!q) return '';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === '') continue;
    parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}
