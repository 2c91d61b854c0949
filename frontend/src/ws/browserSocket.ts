import type { SocketLike } from './client';

/** Adapts a browser WebSocket to the SocketLike the client drives. */
export function openBrowserSocket(url: string): SocketLike {
  const ws = new WebSocket(url);
  const s: SocketLike = {
    onopen: null,
    onmessage: null,
    onclose: null,
    onerror: null,
    send: (data) => ws.send(data),
    close: (code, reason) => ws.close(code, reason),
  };
  ws.onopen = (ev) => s.onopen?.(ev);
  ws.onmessage = (ev) => s.onmessage?.({ data: ev.data });
  ws.onclose = (ev) => s.onclose?.({ code: ev.code, reason: ev.reason });
  ws.onerror = (ev) => s.onerror?.(ev);
  return s;
}
