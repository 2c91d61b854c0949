import type { ServerInfo } from '../api/types';
import { api } from '../services';

let pending: Promise<ServerInfo | null> | null = null;

/** GET /api/v1/server once per page load (it needs no login); `null` when it cannot be read. */
export function serverInfo(): Promise<ServerInfo | null> {
  pending ??= api.serverInfo().catch(() => {
    pending = null;
    return null;
  });
  return pending;
}
