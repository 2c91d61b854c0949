import type { Problem } from './types';

/** An HTTP error answered by the server, carrying its RFC 9457 problem body. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly retryAfter: number | null;

  constructor(status: number, problem: Problem, retryAfter: number | null = null) {
    const title = problem.title || `HTTP ${status}`;
    const detail = problem.detail || '';
    super(detail ? `${title}: ${detail}` : title);
    this.name = 'ApiError';
    this.status = status;
    this.code = problem.code || codeForStatus(status);
    this.title = title;
    this.detail = detail;
    this.retryAfter = retryAfter;
  }
}

/** The request never got an answer (server down, offline, CORS, aborted). */
export class NetworkError extends Error {
  constructor(cause: unknown) {
    super(`Cannot reach the server (${cause instanceof Error ? cause.message : String(cause)})`);
    this.name = 'NetworkError';
  }
}

/** The session could not be renewed: the user has to log in again. */
export class AuthLostError extends Error {
  constructor() {
    super('Your login has expired. Please log in again.');
    this.name = 'AuthLostError';
  }
}

function codeForStatus(status: number): string {
  if (status === 401) return 'unauthorized';
  if (status === 403) return 'forbidden';
  if (status === 404) return 'not_found';
  if (status === 429) return 'rate_limited';
  return status >= 500 ? 'server_error' : 'http_error';
}

const FRIENDLY: Record<string, string> = {
  invalid_credentials: 'Wrong email or password.',
  registration_closed: 'Registration is closed on this server.',
  name_taken: 'You already have a session with that name.',
  phone_in_use: 'That phone number is already linked to an active session.',
  invalid_phone: 'That phone number is not valid (8 to 15 digits).',
  instance_limit_reached: 'You have reached your session limit.',
  no_qr: 'No QR code is on offer for this session right now.',
  session_not_connected: 'This session is not connected.',
  no_connected_session: 'No connected session can send this message.',
  daily_limit_reached: 'The daily message limit of this session is reached.',
  rate_limited: 'Too many attempts. Please wait and try again.',
  payload_too_large: 'That is too large for the server.',
};

/** One sentence a person can act on, for any thrown value. */
export function describeError(err: unknown): string {
  if (err instanceof ApiError) {
    const friendly = FRIENDLY[err.code];
    const wait = err.retryAfter ? ` (retry in ${err.retryAfter}s)` : '';
    if (friendly && err.detail && !sameText(friendly, err.detail)) {
      return `${friendly} ${err.detail}${wait}`;
    }
    if (friendly) return friendly + wait;
    return err.message + wait;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function sameText(a: string, b: string): boolean {
  const norm = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  return norm(a) === norm(b);
}

/** Parses a failed response into an ApiError, whatever its body is. */
export async function errorFromResponse(res: Response): Promise<ApiError> {
  let problem: Problem = {};
  const text = await res.text().catch(() => '');
  if (text) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (parsed && typeof parsed === 'object') problem = parsed as Problem;
    } catch {
      problem = { detail: text.slice(0, 300) };
    }
  }
  if (!problem.title) problem.title = res.statusText || `HTTP ${res.status}`;
  const ra = res.headers.get('Retry-After');
  const retryAfter = ra && /^\d+$/.test(ra) ? Number(ra) : null;
  return new ApiError(res.status, problem, retryAfter);
}
