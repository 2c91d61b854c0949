import { useEffect, useRef, useState } from 'preact/hooks';
import { type Notice, noticeFor } from '../api/errors';
import type { State } from '../state/state';
import { recoveries, store } from '../services';
import type { Signal } from './signal';

/** Subscribes to a slice of the store; re-renders when the slice changes identity. */
export function useStore<T>(select: (s: State) => T): T {
  const [value, setValue] = useState(() => select(store.getState()));
  const selectRef = useRef(select);
  selectRef.current = select;
  useEffect(() => {
    const update = () => setValue(() => selectRef.current(store.getState()));
    update();
    return store.subscribe(update);
  }, []);
  return value;
}

export function useSignal<T>(signal: Signal<T>): T {
  const [value, setValue] = useState(() => signal.get());
  useEffect(() => {
    setValue(() => signal.get());
    return signal.subscribe((v) => setValue(() => v));
  }, [signal]);
  return value;
}

/** The current time, ticking every `ms` while mounted. */
export function useNow(ms = 1000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

/** How long a success or info notice stays before it goes away by itself. */
export const PASSING_NOTICE_MS = 6000;

export interface Action {
  busy: boolean;
  notice: Notice | null;
  /** Runs `fn`; a failure becomes the notice, a success shows `done` when given. */
  run: <T>(fn: () => Promise<T>, done?: string | Notice) => Promise<T | undefined>;
  say: (notice: Notice | null) => void;
  dismiss: () => void;
}

/**
 * An async action with its one notice. The notice goes away when dismissed, when the next
 * run starts, when `staleKey` changes (what it was about has moved on), when the server
 * comes back (for "cannot reach the server"), or by itself after a while for good news.
 */
export function useAction(staleKey?: unknown): Action {
  const [busy, setBusy] = useState(false);
  const [notice, setNotice] = useState<Notice | null>(null);
  const mounted = useRef(true);
  const busyRef = useRef(false);
  useEffect(() => () => {
    mounted.current = false;
  }, []);
  useEffect(() => {
    if (!busyRef.current) setNotice(null);
  }, [staleKey]);
  useEffect(() => recoveries.subscribe(() => setNotice((n) => (n?.network ? null : n))), []);
  useEffect(() => {
    if (!notice || notice.tone === 'error' || notice.tone === 'warning') return;
    const t = setTimeout(() => setNotice((n) => (n === notice ? null : n)), PASSING_NOTICE_MS);
    return () => clearTimeout(t);
  }, [notice]);

  const run = async <T,>(fn: () => Promise<T>, done?: string | Notice): Promise<T | undefined> => {
    busyRef.current = true;
    setBusy(true);
    setNotice(null);
    try {
      const out = await fn();
      if (mounted.current && done) setNotice(typeof done === 'string' ? { tone: 'success', text: done } : done);
      return out;
    } catch (err) {
      if (mounted.current) setNotice(noticeFor(err));
      return undefined;
    } finally {
      busyRef.current = false;
      if (mounted.current) setBusy(false);
    }
  };
  return { busy, notice, run, say: setNotice, dismiss: () => setNotice(null) };
}

/** Focus an element once the next render has put it on the page. */
export function focusSoon(find: () => HTMLElement | null | undefined): void {
  requestAnimationFrame(() => requestAnimationFrame(() => find()?.focus()));
}
