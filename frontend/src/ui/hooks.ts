import { useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from '../api/errors';
import type { State } from '../state/state';
import { store } from '../services';
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

/** Runs an async action, tracking busy state and the error message. */
export function useAction(): {
  busy: boolean;
  error: string;
  run: <T>(fn: () => Promise<T>) => Promise<T | undefined>;
  setError: (e: string) => void;
} {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState('');
  const mounted = useRef(true);
  useEffect(() => () => {
    mounted.current = false;
  }, []);
  const run = async <T,>(fn: () => Promise<T>): Promise<T | undefined> => {
    setBusy(true);
    setError('');
    try {
      return await fn();
    } catch (err) {
      if (mounted.current) setError(describeError(err));
      return undefined;
    } finally {
      if (mounted.current) setBusy(false);
    }
  };
  return { busy, error, run, setError };
}
