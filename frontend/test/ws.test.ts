import { describe, expect, it, vi } from 'vitest';
import type { ServerFrame } from '../src/api/types';
import { Backoff } from '../src/ws/backoff';
import { type SocketLike, WsClient } from '../src/ws/client';
import { wsUrl } from '../src/ws/url';

class FakeSocket implements SocketLike {
  onopen: SocketLike['onopen'] = null;
  onmessage: SocketLike['onmessage'] = null;
  onclose: SocketLike['onclose'] = null;
  onerror: SocketLike['onerror'] = null;
  sent: string[] = [];
  closed = false;
  constructor(readonly url: string) {}
  send(d: string) {
    this.sent.push(d);
  }
  close() {
    this.closed = true;
  }
  frame(f: unknown) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  serverClose(code: number) {
    this.onclose?.({ code });
  }
}

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(opts: { token?: () => Promise<string | null>; forceRefresh?: (s: string) => Promise<string | null> } = {}) {
  const sockets: FakeSocket[] = [];
  const frames: ServerFrame[] = [];
  const states: string[] = [];
  let seq: number | null = null;
  const timers: { fn: () => void; ms: number }[] = [];
  const client = new WsClient({
    token: opts.token ?? (async () => 'tok'),
    forceRefresh: opts.forceRefresh ?? (async () => 'tok2'),
    lastSeq: () => seq,
    url: (t, since) => wsUrl({ protocol: 'http:', host: 'h:1' }, t, since),
    open: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    onFrame: (f) => {
      frames.push(f);
      if (f.type === 'hello') seq = f.seq;
      if (f.type === 'event') seq = f.seq;
    },
    onState: (s) => states.push(s),
    backoff: new Backoff({ random: () => 1 }),
    setTimer: (fn, ms) => {
      const t = { fn, ms };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      const i = timers.indexOf(h as { fn: () => void; ms: number });
      if (i >= 0) timers.splice(i, 1);
    },
    pingMs: 0,
  });
  return { client, sockets, frames, states, timers, setSeq: (n: number) => (seq = n) };
}

const hello = (seq: number, resumed = false) => ({ type: 'hello', seq, resumed, sessions: [], qr: {} });

describe('WsClient', () => {
  it('connects without since first, then resumes with the last seq seen', async () => {
    const t = setup();
    t.client.start();
    await tick();
    expect(t.sockets[0].url).toBe('ws://h:1/api/v1/ws?token=tok');
    t.sockets[0].frame(hello(4));
    t.sockets[0].frame({ type: 'event', seq: 5, event: 'session.deleted', session_id: 'x', at: '', data: { id: 'x' } });
    expect(t.states).toEqual(['connecting', 'connected']);
    t.sockets[0].serverClose(1006);
    expect(t.states.at(-1)).toBe('reconnecting');
    expect(t.timers).toHaveLength(1);
    t.timers.shift()!.fn();
    await tick();
    expect(t.sockets[1].url).toBe('ws://h:1/api/v1/ws?token=tok&since=5');
  });

  it('refreshes the token on 4401 and reconnects at once', async () => {
    let token = 'old';
    const forceRefresh = vi.fn(async () => {
      token = 'new';
      return token;
    });
    const t = setup({ token: async () => token, forceRefresh });
    t.client.start();
    await tick();
    t.sockets[0].frame(hello(1));
    t.sockets[0].serverClose(4401);
    await tick();
    await tick();
    expect(forceRefresh).toHaveBeenCalledWith('old');
    expect(t.sockets[1].url).toBe('ws://h:1/api/v1/ws?token=new&since=1');
    expect(t.timers).toHaveLength(0);
  });

  it('reconnects at once with since after 4008 (too slow)', async () => {
    const t = setup();
    t.client.start();
    await tick();
    t.sockets[0].frame(hello(9));
    t.sockets[0].serverClose(4008);
    await tick();
    expect(t.sockets[1].url).toContain('since=9');
  });

  it('backs off exponentially while the server is away, and resets after hello', async () => {
    const t = setup();
    t.client.start();
    await tick();
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      t.sockets[t.sockets.length - 1].serverClose(1006);
      await tick();
      await tick();
      const timer = t.timers.shift()!;
      delays.push(timer.ms);
      timer.fn();
      await tick();
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000]);
    t.sockets[t.sockets.length - 1].frame(hello(1));
    t.sockets[t.sockets.length - 1].serverClose(1006);
    expect(t.timers[0].ms).toBe(500);
  });

  it('stops cleanly and reports a lost login', async () => {
    const onLost = vi.fn();
    const lost = Object.assign(new Error('gone'), { name: 'AuthLostError' });
    const t = setup({ forceRefresh: async () => { throw lost; } });
    (t.client as unknown as { opts: { onAuthLost: () => void } }).opts.onAuthLost = onLost;
    t.client.start();
    await tick();
    t.sockets[0].frame(hello(1));
    t.sockets[0].serverClose(4401);
    await tick();
    await tick();
    expect(onLost).toHaveBeenCalled();
    expect(t.client.connectionState).toBe('idle');
    expect(t.sockets).toHaveLength(1);
  });

  it('ignores frames that are not JSON and pongs', async () => {
    const t = setup();
    t.client.start();
    await tick();
    t.sockets[0].onmessage?.({ data: 'garbage' });
    t.sockets[0].frame({ type: 'pong' });
    expect(t.frames).toEqual([]);
  });
});

describe('Backoff', () => {
  it('caps the delay and jitters within [d/2, d]', () => {
    const b = new Backoff({ baseMs: 100, maxMs: 1000, random: () => 0 });
    const ds = Array.from({ length: 6 }, () => b.next());
    expect(ds).toEqual([50, 100, 200, 400, 500, 500]);
  });
});

describe('WsClient pings', () => {
  it('drops a silent connection and reconnects', async () => {
    const sockets: FakeSocket[] = [];
    const timers: { fn: () => void; ms: number }[] = [];
    const client = new WsClient({
      token: async () => 't',
      forceRefresh: async () => 't',
      lastSeq: () => 3,
      url: (t, since) => `ws://x/?token=${t}&since=${since}`,
      open: (url) => {
        const s = new FakeSocket(url);
        sockets.push(s);
        return s;
      },
      onFrame: () => {},
      backoff: new Backoff({ random: () => 1 }),
      setTimer: (fn, ms) => {
        const t = { fn, ms };
        timers.push(t);
        return t;
      },
      clearTimer: (h) => {
        const i = timers.indexOf(h as { fn: () => void; ms: number });
        if (i >= 0) timers.splice(i, 1);
      },
      pingMs: 1000,
    });
    client.start();
    await tick();
    sockets[0].frame(hello(3));
    timers.shift()!.fn(); // first ping
    expect(sockets[0].sent).toEqual(['{"type":"ping"}']);
    sockets[0].frame({ type: 'pong' });
    timers.shift()!.fn(); // second ping, answered
    expect(sockets[0].sent).toHaveLength(2);
    timers.shift()!.fn(); // no pong since: give up on this socket
    expect(sockets[0].closed).toBe(true);
    expect(client.connectionState).toBe('reconnecting');
    timers.shift()!.fn(); // backoff retry
    await tick();
    expect(sockets[1].url).toBe('ws://x/?token=t&since=3');
  });
});
