import { statusLabel, statusTone } from './format';

export function StatusBadge({ status }: { status: string }) {
  return (
    <span class={`badge tone-${statusTone(status)}`} data-status={status}>
      <span class="dot" aria-hidden="true" />
      {statusLabel(status)}
    </span>
  );
}
