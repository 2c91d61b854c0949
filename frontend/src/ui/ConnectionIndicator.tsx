import { connection } from '../services';
import { useSignal } from './hooks';

const TEXT = {
  idle: 'Offline',
  connecting: 'Connecting…',
  connected: 'Live',
  reconnecting: 'Reconnecting…',
} as const;

export function ConnectionIndicator() {
  const state = useSignal(connection);
  return (
    <span class={`conn conn-${state}`} role="status" aria-live="polite" data-testid="connection" data-state={state}>
      <span class="dot" aria-hidden="true" />
      {TEXT[state]}
    </span>
  );
}
